"""The WeChat simulator mounted on real gunicorn with 4 workers: every worker sees the same codes and apps.

Its state once lived in each worker's memory, and 6 of 12 logins failed: a code minted by one worker was
unknown to the worker that exchanged it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from cryptography.fernet import Fernet

from console import create_app
from console.demo import DEMO_METHOD, ensure_demo
from console.extensions import db
from console.security.keyring import KeyRing
from console.services import gateway
from console.wechat.simulator.state import SimulatorState
from tests.conftest import TEST_DATABASE_URL
from tests.helpers import fresh_database_url
from tests.production.conftest import ROOT, free_port

USERS = 16
SETTINGS = ("CONSOLE_DEMO", "WECHAT_SIMULATOR", "WECHAT_API_BASE", "WECHAT_SIMULATOR_STATE", "FLASK_RUN_PORT")


@dataclass
class Served:
    """gunicorn serving the console with the simulator mounted, and what a test needs to drive it."""

    url: str
    demo: bool
    app_id: str
    secret: str
    state: SimulatorState
    log: Path


def serve(environ: dict, port: int, log: Path) -> subprocess.Popen:
    """`gunicorn wsgi:app` with the project's gunicorn.conf.py and 4 workers, ready on `port`."""
    inherited = {key: value for key, value in os.environ.items() if key not in SETTINGS}
    with open(log, "w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "wsgi:app", "--bind", f"127.0.0.1:{port}", "--workers", "4"],
            cwd=ROOT,
            env={**inherited, **environ},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code == 200:
                return process
        except (requests.ConnectionError, requests.Timeout):  # not up yet, or slow to answer on a loaded machine
            time.sleep(0.2)
    stop(process)
    raise RuntimeError(f"gunicorn did not become ready; see {log}")


def stop(process: subprocess.Popen) -> None:
    """Quick shutdown: the tests wait on no request."""
    process.send_signal(signal.SIGINT)
    process.wait(timeout=30)


@pytest.fixture(scope="module")
def stranger():
    """Listens on FLASK_RUN_PORT and never answers: the demo's derived WeChat address must never reach it."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        listener.setblocking(False)
        yield listener


@pytest.fixture(scope="module", params=["demo", "explicit"])
def served(request, tmp_path_factory, stranger):
    """The demo (CONSOLE_DEMO=1, WeChat served in-process) or WECHAT_SIMULATOR=1 with WECHAT_API_BASE naming
    gunicorn's own address (WeChat calls go over HTTP to any worker); both over one state file."""
    tmp_path, port = tmp_path_factory.mktemp(request.param), free_port()
    environ = {
        "SECRET_KEY": "simulator-workers-secret-key",
        "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DATABASE_URL": fresh_database_url(tmp_path, TEST_DATABASE_URL),
        "WECHAT_SIMULATOR_STATE": str(tmp_path / "wechat-simulator.db"),
        "FLASK_RUN_PORT": str(stranger.getsockname()[1]),
        "RATELIMIT_API_PER_ADDRESS": "100000 per minute",
        "WECHAT_TIMEOUT": "5",
    }
    if request.param == "demo":
        environ["CONSOLE_DEMO"] = "1"
    else:
        environ.update(WECHAT_SIMULATOR="1", WECHAT_API_BASE=f"http://127.0.0.1:{port}/_wechat")
    app = create_app({"TESTING": True}, environ=environ)
    with app.app_context():
        db.create_all()
        method = ensure_demo(environ["WECHAT_SIMULATOR_STATE"]).method
        assert method is not None
        app_id, secret = method.app_id, gateway.app_secret(method)
        db.session.remove()
        db.engine.dispose()
    process = serve(environ, port, tmp_path / "gunicorn.log")
    state = SimulatorState(environ["WECHAT_SIMULATOR_STATE"], KeyRing(environ["ENCRYPTION_KEYS"]))
    yield Served(f"http://127.0.0.1:{port}", request.param == "demo", app_id, secret, state, tmp_path / "gunicorn.log")
    stop(process)
    assert secret not in (tmp_path / "gunicorn.log").read_text(), "the appSecret reached gunicorn's log"
    with pytest.raises(BlockingIOError):
        stranger.accept()  # nothing was ever sent to FLASK_RUN_PORT


def call(method: str, url: str, **kwargs) -> requests.Response:
    """One request on a connection of its own, so that any of the workers may take it."""
    with requests.Session() as session:
        return session.request(method, url, headers={"Connection": "close"}, timeout=10, **kwargs)


def wx_login(served: Served, user: str) -> str:
    """A wx.login() code: through the control API in the demo; outside it, where it is not mounted, from the
    state file itself, as another process sharing it."""
    if served.demo:
        minted = call("POST", f"{served.url}/_wechat/sim/codes", json={"appId": served.app_id, "user": user})
        assert minted.status_code == 200, minted.text
        return minted.json()["code"]
    return served.state.mint_code(served.app_id, user)


def test_every_login_succeeds_whichever_worker_mints_or_exchanges_the_code(served):
    api = f"{served.url}/api/v1"
    outcomes = []
    for number in range(USERS):
        user = f"worker-user-{number}"
        first = call("POST", f"{api}/wechat-mini/{DEMO_METHOD}/login", json={"code": wx_login(served, user)})
        outcomes.append(first.status_code)
        if first.status_code != 200:
            continue
        registered = call(
            "POST", f"{api}/wechat-mini/{DEMO_METHOD}/register", json={"bindCode": first.json()["bindCode"]}
        )
        token = call("POST", f"{api}/auth/token", json={"loginCode": registered.json().get("loginCode")})
        again = call("POST", f"{api}/wechat-mini/{DEMO_METHOD}/login", json={"code": wx_login(served, user)})
        outcomes += [registered.status_code, token.status_code, again.status_code]
        assert "loginCode" in again.json()

    assert outcomes == [200, 201, 200, 200] * USERS  # 32 logins, each code minted and exchanged anywhere


def test_the_control_api_is_served_in_the_demo_only(served):
    registered = call("PUT", f"{served.url}/_wechat/sim/apps/wxsneaky", json={"appSecret": "mine"}).status_code
    assert registered == (200 if served.demo else 404)
    assert served.state.has_app("wxsneaky") is served.demo
