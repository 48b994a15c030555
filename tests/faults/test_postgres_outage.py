"""PostgreSQL cut off mid-run by a TCP proxy of the test's own (docs/dependencies.md): the API answers 503
service_unavailable with Retry-After, console pages the console's own 503 page, /readyz names the database, a
failed call changes nothing, and everything answers again once the proxy forwards again."""

from __future__ import annotations

import pytest
import requests
from cryptography.fernet import Fernet
from sqlalchemy import make_url

from console import create_app
from console.extensions import db
from console.models import AdminAccount
from tests.conftest import TEST_DATABASE_URL
from tests.faults.conftest import (
    Gunicorn,
    TcpProxy,
    assert_console_unavailable_page,
    assert_service_unavailable,
    sign_in_over_http,
)
from tests.helpers import PASSWORD, Harness, cheap_hash, fresh_database_url, row_counts

pytestmark = pytest.mark.skipif(
    not (TEST_DATABASE_URL or "").startswith("postgresql"),
    reason="needs TEST_DATABASE_URL on PostgreSQL (the PostgreSQL pass of make test); SQLite: test_sqlite_outage.py",
)


@pytest.fixture
def proxy():
    """A TCP proxy in front of the test database's server."""
    target = make_url(TEST_DATABASE_URL or "")
    proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432)
    yield proxy
    proxy.close()


@pytest.fixture
def database_url(database_url, proxy):
    """The emptied test database, reached through the proxy."""
    return make_url(database_url).set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)


def test_the_api_and_the_console_through_a_database_outage(app, harness, admin, proxy, simulator, unchanged):
    method = harness.add_method()
    registered = harness.register(method, "alice")  # answered success before the outage: its rows stay
    token = harness.token(method, "alice")
    code = harness.code(method, "bob")

    with unchanged():  # counted before the cut and after the restore
        proxy.cut()

        assert_service_unavailable(harness.post(f"/wechat-mini/{method.name}/login", {"code": code}))
        assert_service_unavailable(harness.post("/auth/token", {"loginCode": registered["loginCode"]}))
        assert_service_unavailable(harness.get("/me", token))
        assert harness.client.get("/api/v1/openapi.json").status_code == 200  # needs no database
        assert_console_unavailable_page(admin.get("/"))
        assert_console_unavailable_page(admin.get("/users"))
        anonymous = app.test_client()
        assert anonymous.get("/sign-in").status_code == 200  # the form needs no database
        assert_console_unavailable_page(anonymous.post("/sign-in", data={"username": "boss", "password": PASSWORD}))
        ready = harness.client.get("/readyz")
        assert ready.status_code == 503 and ready.json == {"status": "unavailable", "database": "unreachable"}
        assert harness.client.get("/healthz").status_code == 200

        proxy.restore()

    assert simulator.state.exchanges.get(code, 0) == 0  # refused before WeChat: the same code still works
    assert harness.client.get("/readyz").status_code == 200
    assert admin.get("/").status_code == 200
    assert harness.get("/me", token).status_code == 200
    assert harness.post("/auth/token", {"loginCode": registered["loginCode"]}).status_code == 200
    assert "bindCode" in harness.post(f"/wechat-mini/{method.name}/login", {"code": code}).json


def test_gunicorn_through_a_database_outage(simulator, proxy, tmp_path):
    """Real gunicorn over the proxy: the console's 503 page, never gunicorn's bare one, and no traceback."""
    target = fresh_database_url(tmp_path, TEST_DATABASE_URL)
    environ = {
        "SECRET_KEY": "faults-secret-key",
        "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DATABASE_URL": make_url(target).set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False),
        "WECHAT_API_BASE": simulator.url,
        "WECHAT_TIMEOUT": "5",
    }
    app = create_app({"TESTING": True}, environ=environ)
    with app.app_context():
        db.create_all()
        db.session.add(AdminAccount(username="boss", role="admin", password_hash=cheap_hash(PASSWORD)))
        db.session.commit()
    harness = Harness(app, app.test_client(), simulator)
    method = harness.add_method()
    server = Gunicorn(environ, tmp_path / "gunicorn.log")
    try:
        api = f"{server.url}/api/v1"
        browser = sign_in_over_http(server.url, "boss", PASSWORD)
        login = requests.post(
            f"{api}/wechat-mini/{method.name}/login", json={"code": harness.code(method, "alice")}, timeout=10
        )
        registered = requests.post(
            f"{api}/wechat-mini/{method.name}/register", json={"bindCode": login.json()["bindCode"]}, timeout=10
        )
        assert registered.status_code == 201
        before = row_counts(app)

        proxy.cut()

        for _ in range(4):  # more calls than workers: every worker meets the outage
            assert_console_unavailable_page(browser.get(f"{server.url}/", timeout=10))
            assert_service_unavailable(
                requests.post(
                    f"{api}/wechat-mini/{method.name}/login", json={"code": harness.code(method, "bob")}, timeout=10
                )
            )
        ready = requests.get(f"{server.url}/readyz", timeout=10)
        assert ready.status_code == 503 and ready.json()["database"] == "unreachable"

        proxy.restore()

        assert row_counts(app) == before
        assert requests.get(f"{server.url}/readyz", timeout=10).status_code == 200
        assert browser.get(f"{server.url}/", timeout=10).status_code == 200
        again = requests.post(
            f"{api}/wechat-mini/{method.name}/login", json={"code": harness.code(method, "alice")}, timeout=10
        )
        assert again.status_code == 200 and "loginCode" in again.json()
    finally:
        server.stop()
        with app.app_context():
            db.engine.dispose()
    log = server.log_path.read_text()
    assert "Traceback" not in log, log[-3000:]
    assert not [secret for secret in simulator.state.secrets() if secret in log]
