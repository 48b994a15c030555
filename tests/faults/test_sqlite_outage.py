"""SQLite's database file out of reach (docs/dependencies.md).

SQLite has no server to cut off, and a connection that is already open keeps its file whatever happens to the
path. What does happen is a process that opens its connections while the file cannot be reached: a volume not
mounted yet, a moved or renamed directory, a wrong path after a deploy. Here the database's directory is moved
away and the process opens fresh connections (a new gunicorn, or an in-process app whose pool was emptied, as a
freshly forked worker's is); then the directory comes back.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
import requests
from cryptography.fernet import Fernet

from console import create_app
from console.extensions import db
from console.models import AdminAccount
from tests.conftest import TEST_DATABASE_URL
from tests.faults.conftest import (
    Gunicorn,
    assert_console_unavailable_page,
    assert_service_unavailable,
    sign_in_over_http,
)
from tests.helpers import PASSWORD, Harness, cheap_hash, row_counts

pytestmark = pytest.mark.skipif(
    bool(TEST_DATABASE_URL), reason="SQLite's own outage runs in the SQLite pass; PostgreSQL: test_postgres_outage.py"
)


@pytest.fixture
def database_url(tmp_path):
    """A SQLite file in a directory of its own, which the test moves away and back."""
    (tmp_path / "data").mkdir()
    return f"sqlite:///{tmp_path / 'data' / 'console.db'}"


def test_the_api_and_the_console_while_the_database_file_is_out_of_reach(
    app, harness, admin, simulator, tmp_path, unchanged
):
    method = harness.add_method()
    registered = harness.register(method, "alice")  # answered success before the outage: its rows stay
    token = harness.token(method, "alice")
    code = harness.code(method, "bob")

    with unchanged():  # counted before the move and after the return
        (tmp_path / "data").rename(tmp_path / "away")
        with app.app_context():
            db.engine.dispose()  # the connections a freshly forked worker has: none

        assert_service_unavailable(harness.post(f"/wechat-mini/{method.name}/login", {"code": code}))
        assert_service_unavailable(harness.post("/auth/token", {"loginCode": registered["loginCode"]}))
        assert_service_unavailable(harness.get("/me", token))
        assert harness.client.get("/api/v1/openapi.json").status_code == 200  # needs no database
        assert_console_unavailable_page(admin.get("/"))
        anonymous = app.test_client()
        assert_console_unavailable_page(anonymous.post("/sign-in", data={"username": "boss", "password": PASSWORD}))
        ready = harness.client.get("/readyz")
        assert ready.status_code == 503 and ready.json == {"status": "unavailable", "database": "unreachable"}

        (tmp_path / "away").rename(tmp_path / "data")

    assert simulator.state.exchanges.get(code, 0) == 0  # refused before WeChat: the same code still works
    assert harness.client.get("/readyz").status_code == 200
    assert admin.get("/").status_code == 200
    assert harness.get("/me", token).status_code == 200
    assert "bindCode" in harness.post(f"/wechat-mini/{method.name}/login", {"code": code}).json


def test_gunicorn_started_while_the_database_file_is_out_of_reach(simulator, tmp_path):
    """A new gunicorn finds no database file: the console's 503 page, never gunicorn's bare one; then the file
    comes back and the same process serves."""
    data = tmp_path / "data"
    data.mkdir()
    environ = {
        "SECRET_KEY": "faults-secret-key",
        "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DATABASE_URL": f"sqlite:///{data / 'console.db'}",
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
    log_path = tmp_path / "gunicorn.log"

    first = Gunicorn(environ, log_path)  # before: sign in and register, as any day
    try:
        browser = sign_in_over_http(first.url, "boss", PASSWORD)
        api = f"{first.url}/api/v1"
        login = requests.post(
            f"{api}/wechat-mini/{method.name}/login", json={"code": harness.code(method, "alice")}, timeout=10
        )
        registered = requests.post(
            f"{api}/wechat-mini/{method.name}/register", json={"bindCode": login.json()["bindCode"]}, timeout=10
        )
        assert registered.status_code == 201
    finally:
        first.stop()
    before = row_counts(app)
    with app.app_context():
        db.engine.dispose()

    data.rename(tmp_path / "away")
    server = Gunicorn(environ, log_path)
    try:
        api = f"{server.url}/api/v1"
        for _ in range(4):  # more calls than workers: every worker meets the outage
            assert_console_unavailable_page(browser.get(f"{server.url}/", timeout=10))
            assert_service_unavailable(
                requests.post(
                    f"{api}/wechat-mini/{method.name}/login", json={"code": harness.code(method, "bob")}, timeout=10
                )
            )
        ready = requests.get(f"{server.url}/readyz", timeout=10)
        assert ready.status_code == 503 and ready.json()["database"] == "unreachable"

        (tmp_path / "away").rename(data)

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
    log = log_path.read_text()
    assert "Traceback" not in log, log[-3000:]
    assert not [secret for secret in simulator.state.secrets() if secret in log]


def test_a_write_lock_held_by_another_process(app, harness, admin, tmp_path, unchanged):
    """Another process (a backup, a `sqlite3` shell left open) holds SQLite's write lock beyond the busy timeout:
    writes answer 503 after it, reads keep working, and the call that failed changed nothing."""
    method = harness.add_method()
    registered = harness.register(method, "alice")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None); c.execute('BEGIN IMMEDIATE');"
            " print('locked', flush=True); sys.stdin.read()",
            str(tmp_path / "data" / "console.db"),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        with unchanged():
            assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
            # redeeming the loginCode is a write: it waits for the lock (10 s), then gives up
            assert_service_unavailable(harness.post("/auth/token", {"loginCode": registered["loginCode"]}))
            assert admin.get("/users").status_code == 200  # reading needs no lock
            assert holder.stdin is not None
            holder.stdin.close()
            holder.wait(timeout=10)
    finally:
        holder.kill()
        holder.wait()
    issued = harness.post("/auth/token", {"loginCode": registered["loginCode"]})
    assert issued.status_code == 200, issued.json  # the failed call did not use the code up
