"""The simulated WeChat's memory: its apps, the codes it minted, session keys and access tokens.

Everything lives in one SQLite database, so every process that serves the simulator (gunicorn's workers,
the `flask` commands) sees the same apps, codes and session keys: a code minted by one worker is taken by
another exactly once. With no file it is a private in-memory database (the stand-alone test double).

No secret is kept in clear: an appSecret only as a salted HMAC (the simulator compares, it never sends
one), minted codes and access tokens only as digests, and the values the simulator must hand back
(session keys, the live access token) sealed with `sealer`, the console's key ring when mounted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography.fernet import Fernet
from flask import current_app

from console.security.keyring import KeyRing, KeyRingError

CODE_TTL = 300
TOKEN_TTL = 7200
ERRMSG = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40013: "invalid appid",
    40029: "invalid code",
    40125: "invalid appsecret",
    40163: "code been used",
    40226: "code blocked",
    41002: "appid missing",
    41004: "appsecret missing",
    41008: "missing code",
    45011: "api minute-quota reach limit mustslower retry next minute",
    87009: "invalid signature",
}

SCHEMA = """
CREATE TABLE IF NOT EXISTS apps (
    app_id TEXT PRIMARY KEY, salt BLOB NOT NULL, secret_digest BLOB NOT NULL, open_platform TEXT
);
CREATE TABLE IF NOT EXISTS codes (
    digest TEXT PRIMARY KEY, app_id TEXT NOT NULL, user TEXT NOT NULL, expires_at REAL NOT NULL,
    errcode INTEGER, fault TEXT, delay REAL NOT NULL, used INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS phone_codes (
    digest TEXT PRIMARY KEY, app_id TEXT NOT NULL, user TEXT NOT NULL, phone TEXT NOT NULL,
    country_code TEXT NOT NULL, errcode INTEGER, expires_at REAL NOT NULL, used INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS session_keys (
    app_id TEXT NOT NULL, user TEXT NOT NULL, sealed TEXT NOT NULL, PRIMARY KEY (app_id, user)
);
CREATE TABLE IF NOT EXISTS users (
    app_id TEXT NOT NULL, openid TEXT NOT NULL, user TEXT NOT NULL, PRIMARY KEY (app_id, openid)
);
CREATE TABLE IF NOT EXISTS tokens (
    digest TEXT PRIMARY KEY, app_id TEXT NOT NULL, expires_at REAL NOT NULL, sealed TEXT, live INTEGER NOT NULL
);
"""


class Sealer(Protocol):
    """Encrypts text and opens it again (the console's KeyRing); decrypt raises KeyRingError when it cannot."""

    def encrypt(self, plaintext: str) -> str:
        """Seal text."""
        ...

    def decrypt(self, ciphertext: str) -> str:
        """Open sealed text."""
        ...


@dataclass
class MintedCode:
    """A wx.login() code the simulator handed out, and what exchanging it does."""

    app_id: str
    user: str
    expires_at: float
    errcode: int | None = None
    fault: str | None = None
    delay: float = 0.0
    used: bool = False


def _stable_id(*parts: str) -> str:
    """An openid-like identifier (28 characters) derived from its parts, so it never changes."""
    raw = hashlib.sha256(":".join(parts).encode()).digest()
    return "o" + base64.urlsafe_b64encode(raw).decode()[:27]


def _digest(value: str) -> str:
    """How a code or token is looked up: random values of 128 bits and more need no salt."""
    return hashlib.sha256(value.encode()).hexdigest()


def _secret_digest(salt: bytes, secret: str) -> bytes:
    # appSecrets are random 128-bit values: a salted HMAC cannot be reversed, and it is cheap at every login.
    return hmac.new(salt, secret.encode(), hashlib.sha256).digest()


class SimulatorState:
    """The simulated WeChat's memory, in the SQLite file `state_path` (shared) or in memory (this process)."""

    def __init__(self, state_path: str | None = None, sealer: Sealer | None = None):
        self._path = Path(state_path) if state_path else None
        # Without the console's key ring the sealed values are this object's alone: fine in memory, and a file
        # opened with another key just shows no session key or token (they are fleeting), never a wrong one.
        self._sealer: Sealer = sealer or KeyRing(Fernet.generate_key().decode())
        self._lock = threading.Lock()
        self._local = threading.local()
        self._memory: sqlite3.Connection | None = None
        if self._path is None:
            self._memory = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
            self._memory.executescript(SCHEMA)
        else:
            self._create_file(self._path)
            self._take_in_legacy_json(self._path.with_suffix(".json"))

    @staticmethod
    def _create_file(path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))  # owner-only before SQLite writes a byte
        connection = sqlite3.connect(path, timeout=30, isolation_level=None)
        try:
            # WAL: readers never wait for a writer; the journal files inherit the database file's mode.
            connection.execute("PRAGMA journal_mode=WAL")
            connection.executescript(f"BEGIN IMMEDIATE; {SCHEMA} COMMIT;")
        finally:
            connection.close()

    def _take_in_legacy_json(self, legacy: Path) -> None:
        # Earlier versions kept the registry as JSON with the appSecrets in clear: hash them in, drop the file.
        if legacy == self._path or not legacy.exists():
            return
        for app_id, app in json.loads(legacy.read_text()).items():
            self.register_app(app_id, app["secret"], app.get("openPlatform"))
        legacy.unlink()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One transaction holding SQLite's write lock: across processes for a file, across threads in memory."""
        if self._memory is not None:
            with self._lock:
                yield from self._run(self._memory)
            return
        yield from self._run(self._connection())

    def _connection(self) -> sqlite3.Connection:
        """This thread's connection to the file, opened in this process: never one inherited across a fork."""
        held = getattr(self._local, "held", None)
        if held is None or held[0] != os.getpid():
            connection = sqlite3.connect(self._path, timeout=30, isolation_level=None)  # type: ignore[arg-type]
            # Under WAL, NORMAL syncs at checkpoints, not at every commit (a login makes several); kept open,
            # the connection also spares the checkpoint SQLite runs when the last one closes.
            connection.execute("PRAGMA synchronous=NORMAL")
            self._local.held = held = (os.getpid(), connection)
        return held[1]

    @staticmethod
    def _run(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield connection
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    def _open(self, sealed: str | None) -> str | None:
        try:
            return self._sealer.decrypt(sealed) if sealed else None
        except KeyRingError:
            return None

    @property
    def apps(self) -> dict[str, dict]:
        """The registered apps: {appId: {"openPlatform"}}, never a secret."""
        with self._transaction() as db:
            rows = db.execute("SELECT app_id, open_platform FROM apps ORDER BY app_id").fetchall()
        return {app_id: {"openPlatform": platform} for app_id, platform in rows}

    def has_app(self, app_id: str) -> bool:
        """Whether the simulator knows this appId."""
        with self._transaction() as db:
            return db.execute("SELECT 1 FROM apps WHERE app_id = ?", (app_id,)).fetchone() is not None

    def register_app(self, app_id: str, app_secret: str, open_platform: str | None = None) -> None:
        """Add or update an app; `open_platform` names the Open Platform account that gives unionids."""
        salt = secrets.token_bytes(16)
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO apps (app_id, salt, secret_digest, open_platform) VALUES (?, ?, ?, ?)",
                (app_id, salt, _secret_digest(salt, app_secret), open_platform),
            )

    def check_app(self, app_id: str, app_secret: str) -> int | None:
        """None when the appId and appSecret are right; else WeChat's errcode (40013 appId, 40125 appSecret)."""
        with self._transaction() as db:
            row = db.execute("SELECT salt, secret_digest FROM apps WHERE app_id = ?", (app_id,)).fetchone()
        if row is None:
            return 40013
        return None if hmac.compare_digest(_secret_digest(row[0], app_secret), row[1]) else 40125

    def identity(self, app_id: str, user: str) -> tuple[str, str | None]:
        """The (openid, unionid) of a simulated user in an app."""
        openid = _stable_id("openid", app_id, user)
        with self._transaction() as db:
            (platform,) = db.execute("SELECT open_platform FROM apps WHERE app_id = ?", (app_id,)).fetchone()
            db.execute("INSERT OR IGNORE INTO users (app_id, openid, user) VALUES (?, ?, ?)", (app_id, openid, user))
        return openid, _stable_id("unionid", platform, user) if platform else None

    def user_of_openid(self, app_id: str, openid: str) -> str | None:
        """The simulated user behind an openid the simulator handed out."""
        with self._transaction() as db:
            row = db.execute("SELECT user FROM users WHERE app_id = ? AND openid = ?", (app_id, openid)).fetchone()
        return row[0] if row else None

    def mint_code(self, app_id: str, user: str, errcode=None, fault=None, delay=0.0, code=None) -> str:
        """A fresh wx.login() code for the user in the app (random unless `code` is given)."""
        code = code or secrets.token_hex(16)
        now = time.time()
        with self._transaction() as db:
            db.execute("DELETE FROM codes WHERE expires_at <= ?", (now,))
            db.execute(
                "INSERT OR REPLACE INTO codes (digest, app_id, user, expires_at, errcode, fault, delay)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (_digest(code), app_id, user, now + CODE_TTL, errcode, fault, delay),
            )
        return code

    def take_code(self, app_id: str, js_code: str) -> tuple[MintedCode | None, int | None]:
        """Consume a code for an app: (the code, None) or (None, WeChat's errcode)."""
        with self._transaction() as db:
            row = db.execute(
                "SELECT app_id, user, expires_at, errcode, fault, delay, used FROM codes WHERE digest = ?",
                (_digest(js_code),),
            ).fetchone()
            if row is None or row[0] != app_id or row[2] <= time.time():
                return None, 40029
            if row[6]:
                return None, 40163
            db.execute("UPDATE codes SET used = 1 WHERE digest = ?", (_digest(js_code),))
        app, user, expires_at, errcode, fault, delay, _ = row
        return MintedCode(app, user, expires_at, errcode, fault, delay, used=True), None

    def stable_token(self, app_id: str, force_refresh: bool = False) -> tuple[str, int]:
        """The app's live access token (a new one when there is none, it expired, or a refresh is forced)."""
        now = time.time()
        with self._transaction() as db:
            row = db.execute(
                "SELECT sealed, expires_at FROM tokens WHERE app_id = ? AND live = 1 AND expires_at > ?", (app_id, now)
            ).fetchone()
            token = None if force_refresh or row is None else self._open(row[0])
            if token is not None:
                return token, int(row[1] - now)
            # A refreshed token leaves the old one valid until it expires, as WeChat's stable token does.
            db.execute("UPDATE tokens SET live = 0, sealed = NULL WHERE app_id = ?", (app_id,))
            db.execute("DELETE FROM tokens WHERE expires_at <= ?", (now,))
            token = secrets.token_urlsafe(48)
            db.execute(
                "INSERT INTO tokens (digest, app_id, expires_at, sealed, live) VALUES (?, ?, ?, ?, 1)",
                (_digest(token), app_id, now + TOKEN_TTL, self._sealer.encrypt(token)),
            )
        return token, TOKEN_TTL

    def reset_token(self, app_id: str) -> None:
        """Invalidate the app's access token, as a force refresh by another system would."""
        with self._transaction() as db:
            db.execute("DELETE FROM tokens WHERE app_id = ? AND live = 1", (app_id,))

    def app_of_token(self, token: str) -> str | None:
        """The appId a live access token belongs to."""
        with self._transaction() as db:
            row = db.execute(
                "SELECT app_id FROM tokens WHERE digest = ? AND expires_at > ?", (_digest(token), time.time())
            ).fetchone()
        return row[0] if row else None

    def mint_phone_code(self, app_id: str, user: str, phone: str, country_code: str, errcode=None) -> str:
        """A getPhoneNumber button code for the user."""
        code = secrets.token_hex(32)
        now = time.time()
        with self._transaction() as db:
            db.execute("DELETE FROM phone_codes WHERE expires_at <= ?", (now,))
            db.execute(
                "INSERT INTO phone_codes (digest, app_id, user, phone, country_code, errcode, expires_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (_digest(code), app_id, user, phone, country_code, errcode, now + CODE_TTL),
            )
        return code

    def take_phone_code(self, app_id: str, code: str) -> dict | None:
        """Consume a phone code of the app; None when unknown, expired, used or another app's."""
        with self._transaction() as db:
            row = db.execute(
                "SELECT app_id, user, phone, country_code, errcode, expires_at, used FROM phone_codes WHERE digest = ?",
                (_digest(code),),
            ).fetchone()
            if row is None or row[0] != app_id or row[6] or row[5] <= time.time():
                return None
            db.execute("UPDATE phone_codes SET used = 1 WHERE digest = ?", (_digest(code),))
        keys = ("appId", "user", "phone", "countryCode", "errcode", "expires")
        return {**dict(zip(keys, row[:6], strict=True)), "used": True}

    def new_session_key(self, app_id: str, user: str) -> str:
        """Give the user a fresh session_key, as WeChat does at every login."""
        key = base64.b64encode(secrets.token_bytes(16)).decode()
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO session_keys (app_id, user, sealed) VALUES (?, ?, ?)",
                (app_id, user, self._sealer.encrypt(key)),
            )
        return key

    def session_key(self, app_id: str, user: str) -> str | None:
        """The user's current session_key, or None before their first login."""
        with self._transaction() as db:
            row = db.execute("SELECT sealed FROM session_keys WHERE app_id = ? AND user = ?", (app_id, user)).fetchone()
        return self._open(row[0]) if row else None

    @property
    def session_keys(self) -> dict[tuple[str, str], str]:
        """Every current session_key: {(appId, user): key} (tests hunt for them in answers and logs)."""
        with self._transaction() as db:
            rows = db.execute("SELECT app_id, user, sealed FROM session_keys").fetchall()
        opened = {(app_id, user): self._open(sealed) for app_id, user, sealed in rows}
        return {where: key for where, key in opened.items() if key is not None}


def simulator_state() -> SimulatorState:
    """The state of the simulator mounted on the current app."""
    return current_app.extensions["wechat_simulator"]
