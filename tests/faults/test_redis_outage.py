"""Redis stopped mid-run (docs/dependencies.md): what needs the shared cache answers 503 service_unavailable with
Retry-After and changes nothing, what needs only rate limits keeps working, /readyz names Redis, and all is well
again once Redis is back."""

from __future__ import annotations

import logging
import socket
import time

import pytest
import requests
from cryptography.fernet import Fernet
from sqlalchemy import select

from console.extensions import db
from console.models import AdminAccount, LoginEvent, User
from tests.conftest import TEST_DATABASE_URL
from tests.faults.conftest import (
    Gunicorn,
    assert_service_unavailable,
    sign_in_over_http,
)
from tests.helpers import PASSWORD, cheap_hash, fresh_database_url, row_counts


@pytest.fixture
def environ(environ, redis_server):
    """The shared cache and the rate limits both on the test's own Redis, as production runs them."""
    return {**environ, "REDIS_URL": redis_server.url, "RATELIMIT_STORAGE_URI": redis_server.url}


def test_the_api_through_a_redis_outage(harness, simulator, redis_server, unchanged, changes):
    method = harness.add_method()
    registered = harness.register(method, "alice")  # answered success before the outage: its rows stay
    token = harness.token(method, "alice")
    bind_code = harness.login(method, "carol").json["bindCode"]
    counts = harness.counts()
    assert counts["users"] == 1 and counts["wechat_bindings"] == 1

    redis_server.stop()

    # A wx.login() code cannot be marked as presented anywhere every process sees: refused, before WeChat sees it.
    code = harness.code(method, "bob")
    with unchanged():
        answer = harness.post(f"/wechat-mini/{method.name}/login", {"code": code})
        assert_service_unavailable(answer)
        assert_service_unavailable(harness.login(method, "alice"))
    assert simulator.state.exchanges.get(code, 0) == 0, "the code reached WeChat while it could not be marked"

    # The phone button's code is marked the same way, and the access token lives in the shared cache.
    fetches = dict(simulator.state.token_fetches)
    with unchanged():
        phone_code = simulator.phone_code(method.app_id, "alice")
        assert_service_unavailable(harness.post(f"/wechat-mini/{method.name}/phone", {"code": phone_code}, token))
    assert simulator.state.token_fetches == fetches

    # What needs only the database works: rate limits are counted in this process's memory meanwhile.
    with changes() as changed:
        issued = harness.post("/auth/token", {"loginCode": registered["loginCode"]})
    assert issued.status_code == 200, issued.json
    assert changed["access_tokens"] == 1
    assert harness.get("/me", issued.json["accessToken"]).status_code == 200
    with changes() as changed:
        assert harness.post(f"/wechat-mini/{method.name}/register", {"bindCode": bind_code}).status_code == 201
    assert changed["users"] == 1 and changed["wechat_bindings"] == 1

    ready = harness.client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json == {
        "status": "unavailable",
        "database": "ok",
        "redis": "unreachable",
        "rateLimitStorage": "unreachable",
    }

    redis_server.start()

    assert harness.client.get("/readyz").json == {
        "status": "ok",
        "database": "ok",
        "redis": "ok",
        "rateLimitStorage": "ok",
    }
    again = harness.login(method, "alice")
    assert again.status_code == 200 and "loginCode" in again.json  # alice's rows survived the outage
    phone = harness.post(
        f"/wechat-mini/{method.name}/phone", {"code": simulator.phone_code(method.app_id, "alice")}, token
    )
    assert phone.status_code == 200, phone.json
    new = harness.login(method, "bob")
    assert new.status_code == 200 and "bindCode" in new.json


def test_the_console_through_a_redis_outage(app, harness, make_account, sign_in, redis_server, unchanged):
    method = harness.add_method()
    harness.register(method, "alice")
    harness.login(method, "alice", errcode=40226)  # one WeChat refusal, counted from its login event
    make_account("boss")
    with app.app_context():
        user_id = db.session.scalar(select(User.id))

    redis_server.stop()

    # Signing in works: its rate limit falls back to this process's memory.
    browser = sign_in("boss")
    dashboard = browser.get("/")
    assert dashboard.status_code == 200
    text = dashboard.get_data(as_text=True)
    assert '<span class="badge text-bg-danger">1</span>' in text  # the counts live in the database, not in Redis
    assert browser.get(f"/users/{user_id}").status_code == 200

    # Asking WeChat about a session key needs the access token in the shared cache: refused, said on the page.
    with unchanged():
        checked = browser.post(f"/users/{user_id}/bindings/{method.id}/check-session-key", follow_redirects=True)
    assert checked.status_code == 200
    assert "The shared cache (Redis) cannot be reached right now" in checked.get_data(as_text=True)

    redis_server.start()

    harness.login(method, "alice", errcode=40226)  # counted with the one before (the new Redis is empty)
    text = browser.get("/").get_data(as_text=True)
    assert '<span class="badge text-bg-danger">2</span>' in text
    checked = browser.post(f"/users/{user_id}/bindings/{method.id}/check-session-key", follow_redirects=True)
    assert "still accepts" in checked.get_data(as_text=True)


