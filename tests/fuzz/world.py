"""The fuzz's world (tests/fuzz/test_console_fuzz.py and test_api_fuzz.py): the oracle of every route, an app with
rows of every kind whose callers stay signed in, and the one call that checks an answer against the oracle.

The oracle is one table, ROUTES: for each route of app.url_map (every method but HEAD and OPTIONS), who may call it,
what it answers them, and which tables a success may change. A route without a row fails the fuzz, naming it: whoever
adds a route states its rules here, in one line.

On every call the fuzz proves: no 5xx; the status is one the oracle allows; a 4xx (or a caller the route refuses)
changed no row of any table; a success (2xx, 3xx) changed rows only in the tables its route may write. Rows are
compared whole (every column of every row, not only their number), so an update that a refusal makes is caught too.

FUZZ_STATS=1 adds, under the figures of the terminal summary, how often each route answered each status (to see that
successes happen); FUZZ_TRACE=1 (with -s) prints every call and the start of its answer.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from itertools import product
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit

import pytest
import requests
from cryptography.fernet import Fernet
from hypothesis import HealthCheck, Phase, settings
from sqlalchemy import Select, Text, cast, delete, func, literal_column, select, union_all
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect

from console import create_app
from console.api.openapi import API_PREFIX
from console.auth.views import SESSION_KEY
from console.errors import LoginError
from console.extensions import db
from console.models import AdminAccount, LoginMethod, SignInFailure, User
from console.services import bindings, users
from console.services.api_tokens import authenticate
from console.services.console_accounts import account_for_session
from tests.helpers import PASSWORD, Harness, Method, cheap_hash, row_counts

# The callers. The console's roles: nobody signed in, a support account, an admin. The API's: no credential at all,
# a credential that must not work (revoked, a disabled user's, malformed, a console cookie), a live bearer token.
ANONYMOUS, SUPPORT, ADMIN = "anonymous", "support", "admin"
STRANGER, BEARER = "stranger", "bearer"
CONSOLE_ROLES = (ANONYMOUS, SUPPORT, ADMIN)
API_CALLERS = (ANONYMOUS, STRANGER, BEARER)

ANYONE = frozenset({*CONSOLE_ROLES, *API_CALLERS})
SIGNED_IN = frozenset({SUPPORT, ADMIN})
ADMINS = frozenset({ADMIN})
BEARERS = frozenset({BEARER})


@dataclass(frozen=True)
class Promise:
    """What a route promises: who may call it, what it answers them, and the tables a success may change."""

    who: frozenset[str]
    answers: frozenset[int]
    writes: frozenset[str]


def may(who: frozenset[str], answers: set[int], writes: str = "") -> Promise:
    """A row of ROUTES: `writes` names, space-separated, the tables a success may change."""
    return Promise(who, frozenset(answers), frozenset(writes.split()))


# Refused callers get what the app gives them everywhere, so the rows leave it out: an anonymous visitor to a console
# page is sent to sign-in (302), a support account gets 403 from an admin page, and an API call without a live token
# answers 401 (or 400, 403, 404 for a body, a login method switched off or unknown: the body and the login method are
# checked first). The edge's answers hold for every route, too: 400 for NUL anywhere, 415 for JSON posted to the
# console, 404 for a path no rule matches (an id past the columns' range), 308 where werkzeug merges a double slash.
AUDIT = "audit_events"
ENDED_ACCESS = "wechat_bindings access_tokens one_time_codes audit_events"  # a binding removed, its tokens and codes
SIGN_IN = "console_sessions sign_in_failures admin_accounts audit_events"
SECOND_FACTOR = "console_second_factors console_recovery_codes audit_events"
ROUTES: dict[str, Promise] = {
    # the console: sign-in and out
    "GET /sign-in": may(ANYONE, {200, 302}),
    "POST /sign-in": may(ANYONE, {200, 302}, "console_sessions sign_in_failures admin_accounts audit_events"),
    "POST /sign-out": may(ANYONE, {302}, "console_sessions audit_events"),
    "GET /sign-in/code": may(ANYONE, {200, 302}),
    "POST /sign-in/code": may(ANYONE, {200, 302}, SIGN_IN + " " + SECOND_FACTOR),
    "GET /sign-in/enrol": may(ANYONE, {200, 302}, SECOND_FACTOR),
    "POST /sign-in/enrol": may(ANYONE, {200, 302, 400}, SIGN_IN + " " + SECOND_FACTOR),
    "POST /language": may(ANYONE, {302}, "admin_accounts"),
    # the console: one's own account
    "GET /account": may(SIGNED_IN, {200}),
    "GET /account/two-factor": may(SIGNED_IN, {200, 302}, SECOND_FACTOR),  # a set-up begins: its secret, sealed
    "POST /account/two-factor": may(SIGNED_IN, {200, 302, 400}, SECOND_FACTOR + " console_sessions"),
    "POST /account/two-factor/disable": may(SIGNED_IN, {200, 302, 400}, SECOND_FACTOR + " sign_in_failures"),
    "POST /account/recovery-codes": may(SIGNED_IN, {200, 302, 400}, SECOND_FACTOR),
    # the console: support and admins
    "GET /": may(SIGNED_IN, {200}),
    "GET /users": may(SIGNED_IN, {200}),
    "GET /users/<int:user_id>": may(SIGNED_IN, {200, 404}),
    "GET /users.csv": may(SIGNED_IN, {200, 400}, AUDIT),
    "GET /users/<int:user_id>/edit": may(SIGNED_IN, {200, 404}),
    "POST /users/<int:user_id>/edit": may(SIGNED_IN, {200, 302, 400, 404}, "users audit_events"),
    "POST /users/<int:user_id>/sign-out-everywhere": may(
        SIGNED_IN, {302, 404}, "access_tokens one_time_codes audit_events"
    ),
    "GET /activity": may(SIGNED_IN, {200, 400}),
    "GET /users/<int:user_id>/bindings/<int:method_id>/unbind": may(SIGNED_IN, {200, 404}),
    "POST /users/<int:user_id>/bindings/<int:method_id>/unbind": may(SIGNED_IN, {200, 302, 404}, ENDED_ACCESS),
    "POST /users/<int:user_id>/bindings/<int:method_id>/check-session-key": may(SIGNED_IN, {302, 404}),
    "POST /users/<int:user_id>/ticket": may(SIGNED_IN, {200, 302, 400, 404}, "one_time_codes audit_events"),
    "POST /users/<int:user_id>/corps": may(SIGNED_IN, {302, 400, 404}, "memberships audit_events"),
    "POST /users/<int:user_id>/corps/<int:corp_id>/remove": may(SIGNED_IN, {302, 404}, "memberships audit_events"),
    "POST /users/<int:user_id>/tokens/<int:token_id>/revoke": may(SIGNED_IN, {302, 404}, "access_tokens audit_events"),
    "POST /users/<int:user_id>/disable": may(SIGNED_IN, {302, 404}, "users access_tokens one_time_codes audit_events"),
    "POST /users/<int:user_id>/enable": may(SIGNED_IN, {302, 404}, "users audit_events"),
    "GET /corps": may(SIGNED_IN, {200}),
    "GET /audit": may(SIGNED_IN, {200, 400}),  # 400: a filter that can match nothing by mistake, said on the form
    "GET /audit.csv": may(SIGNED_IN, {200, 400}),
    "GET /simulator": may(SIGNED_IN, {200}),
    # the console: admins only
    "POST /corps": may(ADMINS, {302, 400}, "corps audit_events"),
    "GET /corps/<int:corp_id>/rename": may(ADMINS, {200, 404}),
    "POST /corps/<int:corp_id>/rename": may(ADMINS, {200, 302, 404}, "corps audit_events"),
    "GET /accounts": may(ADMINS, {200}),
    "POST /accounts": may(ADMINS, {302, 400}, "admin_accounts audit_events"),
    "POST /accounts/<int:account_id>/disable": may(ADMINS, {302, 404}, "admin_accounts console_sessions audit_events"),
    "POST /accounts/<int:account_id>/enable": may(ADMINS, {302, 404}, "admin_accounts audit_events"),
    "POST /accounts/<int:account_id>/two-factor/reset": may(
        ADMINS, {302, 404}, SECOND_FACTOR + " console_sessions sign_in_failures"
    ),
    "POST /accounts/<int:account_id>/unlock": may(ADMINS, {302, 404}, "sign_in_failures audit_events"),
    "POST /accounts/<int:account_id>/role": may(ADMINS, {302, 404}, "admin_accounts console_sessions audit_events"),
    "GET /accounts/<int:account_id>/password": may(ADMINS, {200, 404}),
    "POST /accounts/<int:account_id>/password": may(
        ADMINS, {200, 302, 404}, "admin_accounts console_sessions sign_in_failures audit_events"
    ),
    "GET /login-methods": may(ADMINS, {200}),
    "GET /login-methods/new": may(ADMINS, {200}),
    "POST /login-methods/new": may(ADMINS, {200, 302}, "login_methods audit_events"),
    "GET /login-methods/<int:method_id>": may(ADMINS, {200, 404}),
    "POST /login-methods/<int:method_id>": may(ADMINS, {200, 302, 404}, "login_methods audit_events"),
    "GET /login-methods/<int:method_id>/delete": may(ADMINS, {200, 404}),
    "POST /login-methods/<int:method_id>/delete": may(ADMINS, {200, 302, 404}, "login_methods " + ENDED_ACCESS),
    "POST /login-methods/import": may(ADMINS, {302, 400}, "login_methods audit_events"),
    "POST /login-methods/<int:method_id>/export": may(ADMINS, {200, 302, 404}, AUDIT),
    "POST /simulator/apps/<int:method_id>": may(ADMINS, {302, 404}, AUDIT),  # and the simulator's memory
    # outside the console: health checks, static files, the mounted WeChat simulator (WeChat answers errors as 200)
    "GET /healthz": may(ANYONE, {200}),
    "GET /readyz": may(ANYONE, {200}),
    "GET /static/<path:filename>": may(ANYONE, {200, 404}),
    "GET /bootstrap/static/<path:filename>": may(ANYONE, {200, 404}),
    "GET /_wechat/sns/jscode2session": may(ANYONE, {200}),
    "POST /_wechat/cgi-bin/stable_token": may(ANYONE, {200}),
    "POST /_wechat/wxa/business/getuserphonenumber": may(ANYONE, {200}),
    "GET /_wechat/wxa/checksession": may(ANYONE, {200}),
    # the API (each status also has to be one the OpenAPI document lists: tests/helpers.RecordingClient checks)
    "POST /api/v1/wechat-mini/<name>/login": may(
        ANYONE, {200, 400, 403, 404}, "one_time_codes wechat_bindings " + AUDIT
    ),
    "POST /api/v1/wechat-mini/<name>/register": may(
        ANYONE, {201, 400, 403, 404, 409}, "users wechat_bindings memberships one_time_codes audit_events"
    ),
    "POST /api/v1/auth/token": may(ANYONE, {200, 400, 403}, "one_time_codes access_tokens"),
    "GET /api/v1/me": may(BEARERS, {200}),
    "POST /api/v1/wechat-mini/<name>/bind": may(  # anyone: a bind ticket stands for the bearer token
        ANYONE, {200, 400, 401, 403, 404, 409}, "wechat_bindings one_time_codes audit_events"
    ),
    "POST /api/v1/wechat-mini/<name>/unbind": may(BEARERS, {200, 400, 403, 404, 409}, ENDED_ACCESS),
    "POST /api/v1/wechat-mini/<name>/decrypt": may(BEARERS, {200, 400, 403, 404, 409, 422}, "users audit_events"),
    "POST /api/v1/wechat-mini/<name>/phone": may(BEARERS, {200, 400, 403, 404, 422}, "users audit_events"),
    "POST /api/v1/auth/logout": may(BEARERS, {200, 400}, "access_tokens audit_events"),
    "GET /api/v1/openapi.json": may(ANYONE, {200}),
}

# Every call of the mini program's API that logs in, registers, binds, unbinds, exchanges a code, reads the phone or
# decrypts leaves one login event whatever it answers (support reads why it failed): that one row, and no other.
LOGIN_EVENTS = "login_events"
RECORDED_CALLS = frozenset(
    f"POST /api/v1/{path}"
    for path in (
        "wechat-mini/<name>/login",
        "wechat-mini/<name>/register",
        "auth/token",
        "wechat-mini/<name>/bind",
        "wechat-mini/<name>/unbind",
        "wechat-mini/<name>/decrypt",
        "wechat-mini/<name>/phone",
    )
)

API_REFUSED = frozenset({400, 401, 403, 404})  # what an API caller without a live token gets from a bearer endpoint

# Which table an id in a URL names (for drawing ids of rows that exist); a parameter not named here draws from the
# table whose name starts with it ("event_id": "events"), else from 1..3.
ID_TABLES = {
    "user_id": "users",
    "method_id": "login_methods",
    "corp_id": "corps",
    "token_id": "access_tokens",
    "account_id": "admin_accounts",
}
MISSING_ID = "987654"  # in the columns' range, but no row has it

# The principals: console accounts that stay signed in, and the API user whose token stays live.
ACCOUNTS = {ADMIN: "boss", SUPPORT: "helper"}
VICTIMS = {"ops": "support", "root": "admin"}  # accounts that admins may disable, demote, reset: the fuzz's targets
BEARER_USER = "alice"


# The login methods: one open to registration (new users join the corp acme), one closed to it, one switched off; the
# first two share an Open Platform account, so a WeChat user is one unionid across them.
METHODS: dict[str, dict] = {
    "shopLogin": {"corp": ("acme", "Acme"), "open_platform": "fuzz-open"},
    "closedLogin": {"allow_register": False, "open_platform": "fuzz-open"},
    "offLogin": {"enabled": False},
}


def every_row() -> Select:
    """One statement for every row of every table of the models: (table, the row's columns as text)."""
    parts = []
    for table in db.metadata.sorted_tables:
        row = literal_column("''")
        for column in table.columns:  # NULL apart from every text, so that a NULL and a "None" differ
            text = literal_column("'='") + cast(column, Text)
            row = row + func.coalesce(text, literal_column("'NULL'")) + literal_column("'|'")
        parts.append(select(literal_column(f"'{table.name}'").label("name"), row.label("row")).select_from(table))
    return union_all(*parts)


def route_keys(app) -> list[str]:
    """The key "METHOD /rule" of every route of the app, HEAD and OPTIONS aside, sorted."""
    return sorted(
        f"{method} {rule.rule}" for rule in app.url_map.iter_rules() for method in rule.methods - {"HEAD", "OPTIONS"}
    )


def is_api(key: str) -> bool:
    """Whether a route key is one of the API's."""
    return key.split(" ", 1)[1].startswith(API_PREFIX + "/")


def promise(key: str) -> Promise:
    """The oracle's row for a route; a route without one fails the test, naming it."""
    if key not in ROUTES:
        pytest.fail(
            f"{key} has no row in ROUTES (tests/fuzz/world.py): add one saying who may call it, what it answers "
            "and which tables a success may change",
            pytrace=False,
        )
    return ROUTES[key]


def fuzz_environ(database_url: str, wechat_url: str) -> dict[str, str]:
    """The environment of the fuzzed app: the console under test, the simulator page mounted, limits out of reach
    (rate limits have their own tests; here they would only hide what the routes answer)."""
    return {
        "SECRET_KEY": "fuzz-secret-key",
        "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DATABASE_URL": database_url,
        "WECHAT_API_BASE": wechat_url,
        "WECHAT_TIMEOUT": "2",
        "WECHAT_SIMULATOR": "1",
        "RATELIMIT_API_PER_ADDRESS": "1000000 per minute",
        "RATELIMIT_API_PER_LOGIN_METHOD": "1000000 per minute",
        "RATELIMIT_SIGN_IN": "1000000 per minute",
    }


FUZZ_CONFIG = {
    "TESTING": True,
    "WTF_CSRF_ENABLED": False,
    "SESSION_COOKIE_SECURE": False,
    "WECHAT_SIMULATOR_STATE": None,
}


def collected_routes() -> list[str]:
    """The route keys of an app built like the fuzzed one, for parametrizing at collection (before any fixture)."""
    return route_keys(create_app(FUZZ_CONFIG, environ=fuzz_environ("sqlite://", "http://127.0.0.1:9")))


# One example is one call. The world is shared by every example of a module on purpose (each call meets the rows the
# calls before it left), so nothing is shrunk: a replay would meet other rows.
FUZZ_SETTINGS = settings(
    deadline=None,
    derandomize=True,  # the same calls on every run: CI is deterministic, a failure comes back
    database=None,
    phases=(Phase.explicit, Phase.generate),  # no shrinking: the world moves on between calls, a replay would differ
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@dataclass
class Tally:
    """The fuzz's figures for the run: calls made to the console and to the API, and how many answered 5xx."""

    database: str
    console: int = 0
    api: int = 0
    server_errors: int = 0
    statuses: dict[str, Counter] = field(default_factory=dict)  # route: how often it answered each status


TALLY = pytest.StashKey[Tally]()


@dataclass(frozen=True)
class Existing:
    """A path parameter that names a row that exists when the call is made: the index-th, modulo their number."""

    index: int


@dataclass(frozen=True)
class Fresh:
    """A value in a drawn body that stands for a live one (a wx.login() code, a bindCode, a ticket...), minted for
    the call's login method and simulated WeChat user right before the call ("new": a user never seen)."""

    kind: str
    user: str = BEARER_USER


@dataclass
class Call:
    """One request the fuzz makes, and what its input alone tells the oracle."""

    role: str
    method: str
    path: str  # percent-encoded, as sent
    query: str = ""  # percent-encoded, as sent
    body: bytes | None = None
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    refusal: int | None = None  # the answer the input alone calls for: 400 (NUL, a nameless part), 415 (JSON)
    loose: bool = False  # a body whose reading the oracle does not predict (malformed): a 400 is allowed too
    invalid_body: bool = False  # a body the matched route refuses before anything else (400: not a JSON object)
    aim: str = ""  # the route the call was drawn for
    client: str | None = None  # whose client makes the call, when not the role's own (a console cookie on the API)

    def describe(self) -> str:
        """The call in one line, long values cut."""
        body = None if self.body is None else short(self.body.decode("utf-8", "backslashreplace"))
        query = f"?{short(self.query)}" if self.query else ""
        return f"{self.role}: {self.method} {short(self.path)}{query} [{self.content_type}] body={body}"


def short(text: str, limit: int = 300) -> str:
    """`text` cut to `limit` characters, saying how long it was."""
    return text if len(text) <= limit else f"{text[:limit]}…({len(text)} chars)"


def encode_path_value(value: str, slashes: bool = False) -> str:
    """A path parameter percent-encoded as UTF-8; lone surrogates go as the bytes they would be (invalid UTF-8)."""
    return quote(value, safe="/" if slashes else "", errors="surrogatepass")


def encode_pairs(pairs: list[tuple[str, str]]) -> str:
    """A query string or form body, percent-encoded as UTF-8 (lone surrogates as their invalid bytes)."""
    return urlencode(pairs, quote_via=quote, errors="surrogatepass")


def has_nul(texts) -> bool:
    """Whether any of the texts holds a NUL."""
    return any("\x00" in text for text in texts)


class ErrorLines(logging.Handler):
    """Keeps the app's last error line (one per 500, with its cause), for the failure message."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.last = ""

    def emit(self, record: logging.LogRecord) -> None:
        self.last = record.getMessage()


class PageForms(HTMLParser):
    """Every form of a page (its action, method and named fields with the values it offers) and every link."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, str, dict[str, set[str]]]] = []
        self.files: set[str] = set()  # the names of file fields
        self.submits: set[str] = set()  # the names of submit buttons: a browser sends the one clicked
        self.links: list[str] = []
        self._fields: dict[str, set[str]] | None = None
        self._select: set[str] | None = None

    def handle_starttag(self, tag: str, attrs) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "form":
            self._fields = {}
            self.forms.append((found.get("action", ""), found.get("method", "get").upper(), self._fields))
        elif tag in ("input", "select", "textarea", "button") and self._fields is not None and found.get("name"):
            values = self._fields.setdefault(found["name"], set())
            if found.get("type") == "file":
                self.files.add(found["name"])
            if found.get("type") == "submit" or (tag == "button" and found.get("type", "submit") == "submit"):
                self.submits.add(found["name"])
            if "value" in found:
                values.add(found["value"])
            if tag == "select":
                self._select = values
        elif tag == "option" and self._select is not None:
            self._select.add(found.get("value", ""))
        elif tag == "a" and found.get("href"):
            self.links.append(found["href"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._fields = None
        elif tag == "select":
            self._select = None


class World:
    """An app with rows of every kind, its principals signed in, and the fuzz's call and oracle."""

    def __init__(self, app, simulator, tally: Tally):
        self.app = app
        self.simulator = simulator
        self.tally = tally
        self.harness = Harness(app, app.test_client(), simulator)
        self.methods: dict[str, Method] = {}
        self.clients: dict[str, object] = {}
        self.bearer = ""
        self.strangers: list[dict[str, str]] = []
        self.fields: dict[str, dict[str, set[str]]] = {}  # "METHOD /rule": the fields its forms send
        self.query_keys: dict[str, set[str]] = {}  # "/rule": the query keys its links and forms carry
        self.file_fields: set[str] = set()  # the names of every file field of every form
        self.submit_fields: set[str] = set()  # the names of every submit button of every form
        self.newcomers = 0
        self.password_hashes: dict[str, str] = {}  # the principals' own, to see a reset one
        self.errors = ErrorLines()
        self.healed: dict[str, dict] = {}  # role: the rows as they were when it was last healed
        with app.app_context():
            self.engine = db.engine
        self.every_row = every_row()
        self.connection = self.engine.connect()  # one for the fingerprints: each is one statement, one round trip
        logging.getLogger("console").addHandler(self.errors)
        self.rows: dict = {}
        self._existing: tuple[dict, dict] = ({}, {})
        self.populate()
        self.rows = self.fingerprint()
        self.crawl()
        self.good = self.good_values()
        self.rows = self.fingerprint()

    def close(self) -> None:
        self.connection.close()
        logging.getLogger("console").removeHandler(self.errors)

    # ---- the rows -------------------------------------------------------------------------------------------

    def populate(self) -> None:
        """Corps, login methods (open, closed to registration, switched off), users with bindings and tokens (a
        live one, a revoked one, a disabled user's), console accounts of both roles, signed in."""
        harness = self.harness
        harness.add_corp("globex", "Globex")
        harness.add_corp("acme", "Acme")
        for name, options in METHODS.items():
            self.methods[name] = harness.add_method(name=name, **options)
        shop = self.methods["shopLogin"]
        self.bearer = harness.token(shop, BEARER_USER)
        bob = harness.token(shop, "bob")
        bound = harness.post(
            "/wechat-mini/closedLogin/bind", {"code": harness.code(self.methods["closedLogin"], "bob")}, bob
        )
        assert bound.status_code == 200, bound.json
        assert harness.post("/auth/logout", {}, bob).status_code == 200
        carol = harness.token(shop, "carol")
        with self.app.app_context():
            users.set_user_disabled(authenticate(f"Bearer {carol}").user, True)
            for username, role in {**{name: role for role, name in ACCOUNTS.items()}, **VICTIMS}.items():
                db.session.add(AdminAccount(username=username, role=role, password_hash=cheap_hash(PASSWORD)))
            db.session.commit()
        self.strangers = [
            {"Authorization": f"Bearer {bob}"},  # revoked by its logout
            {"Authorization": f"Bearer {carol}"},  # its user disabled
            {"Authorization": "Bearer " + "A" * 43},
            {"Authorization": "Bearer"},
            {"Authorization": f"Basic {self.bearer}"},
            {"Authorization": f"bearer  {self.bearer}x"},
        ]
        for role in (ADMIN, SUPPORT):
            self.sign_in(role)

    def sign_in(self, role: str) -> None:
        """Restore the role's account (role, active, password, no failed sign-ins) and sign a new client in."""
        username = ACCOUNTS[role]
        with self.app.app_context():
            account = db.session.scalar(select(AdminAccount).where(AdminAccount.username == username))
            self.password_hashes[username] = cheap_hash(PASSWORD)
            account.role, account.active, account.password_hash = role, True, self.password_hashes[username]
            db.session.execute(delete(SignInFailure).where(SignInFailure.username == username))
            db.session.commit()
        client = self.app.test_client()
        answer = client.post("/sign-in", data={"username": username, "password": PASSWORD})
        assert answer.status_code == 302, f"{username} could not sign in again: {answer.status_code}"
        self.clients[role] = client

    def heal(self, role: str) -> None:
        """Before each call: the caller still is what its role says (a call before may have signed it out, demoted,
        disabled or reset it, or revoked the bearer token). Only rows can have changed that: checked only when some
        did since the role was last healed; the rows fingerprinted again when healing wrote."""
        if self.healed.get(role) == self.rows:
            return
        self.restock()
        if role in ACCOUNTS:
            username = ACCOUNTS[role]
            with self.clients[role].session_transaction() as session:
                session_id = session.get(SESSION_KEY)
            with self.app.app_context():
                account = account_for_session(session_id)
                fine = account is not None and account.username == username and account.role == role
                fine = fine and account.password_hash == self.password_hashes[username]
            if not fine:
                self.sign_in(role)
                self.rows = self.fingerprint()
        elif role == BEARER:
            with self.app.app_context():
                try:
                    authenticate(f"Bearer {self.bearer}")
                except LoginError:
                    live = False
                else:
                    live = True
            if not live:
                self.bearer = self.harness.token(self.methods["shopLogin"], BEARER_USER)
                self.rows = self.fingerprint()
        self.healed[role] = self.rows

    def restock(self) -> None:
        """Add again the login methods an admin deleted, so that later calls still find rows to act on."""
        with self.app.app_context():
            names = set(db.session.scalars(select(LoginMethod.name)))
        missing = [name for name in self.methods if name not in names]
        for name in missing:
            self.methods[name] = self.harness.add_method(name=name, **METHODS[name])
        if missing:
            self.rows = self.fingerprint()

    def fingerprint(self) -> dict[str, tuple[int, str]]:
        """{table: (rows, digest of every column of every row)} for every table of the models."""
        rows: dict[str, list[str]] = {table.name: [] for table in db.metadata.sorted_tables}
        try:
            for table, row in self.connection.execute(self.every_row):
                rows[table].append(row)
        finally:
            self.connection.rollback()  # no transaction (and on SQLite no lock) stays open between calls
        return {
            table: (len(texts), hashlib.sha256("\n".join(sorted(texts)).encode()).hexdigest())
            for table, texts in rows.items()
        }

    def existing(self, endpoint: str, parameter: str) -> list[str]:
        """Values of a path parameter that name something that exists now (read again once rows changed)."""
        if self._existing[0] != self.rows:
            self._existing = (self.rows, {})
        known = self._existing[1]
        if (endpoint, parameter) not in known:
            known[endpoint, parameter] = self._existing_now(endpoint, parameter)
        return known[endpoint, parameter]

    def _existing_now(self, endpoint: str, parameter: str) -> list[str]:
        if parameter == "name":
            return sorted(self.methods)
        if parameter == "filename":
            blueprint = endpoint.rpartition(".")[0]
            folder = self.app.blueprints[blueprint].static_folder if blueprint else self.app.static_folder
            return sorted(
                os.path.relpath(os.path.join(root, name), folder)
                for root, _, names in os.walk(folder)
                for name in names
            )[:50]
        table = ID_TABLES.get(parameter) or next(
            (name for name in row_counts(self.app) if name.startswith(parameter.removesuffix("_id"))), None
        )
        if table is None:
            return ["1", "2", "3"]
        with self.app.app_context():
            ids = db.session.scalars(select(db.metadata.tables[table].c.id).order_by("id")).all()
        return [str(row_id) for row_id in ids] or [MISSING_ID]

    # ---- the forms the pages offer --------------------------------------------------------------------------

    def crawl(self) -> None:
        """Read every console page (as an admin, and sign-in as nobody): the fields each form posts, with the values
        it offers, and the query keys of every link, per route."""
        adapter = self.app.url_map.bind("localhost")
        pages = ["/sign-in?next=%2Fusers"]
        for rule in self.app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.rule.startswith((API_PREFIX, "/_wechat", "/static", "/bootstrap")):
                continue
            choices = [self.existing(rule.endpoint, argument)[:3] for argument in sorted(rule.arguments)]
            for values in product(*choices):
                pages.append(
                    rule.build(dict(zip(sorted(rule.arguments), values, strict=True)), append_unknown=False)[1]
                )
        for page in pages:
            client = self.app.test_client() if page.startswith("/sign-in") else self.clients[ADMIN]
            answer = client.get(page)
            if answer.mimetype != "text/html":
                continue
            parser = PageForms()
            parser.feed(answer.get_data(as_text=True))
            for action, method, fields in parser.forms:
                self._learn(adapter, urljoin(page, action or page), method, fields)
            self.file_fields |= parser.files
            self.submit_fields |= parser.submits
            for link in parser.links:
                self._learn(adapter, urljoin(page, link), "GET", {})

    def _learn(self, adapter, url: str, method: str, fields: dict[str, set[str]]) -> None:
        parts = urlsplit(url)
        if parts.netloc:
            return
        try:
            rule, _ = adapter.match(parts.path, method=method, return_rule=True)
        except (NotFound, MethodNotAllowed, RequestRedirect):
            return
        known = self.fields.setdefault(f"{method} {rule.rule}", {})
        for name, values in fields.items():
            known.setdefault(name, set()).update(values)
        self.query_keys.setdefault(rule.rule, set()).update(key for key, _ in parse_qsl(parts.query))

    # ---- fresh codes, tickets and sealed data, minted right before the call that uses them ----------------

    def method_of(self, name: str) -> Method:
        """The login method the path names, or shopLogin when it names none."""
        return self.methods.get(name, self.methods["shopLogin"])

    def newcomer(self) -> str:
        """A WeChat user this world has never seen."""
        self.newcomers += 1
        return f"newcomer{self.newcomers}"

    def mint(self, kind: str, method: Method, user: str, sealed: dict) -> str:
        """A live value of `kind` for the login method (and simulated WeChat user) of the call."""
        harness = self.harness
        if kind.startswith("sealed."):
            if not sealed:
                try:
                    sealed.update(self.simulator.sealed(method.app_id, user, {"nickName": "Fuzz", "gender": 1}))
                except requests.HTTPError:  # the simulated user never logged in to that app: no session key
                    sealed.update(dict.fromkeys(("encryptedData", "iv", "rawData", "signature"), "not-sealed"))
            return sealed[kind.removeprefix("sealed.")]
        user = self.newcomer() if user == "new" else user
        if kind == "wx_code":
            return harness.code(method, user)
        if kind == "phone_code":
            return self.simulator.phone_code(method.app_id, user)
        if kind == "bind_code":
            opened = method if method.name == "shopLogin" else self.methods["shopLogin"]
            return harness.login(opened, self.newcomer()).json["bindCode"]
        if kind == "login_code":
            answer = harness.login(self.methods["shopLogin"], user)
            if "bindCode" in answer.json:
                answer = harness.post("/wechat-mini/shopLogin/register", {"bindCode": answer.json["bindCode"]})
            return answer.json.get("loginCode", "no-login-code")  # a disabled user gets none
        if kind == "ticket":
            with self.app.app_context():
                user_id = db.session.scalar(select(User.id).order_by(User.id))
                try:
                    return bindings.issue_bind_ticket(db.session.get_one(LoginMethod, method.id), user_id)
                except LoginError:
                    return "no-ticket"
        raise ValueError(f"unknown kind of fresh value: {kind}")

    def resolve(self, value, name: str):
        """`value` with every Fresh in it minted for the login method `name` (a sealed payload shared by its fields);
        the rows fingerprinted again when minting wrote."""
        sealed: dict = {}
        minted = False

        def walk(item):
            nonlocal minted
            if isinstance(item, Fresh):
                minted = True
                return self.mint(item.kind, self.method_of(name), item.user, sealed)
            if isinstance(item, dict):
                return {key: walk(inner) for key, inner in item.items()}
            if isinstance(item, list):
                return [walk(inner) for inner in item]
            return item

        resolved = walk(value)
        if minted:
            self.rows = self.fingerprint()
        return resolved

    def good_values(self) -> list[str]:
        """Values that mean something here: the principals' names and password, roles, names of login methods and
        corps, appIds, ids of rows, booleans as forms send them."""
        names = [*ACCOUNTS.values(), *VICTIMS, "newbie", PASSWORD, "admin", "support", "y", "on", "1", ""]
        names += [*self.methods, "newLogin", "acme", "globex", "newcorp", "Acme Inc"]
        names += [method.app_id for method in self.methods.values()] + ["wx0123456789abcdef"]
        names += self.existing("", "user_id")[:3] + self.existing("", "corp_id")[:2]
        return names + ["2024-01-01", "https://example.com/a.png", "e.json", "login"]

    # ---- the call and its oracle ----------------------------------------------------------------------------

    def client_for(self, role: str):
        """The client a role calls with: a new one for nobody, the signed-in one for an account."""
        return self.clients[role] if role in (SUPPORT, ADMIN) else self.app.test_client()

    def check(self, call: Call) -> None:
        """Make the call and hold its answer to the oracle (see the module's docstring)."""
        if call.path.startswith(API_PREFIX + "/"):
            self.tally.api += 1
        else:
            self.tally.console += 1
        before = self.rows
        client = self.client_for(call.client or call.role)
        self.errors.last = ""
        try:
            answer = client.open(
                call.path,
                method=call.method,
                query_string=call.query,
                data=call.body,
                content_type=call.content_type,
                headers=call.headers,
            )
        except AssertionError:
            raise  # the answer broke the OpenAPI document (RecordingClient)
        except Exception as error:  # the answer broke off (a streamed body that failed after its first byte)
            self.tally.server_errors += 1
            raise AssertionError(f"{call.describe()}: the answer broke off: {error!r}") from error
        status = answer.status_code
        self.rows = after = self.fingerprint()
        if status >= 500:
            self.tally.server_errors += 1
            pytest.fail(f"{call.describe()}: answered {status}: {self.errors.last}", pytrace=False)
        expected = self.expect(call, answer)
        self.tally.statuses.setdefault(f"{expected.key} ({call.role})", Counter())[status] += 1
        if os.environ.get("FUZZ_TRACE"):
            print(f"\n{status} {call.describe()[:400]} {answer.get_data()[:200]!r}")
        assert status in expected.answers, f"{call.describe()}: answered {status}; {expected.why}"
        if status == 302 and expected.to_sign_in:
            assert answer.location.startswith("/sign-in"), f"{call.describe()}: sent to {answer.location}"
        changed = {table: (before[table][0], after[table][0]) for table in before if before[table] != after[table]}
        if call.aim in RECORDED_CALLS and LOGIN_EVENTS in changed:
            events_before, events_after = changed.pop(LOGIN_EVENTS)
            assert events_after - events_before == 1, f"{call.describe()}: wrote {events_after - events_before} events"
        allowed = expected.writes if status < 400 else frozenset()
        wrote = {table: counts for table, counts in changed.items() if table not in allowed}
        assert not wrote, (
            f"{call.describe()}: answered {status} and changed rows it may not (table: rows before, after): {wrote}"
        )

    def expect(self, call: Call, answer) -> Expected:
        """What the oracle allows the call: the input's own refusal, the edge's, or its route's row for the role."""
        if call.refusal is not None:
            return Expected({call.refusal}, key=call.aim, why=f"the input alone calls for {call.refusal}")
        adapter = self.app.url_map.bind_to_environ(answer.request.environ)
        try:
            rule, _ = adapter.match(method=call.method, return_rule=True)
        except RequestRedirect:
            return Expected({308}, key=call.aim, why="a path with a double slash is redirected")
        except MethodNotAllowed:
            return Expected({405}, key=call.aim, why="the path does not take that method")
        except NotFound:
            return Expected({404} | ({400} if call.loose else set()), key=call.aim, why="no route matches the path")
        key = f"{call.method} {rule.rule}"
        row = promise(key)
        if call.invalid_body:
            return Expected({400}, key=key, why=f"{key} reads its body first, and this one is not a JSON object")
        loose = {400} if call.loose else set()
        if call.role in row.who:
            return Expected(
                row.answers | loose, row.writes, key=key, why=f"{key} answers {call.role} {sorted(row.answers)}"
            )
        if is_api(key):
            return Expected(API_REFUSED, key=key, why=f"{key} refuses {call.role}: {sorted(API_REFUSED)}")
        refused = 302 if call.role == ANONYMOUS else 403
        return Expected({refused} | loose, to_sign_in=True, key=key, why=f"{key} refuses {call.role}: {refused}")


@dataclass(frozen=True)
class Expected:
    """What the oracle allows one call: its statuses, the tables a success may change, and why."""

    answers: frozenset[int] | set[int]
    writes: frozenset[str] = frozenset()
    to_sign_in: bool = False  # a 302 must lead to the sign-in page
    why: str = ""
    key: str = "no route"  # the route the path matched
