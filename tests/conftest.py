"""Fixtures: a live WeChat simulator, a fresh app and database per test, and a secret-leak detector."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from console import create_app
from console.extensions import db
from console.models import OUTCOME_OK, AdminAccount, LoginEvent
from console.wechat.simulator import create_simulator_app
from tests.helpers import (
    FUZZ_CASES_RUN,
    PASSWORD,
    Harness,
    LiveServer,
    RecordingClient,
    RecordingSimulatorState,
    Simulator,
    cheap_hash,
    fresh_database_url,
    leaked_secrets,
    row_counts,
)

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")


@pytest.fixture(scope="session")
def simulator():
    """The WeChat simulator, served alone on a live port like the real WeChat."""
    state = RecordingSimulatorState()
    server = LiveServer(create_simulator_app(state=state))
    yield Simulator(server.url, state)
    server.stop()


@pytest.fixture
def database_url(tmp_path):
    """A fresh SQLite file, or the emptied PostgreSQL database named by TEST_DATABASE_URL."""
    return fresh_database_url(tmp_path, TEST_DATABASE_URL)


@pytest.fixture
def environ(database_url, simulator):
    """The environment a test app is built from."""
    return {
        "SECRET_KEY": "test-secret-key",
        "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DATABASE_URL": database_url,
        "WECHAT_API_BASE": simulator.url,
        "WECHAT_TIMEOUT": "2",
        "RATELIMIT_API_PER_ADDRESS": "100000 per minute",
        "CONSOLE_LANGUAGE": "en",  # the tests read English pages; tests/test_i18n.py checks the languages
    }


@pytest.fixture
def app_config(request, console_config):
    """Config overrides of the test app: console_config for a test marked `console`."""
    return console_config if request.node.get_closest_marker("console") else {"TESTING": True}


@pytest.fixture
def app_environ(request, environ, console_environ):
    """The environment of the test app: console_environ for a test marked `console`."""
    return console_environ if request.node.get_closest_marker("console") else environ


@pytest.fixture
def app(app_config, app_environ):
    """A fresh app over a fresh database."""
    app = create_app(app_config, environ=app_environ)
    app.test_client_class = RecordingClient
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def harness(app, client, simulator):
    return Harness(app, client, simulator)


@pytest.fixture
def unchanged(app):
    """`with unchanged():` fails the test when the block changed the row count of any table, login events aside:
    the API calls of a block expected to fail may each write one event, of a failure (the contract: a failed call
    changes no account data; its login event is the one row it writes). Two events of one request fail it too.

    Counts every table of the models, so a failed call that wrote anything anywhere is caught.
    """

    @contextmanager
    def check() -> Iterator[None]:
        before = row_counts(app)
        with app.app_context():
            last_event = db.session.scalar(select(func.max(LoginEvent.id))) or 0
        yield
        after = row_counts(app)
        changed = {
            table: (before[table], after[table])
            for table in before
            if before[table] != after[table] and table != LoginEvent.__tablename__
        }
        assert not changed, f"rows changed (table: before, after): {changed}"
        with app.app_context():
            events = db.session.execute(
                select(LoginEvent.outcome, LoginEvent.request_id).where(LoginEvent.id > last_event)
            ).all()
        assert after[LoginEvent.__tablename__] - before[LoginEvent.__tablename__] == len(events)
        assert all(outcome != OUTCOME_OK for outcome, _ in events), f"a successful call among {events}"
        request_ids = [request_id for _, request_id in events]
        assert len(request_ids) == len(set(request_ids)), f"a call wrote two login events: {events}"

    return check


@pytest.fixture
def changes(app):
    """`with changes() as changed:` then `changed[table]` is the rows the block added to that table (negative:
    removed), for every table of the models; a table that is not one is a KeyError, never a silent 0."""

    @contextmanager
    def measure() -> Iterator[dict[str, int]]:
        before = row_counts(app)
        changed: dict[str, int] = {}
        yield changed
        after = row_counts(app)
        changed.update({table: after[table] - before[table] for table in before})

    return measure


@pytest.fixture
def console_config():
    """The console under test: CSRF off (the browser tests and one other switch it on), plain-http cookies, the
    in-process simulator mounted but keeping its apps in memory only."""
    return {"TESTING": True, "WTF_CSRF_ENABLED": False, "SESSION_COOKIE_SECURE": False, "WECHAT_SIMULATOR_STATE": None}


@pytest.fixture
def console_environ(environ):
    """The environment of a console test: the simulator page is on; WeChat itself is still the live simulator."""
    return {**environ, "WECHAT_SIMULATOR": "1"}


@pytest.fixture
def make_account(app):
    """Create a console account (a cheap hash keeps the suite fast); its id."""

    def make(username: str, role: str = "admin", password: str = PASSWORD, **fields) -> int:
        with app.app_context():
            account = AdminAccount(username=username, role=role, password_hash=cheap_hash(password), **fields)
            db.session.add(account)
            db.session.commit()
            return account.id

    return make


@pytest.fixture
def sign_in(app):
    """Sign a new client in through the sign-in form."""

    def sign_in(username: str, password: str = PASSWORD):
        client = app.test_client()
        response = client.post("/sign-in", data={"username": username, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return sign_in


@pytest.fixture
def admin(make_account, sign_in):
    """A client signed in as the admin `boss`."""
    make_account("boss", "admin")
    return sign_in("boss")


@pytest.fixture
def support(make_account, sign_in):
    """A client signed in as the support account `helper`."""
    make_account("helper", "support")
    return sign_in("helper")


@pytest.fixture(autouse=True)
def no_secret_leaks(request, caplog, monkeypatch):
    """After every test: no appSecret or session_key in any answer or log line the test produced."""
    caplog.set_level(logging.DEBUG)
    monkeypatch.setattr(RecordingClient, "bodies", [])  # this test's answers only, and none kept after it
    yield
    if "simulator" not in request.fixturenames:
        return
    secrets = request.getfixturevalue("simulator").state.secrets()
    records = caplog.get_records("setup") + caplog.get_records("call")
    assert not leaked_secrets(secrets, RecordingClient.bodies, records), "a secret appeared in an answer or a log line"


def pytest_terminal_summary(terminalreporter, config):
    """Say how many cases the fuzzer ran (the figure the production issue asks for)."""
    if FUZZ_CASES_RUN in config.stash:
        terminalreporter.write_line(
            f"schemathesis: {config.stash[FUZZ_CASES_RUN]} generated API calls checked against openapi.json"
        )