def test_gunicorn_through_a_redis_outage(simulator, redis_server, tmp_path):
    """Real gunicorn, two workers, one Redis killed under them: JSON 503s and working sign-in, no traceback."""
    environ = {
        "SECRET_KEY": "faults-secret-key",
        "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DATABASE_URL": fresh_database_url(tmp_path, TEST_DATABASE_URL),
        "WECHAT_API_BASE": simulator.url,
        "WECHAT_TIMEOUT": "5",
        "REDIS_URL": redis_server.url,
        "RATELIMIT_STORAGE_URI": redis_server.url,
    }
    from console import create_app

    app = create_app({"TESTING": True}, environ=environ)
    with app.app_context():
        db.create_all()
        db.session.add(AdminAccount(username="boss", role="admin", password_hash=cheap_hash(PASSWORD)))
        db.session.commit()
    from tests.helpers import Harness

    harness = Harness(app, app.test_client(), simulator)
    method = harness.add_method()
    server = Gunicorn(environ, tmp_path / "gunicorn.log")
    try:
        api = f"{server.url}/api/v1"
        first = requests.post(
            f"{api}/wechat-mini/{method.name}/login", json={"code": harness.code(method, "alice")}, timeout=10
        )
        assert first.status_code == 200 and "bindCode" in first.json()
        before = row_counts(app)

        redis_server.stop()

        for _ in range(4):  # more calls than workers: every worker meets the outage
            assert_service_unavailable(
                requests.post(
                    f"{api}/wechat-mini/{method.name}/login", json={"code": harness.code(method, "bob")}, timeout=10
                )
            )
        assert requests.post(f"{api}/auth/token", json={"loginCode": "x" * 43}, timeout=10).status_code == 400
        ready = requests.get(f"{server.url}/readyz", timeout=10)
        assert ready.status_code == 503 and ready.json()["redis"] == "unreachable"
        # each refused call wrote its login event and nothing else
        assert row_counts(app) == {**before, "login_events": before["login_events"] + 5}
        with app.app_context():
            outcomes = db.session.scalars(select(LoginEvent.outcome).order_by(LoginEvent.id)).all()
        assert outcomes[-5:] == ["service_unavailable"] * 4 + ["invalid_login_code"]
        before = row_counts(app)

        # Signing in works (its rate limit counted in memory) and keeps its session and audit rows; the dashboard's
        # counts come from the database.
        browser = sign_in_over_http(server.url, "boss", PASSWORD)
        assert "WeChat errors, last 24 hours" in browser.get(f"{server.url}/", timeout=10).text
        after = row_counts(app)
        assert after == {
            **before,
            "console_sessions": before["console_sessions"] + 1,
            "audit_events": before["audit_events"] + 1,
        }

        redis_server.start()

        assert requests.get(f"{server.url}/readyz", timeout=10).status_code == 200
        again = requests.post(
            f"{api}/wechat-mini/{method.name}/login", json={"code": harness.code(method, "bob")}, timeout=10
        )
        assert again.status_code == 200 and "bindCode" in again.json()
    finally:
        server.stop()
        with app.app_context():
            db.engine.dispose()
    log = server.log_path.read_text()
    assert "Traceback" not in log, log[-3000:]
    assert not [secret for secret in simulator.state.secrets() if secret in log]


def test_an_outage_logs_one_line_per_call(harness, redis_server, caplog):
    method = harness.add_method()
    redis_server.stop()
    caplog.clear()
    caplog.set_level(logging.INFO)
    assert_service_unavailable(harness.login(method, "alice"))
    lines = [
        record for record in caplog.records if record.name.startswith("console") and record.levelno >= logging.WARNING
    ]
    assert len(lines) == 1 and lines[0].exc_info is None, [record.getMessage() for record in lines]
    assert "redis" in lines[0].getMessage()


def test_a_redis_that_never_answers(environ, harness_for, simulator):
    """A Redis that accepts connections and never answers (hung, or a half-open network path): every call that needs
    it still answers 503 within seconds, so no worker waits until gunicorn kills it."""
    silent = socket.create_server(("127.0.0.1", 0), backlog=128)  # the kernel completes connections; no one answers
    url = f"redis://127.0.0.1:{silent.getsockname()[1]}/0"
    harness, server = harness_for({**environ, "REDIS_URL": url, "RATELIMIT_STORAGE_URI": url})
    try:
        method = harness.add_method()
        code = harness.code(method, "alice")
        # Each call is bounded by the clients' timeouts (a second per try, one retry), far below gunicorn's 30 s.
        started = time.monotonic()
        answer = requests.post(f"{server.url}/api/v1/wechat-mini/{method.name}/login", json={"code": code}, timeout=20)
        assert_service_unavailable(answer)
        assert time.monotonic() - started < 10
        started = time.monotonic()
        ready = requests.get(f"{server.url}/readyz", timeout=20)
        assert ready.status_code == 503 and ready.json()["redis"] == "unreachable"
        assert time.monotonic() - started < 5
        assert simulator.state.exchanges.get(code, 0) == 0
    finally:
        server.stop()
        silent.close()


@pytest.fixture
def harness_for(simulator):
    """An app built from an environment, its schema created, served by a live server in a thread."""
    apps = []

    def build(environ):
        from console import create_app
        from tests.helpers import Harness, LiveServer

        app = create_app({"TESTING": True}, environ=environ)
        with app.app_context():
            db.create_all()
        apps.append(app)
        return Harness(app, app.test_client(), simulator), LiveServer(app)

    yield build
    for app in apps:
        with app.app_context():
            db.engine.dispose()
