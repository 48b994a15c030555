"""The simulated WeChat's memory: its apps, the codes it minted, session keys and access tokens."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

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


class SimulatorState:
    """The simulated WeChat's memory: its apps (saved to `state_path` when given), codes and session keys."""

    def __init__(self, state_path: str | None = None):
        self._lock = threading.Lock()
        self._path = Path(state_path) if state_path else None
        self.apps: dict[str, dict] = {}
        self.codes: dict[str, MintedCode] = {}
        self.session_keys: dict[tuple[str, str], str] = {}
        self.users_by_openid: dict[tuple[str, str], str] = {}
        self.access_tokens: dict[str, tuple[str, float]] = {}  # token -> (appId, expires at)
        self.current_tokens: dict[str, str] = {}  # appId -> its live token
        self.phone_codes: dict[str, dict] = {}
        if self._path and self._path.exists():
            self.apps = json.loads(self._path.read_text())

    def register_app(self, app_id: str, app_secret: str, open_platform: str | None = None) -> None:
        """Add or update an app; `open_platform` names the Open Platform account that gives unionids."""
        with self._lock:
            self.apps[app_id] = {"secret": app_secret, "openPlatform": open_platform}
            if self._path:
                self._path.parent.mkdir(parents=True, exist_ok=True)
                temporary = self._path.with_suffix(".tmp")
                fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w") as handle:
                    json.dump(self.apps, handle)
                temporary.replace(self._path)

    def identity(self, app_id: str, user: str) -> tuple[str, str | None]:
        """The (openid, unionid) of a simulated user in an app."""
        platform = self.apps[app_id]["openPlatform"]
        openid = _stable_id("openid", app_id, user)
        self.users_by_openid[(app_id, openid)] = user
        return openid, _stable_id("unionid", platform, user) if platform else None

    def mint_code(self, app_id: str, user: str, errcode=None, fault=None, delay=0.0, code=None) -> str:
        """A fresh wx.login() code for the user in the app (random unless `code` is given)."""
        code = code or secrets.token_hex(16)
        with self._lock:
            now = time.time()
            self.codes = {key: value for key, value in self.codes.items() if value.expires_at > now}
            self.codes[code] = MintedCode(app_id, user, now + CODE_TTL, errcode, fault, delay)
        return code

    def take_code(self, app_id: str, js_code: str) -> tuple[MintedCode | None, int | None]:
        """Consume a code for an app: (the code, None) or (None, WeChat's errcode)."""
        with self._lock:
            minted = self.codes.get(js_code)
            if minted is None or minted.app_id != app_id or minted.expires_at <= time.time():
                return None, 40029
            if minted.used:
                return None, 40163
            minted.used = True
            return minted, None

    def stable_token(self, app_id: str, force_refresh: bool = False) -> tuple[str, int]:
        """The app's live access token (a new one when there is none, it expired, or a refresh is forced)."""
        with self._lock:
            now = time.time()
            token = self.current_tokens.get(app_id)
            if force_refresh or token is None or self.access_tokens[token][1] <= now:
                token = secrets.token_urlsafe(48)
                self.access_tokens[token] = (app_id, now + TOKEN_TTL)
                self.current_tokens[app_id] = token
            return token, int(self.access_tokens[token][1] - now)

    def reset_token(self, app_id: str) -> None:
        """Invalidate the app's access token, as a force refresh by another system would."""
        with self._lock:
            token = self.current_tokens.pop(app_id, None)
            if token is not None:
                self.access_tokens.pop(token, None)

    def app_of_token(self, token: str) -> str | None:
        """The appId a live access token belongs to."""
        app_id, expires_at = self.access_tokens.get(token, (None, 0))
        return app_id if expires_at > time.time() else None

    def mint_phone_code(self, app_id: str, user: str, phone: str, country_code: str, errcode=None) -> str:
        """A getPhoneNumber button code for the user."""
        code = secrets.token_hex(32)
        with self._lock:
            self.phone_codes[code] = {
                "appId": app_id,
                "user": user,
                "phone": phone,
                "countryCode": country_code,
                "errcode": errcode,
                "expires": time.time() + CODE_TTL,
                "used": False,
            }
        return code

    def take_phone_code(self, app_id: str, code: str) -> dict | None:
        """Consume a phone code of the app; None when unknown, expired, used or another app's."""
        with self._lock:
            minted = self.phone_codes.get(code)
            if minted is None or minted["appId"] != app_id or minted["used"] or minted["expires"] <= time.time():
                return None
            minted["used"] = True
            return minted

    def new_session_key(self, app_id: str, user: str) -> str:
        """Give the user a fresh session_key, as WeChat does at every login."""
        key = base64.b64encode(secrets.token_bytes(16)).decode()
        with self._lock:
            self.session_keys[(app_id, user)] = key
        return key


def simulator_state() -> SimulatorState:
    """The state of the simulator mounted on the current app."""
    return current_app.extensions["wechat_simulator"]
