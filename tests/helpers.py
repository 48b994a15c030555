"""Test helpers: a live server in a thread, and a harness that drives the API like a mini program."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import pytest
import requests
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from sqlalchemy import create_engine, func, select, text
from werkzeug.exceptions import HTTPException
from werkzeug.security import generate_password_hash
from werkzeug.serving import make_server

from console.api.openapi import API_PREFIX, openapi_document, openapi_path
from console.extensions import db
from console.models import Corp, LoginMethod
from console.services.login_methods import set_app_secret
from console.wechat.simulator.state import SimulatorState

FUZZ_CASES_RUN = pytest.StashKey[int]()  # how many API calls schemathesis generated in this run


def fresh_database_url(tmp_path, test_database_url: str | None) -> str:
    """A new SQLite file in tmp_path, or the PostgreSQL test database emptied (its schema dropped)."""
    if not test_database_url:
        return f"sqlite:///{tmp_path / 'test.db'}"
    engine = create_engine(test_database_url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    return test_database_url


def row_counts(app) -> dict[str, int]:
    """{table: rows} for every table of the models."""
    with app.app_context():
        return {
            table.name: db.session.scalar(select(func.count()).select_from(table)) or 0
            for table in db.metadata.sorted_tables
        }


PASSWORD = "correct horse battery"


def cheap_hash(password: str) -> str:
    """A password hash that is quick to check, for tests only (production uses scrypt)."""
    return generate_password_hash(password, method="pbkdf2:sha256:1")


def leaked_secrets(secrets, bodies: list[str], records: list[logging.LogRecord]) -> set[str]:
    """The secrets found in any answer body or any fully formatted log record (tracebacks included)."""
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    seen = "\n".join(bodies) + "\n" + "\n".join(formatter.format(record) for record in records)
    return {secret for secret in secrets if secret in seen}


class LiveServer:
    """A WSGI app served over real HTTP on a free local port, in a background thread."""

    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class RecordingSimulatorState(SimulatorState):
    """The simulator's state, remembering every session_key it handed out so tests can hunt for leaks."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.issued_session_keys: list[str] = []
        self.exchanges: dict[str, int] = {}
        self.token_fetches: dict[str, int] = {}
        self.issued_access_tokens: list[str] = []
        self.registered_secrets: set[str] = set()  # the state keeps only digests: remember them for the hunt

    def register_app(self, app_id, app_secret, open_platform=None):
        self.registered_secrets.add(app_secret)
        super().register_app(app_id, app_secret, open_platform)

    def stable_token(self, app_id, force_refresh=False):
        self.token_fetches[app_id] = self.token_fetches.get(app_id, 0) + 1
        token, expires_in = super().stable_token(app_id, force_refresh)
        self.issued_access_tokens.append(token)
        return token, expires_in

    def take_code(self, app_id, js_code):
        self.exchanges[js_code] = self.exchanges.get(js_code, 0) + 1
        return super().take_code(app_id, js_code)

    def new_session_key(self, app_id, user):
        key = super().new_session_key(app_id, user)
        self.issued_session_keys.append(key)
        return key

    def secrets(self) -> set[str]:
        """Every appSecret, session_key and access token this simulator handed out."""
        return set(self.registered_secrets) | set(self.issued_session_keys) | set(self.issued_access_tokens)


class Simulator:
    """Drives the live WeChat simulator over HTTP, as a phone and WeChat would."""

    def __init__(self, url: str, state: RecordingSimulatorState):
        self.url = url
        self.state = state
        self.apps_made = 0

    def new_app_id(self) -> str:
        """An app id this simulator has never seen: it serves the whole session, each test adds its apps."""
        self.apps_made += 1
        return f"wx{self.apps_made:016x}"  # a real appId's form: wx and 16 lowercase hex characters

    def register_app(self, app_id: str, secret: str, open_platform: str | None = None) -> None:
        response = requests.put(
            f"{self.url}/sim/apps/{app_id}", json={"appSecret": secret, "openPlatform": open_platform}, timeout=5
        )
        response.raise_for_status()

    def mint(self, app_id: str, user: str, **options) -> dict:
        response = requests.post(f"{self.url}/sim/codes", json={"appId": app_id, "user": user, **options}, timeout=5)
        response.raise_for_status()
        return response.json()

    def code(self, app_id: str, user: str, **options) -> str:
        """A fresh wx.login() code for a simulated user."""
        return self.mint(app_id, user, **options)["code"]

    def control(self, path: str, body: dict | None = None) -> dict:
        """POST to one of the simulator's /sim/ control endpoints."""
        response = requests.post(f"{self.url}/sim/{path}", json=body or {}, timeout=5)
        response.raise_for_status()
        return response.json()

    def phone_code(self, app_id: str, user: str, **options) -> str:
        """A getPhoneNumber button code for a simulated user."""
        return self.control("phone-codes", {"appId": app_id, "user": user, **options})["code"]

    def sealed(self, app_id: str, user: str, data: dict, **options) -> dict:
        """encryptedData, iv, rawData and signature of data under the user's current session_key."""
        return self.control("encrypted-data", {"appId": app_id, "user": user, "data": data, **options})


# Compiled once per (document, rule, method, status): the check runs on every API call of the suite. The
# documents are cached for the process's life, so their ids are stable keys.
_ANSWER_VALIDATORS: dict[tuple[int, str, str, int], Draft202012Validator] = {}


def answer_mismatch(app, method: str, path: str, status: int, body) -> str | None:
    """Why an /api/v1 answer breaks the OpenAPI document's schema for its path, method and status, or None."""
    try:
        rule, _ = app.url_map.bind("localhost").match(path, method=method, return_rule=True)
    except HTTPException:
        return None  # no operation answers this: unknown URLs and methods get the generic JSON 404/405
    document = openapi_document(app)
    key = (id(document), rule.rule, method.lower(), status)
    if key not in _ANSWER_VALIDATORS:
        operation = document["paths"].get(openapi_path(rule.rule), {}).get(method.lower())
        if operation is None:
            return None if method in ("HEAD", "OPTIONS") else f"{method} {rule.rule} is not in the document"
        response = operation["responses"].get(str(status))
        if response is None:
            return f"{method} {rule.rule} answered {status}, a status the document does not list"
        schema = {**response["content"]["application/json"]["schema"], "components": document["components"]}
        _ANSWER_VALIDATORS[key] = Draft202012Validator(schema)
    if body is None:
        return f"{method} {rule.rule} answered {status} without a JSON body"
    error = best_match(_ANSWER_VALIDATORS[key].iter_errors(body))
    return f"{method} {rule.rule} {status}: {error.message} at {error.json_path}" if error else None


class RecordingClient(FlaskClient):
    """A test client that keeps every answer body, so a test can prove no secret was ever sent, and checks
    every /api/v1 answer against the served OpenAPI document."""

    bodies: list[str] = []

    def open(self, *args, **kwargs):
        response = super().open(*args, **kwargs)
        type(self).bodies.append(response.get_data().decode("utf-8", "replace"))  # zips and other binaries too
        request = response.request
        if request.path.startswith(API_PREFIX + "/"):
            body = response.get_json(silent=True) if response.is_json else None
            mismatch = answer_mismatch(self.application, request.method, request.path, response.status_code, body)
            assert mismatch is None, mismatch
        return response


@dataclass
class Method:
    """A login method made for a test, with its credentials known to the simulator."""

    name: str
    app_id: str
    secret: str
    id: int


class Harness:
    """Makes login methods and users, and calls the API the way a mini program does."""

    def __init__(self, app, client, simulator: Simulator):
        self.app = app
        self.client = client
        self.simulator = simulator

    def add_method(
        self, name="shopLogin", allow_register=True, open_platform=None, corp=None, enabled=True, link_by_unionid=True
    ) -> Method:
        """A login method in the database, registered with the simulator."""
        app_id = self.simulator.new_app_id()
        secret = f"secret-{app_id}-0123456789abcdef"
        with self.app.app_context():
            method = LoginMethod(
                name=name,
                title=f"{name} title",
                app_id=app_id,
                allow_register=allow_register,
                enabled=enabled,
                link_by_unionid=link_by_unionid,
            )
            if corp:
                method.default_corp_id = self.add_corp(*corp)
            set_app_secret(method, secret)
            db.session.add(method)
            db.session.commit()
            method_id = method.id
        self.simulator.register_app(app_id, secret, open_platform)
        return Method(name, app_id, secret, method_id)

    def add_corp(self, slug: str, name: str) -> int:
        with self.app.app_context():
            corp = db.session.scalar(select(Corp).where(Corp.slug == slug))
            if corp is None:
                corp = Corp(slug=slug, name=name)
                db.session.add(corp)
                db.session.commit()
            return corp.id

    def code(self, method: Method, user: str, **options) -> str:
        return self.simulator.code(method.app_id, user, **options)

    def post(self, path: str, body=None, token: str | None = None, **kwargs):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.client.post(f"/api/v1{path}", json=body if body is not None else {}, headers=headers, **kwargs)

    def get(self, path: str, token: str | None = None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.client.get(f"/api/v1{path}", headers=headers)

    def login(self, method: Method, user: str, **options):
        return self.post(f"/wechat-mini/{method.name}/login", {"code": self.code(method, user, **options)})

    def register(self, method: Method, user: str, name: str | None = None) -> dict:
        """Log a new user in and register them; the register answer."""
        answer = self.login(method, user)
        assert answer.status_code == 200, answer.json
        body = {"bindCode": answer.json["bindCode"]}
        if name:
            body["name"] = name
        registered = self.post(f"/wechat-mini/{method.name}/register", body)
        assert registered.status_code == 201, registered.json
        return registered.json

    def token(self, method: Method, user: str, corp_id: str | None = None) -> str:
        """An access token for the user, registering them first when they are new."""
        answer = self.login(method, user)
        assert answer.status_code == 200, answer.json
        if "bindCode" in answer.json:
            answer = self.post(f"/wechat-mini/{method.name}/register", {"bindCode": answer.json["bindCode"]})
            assert answer.status_code == 201, answer.json
        body = {"loginCode": answer.json["loginCode"]}
        if corp_id:
            body["corpId"] = corp_id
        issued = self.post("/auth/token", body)
        assert issued.status_code == 200, issued.json
        return issued.json["accessToken"]

    def counts(self) -> dict[str, int]:
        """Rows in every table."""
        return row_counts(self.app)


def instance_files(name: str, element=None, config=None, config_name: str | None = None) -> tuple:
    """The seed's instance files (e.json, business configuration) of a valid instance, unless given."""
    if element is None:
        element = {
            "type": "auths.loginTypes.WeChatMiniType",
            "title": "WeChat Mini Program Login",
            "allowRegister": 1,
            "backendBundleEntry": ".",
            "frontBundleEntry": f"./{config_name or name}.json",
        }
    if config is None:
        config = {"authConfig": {"appId": "wx1234567890abcdef", "appSecret": "s3cr3t-value-9876"}}
    return element, config
