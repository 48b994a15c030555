"""The mini program's client library (clients/miniprogram/): its node tests against the live console, its types.

The node tests drive the console served on a local port, with WeChat being the live simulator: this hook
prepares the login methods and accounts they need, hands them over as JSON in MINICLIENT_FIXTURES, and fails
with node's own report when any of them fails. Both database passes of `make test` run it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from console import create_app
from console.demo import ensure_demo
from console.extensions import db
from console.models import LoginMethod, User
from console.services.bindings import issue_bind_ticket
from console.services.users import set_user_disabled
from tests.helpers import LiveServer

CLIENT_DIR = Path(__file__).resolve().parents[2] / "clients" / "miniprogram"
NODE = shutil.which("node")
NPM = shutil.which("npm")
STAMP = CLIENT_DIR / "node_modules" / ".installed-from-lock"  # sha-256 of the package-lock.json installed


def _run(command: list[str], timeout: float, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=CLIENT_DIR, env=env, capture_output=True, text=True, timeout=timeout)


def _report(result: subprocess.CompletedProcess) -> str:
    return f"exit {result.returncode}\n--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"


@pytest.fixture(scope="module")
def node_modules() -> Path:
    """The dev dependencies of the client, installed by `npm ci` when missing or older than the lock file."""
    if NODE is None or NPM is None:
        pytest.skip("node or npm is not on PATH: install Node.js 18+ to test the mini program client")
    lock = hashlib.sha256((CLIENT_DIR / "package-lock.json").read_bytes()).hexdigest()
    if not STAMP.exists() or STAMP.read_text() != lock:
        # No install scripts: nothing the client needs runs one (esbuild finds its binary package by itself).
        result = _run([NPM, "ci", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts"], timeout=600)
        assert result.returncode == 0, "npm ci failed: " + _report(result)
        STAMP.write_text(lock)
    return CLIENT_DIR / "node_modules"


def test_types_check(node_modules):
    """tsc --noEmit checks index.d.ts and the example mini program against miniprogram-api-typings."""
    result = _run([str(node_modules / ".bin" / "tsc"), "--noEmit", "-p", "."], timeout=300)
    assert result.returncode == 0, "tsc found errors: " + _report(result)


def _ticket(app, method_name: str, user_id: int) -> str:
    with app.app_context():
        method = db.session.scalar(select(LoginMethod).where(LoginMethod.name == method_name))
        return issue_bind_ticket(method, user_id)


def _prepare(app, harness, simulator) -> dict:
    """The login methods and accounts the node tests expect (they make their own WeChat users besides)."""
    shop = harness.add_method("shopLogin", corp=("acme", "Acme"))
    closed = harness.add_method("closedLogin", allow_register=False)
    off = harness.add_method("offLogin", enabled=False)
    other = harness.add_method("otherLogin")
    limited = harness.add_method("limitedLogin")
    broken = harness.add_method("brokenLogin")
    simulator.register_app(broken.app_id, "not-the-secret-the-console-keeps")  # WeChat refuses the console's

    disabled_id = harness.register(shop, "disabled-user")["user"]["userId"]
    with app.app_context():
        set_user_disabled(db.session.get(User, disabled_id), True)
    holders = [harness.register(other, f"ticket-holder-{n}")["user"]["userId"] for n in (1, 2)]
    return {
        "simulatorUrl": simulator.url,
        "methods": {
            key: {"name": method.name, "appId": method.app_id}
            for key, method in {
                "shop": shop,
                "closed": closed,
                "off": off,
                "other": other,
                "limited": limited,
                "broken": broken,
            }.items()
        },
        "corpId": "acme",
        "disabledUser": "disabled-user",
        "tickets": [{"ticket": _ticket(app, "shopLogin", user_id), "userId": user_id} for user_id in holders],
    }


def _demo_app(environ: dict[str, str], state_path: Path):
    """What `make run` serves: the demo login method, WeChat simulated in-process, its control API at /_wechat/sim/."""
    demo_environ = {key: value for key, value in environ.items() if key != "WECHAT_API_BASE"}
    demo_environ.update(CONSOLE_DEMO="1", WECHAT_SIMULATOR="1", WECHAT_SIMULATOR_STATE=str(state_path))
    demo = create_app({"TESTING": True}, environ=demo_environ)
    with demo.app_context():
        assert ensure_demo(str(state_path)).method is not None
    return demo


def test_node_suite(app, app_environ, harness, simulator, node_modules, tmp_path):
    """`node --test` passes against the live console: every function, error and race of the client, and the example
    mini program against the demo."""
    fixtures = _prepare(app, harness, simulator)
    # Two more consoles over the same database: one allows two calls a minute per login method and endpoint (for
    # rate_limited), the other is make run's demo (for the example mini program).
    strict_app = create_app(
        {"TESTING": True}, environ={**app_environ, "RATELIMIT_API_PER_LOGIN_METHOD": "2 per minute"}
    )
    demo_app = _demo_app(app_environ, tmp_path / "wechat-simulator.db")
    servers = [LiveServer(app), LiveServer(strict_app), LiveServer(demo_app)]
    fixtures["baseUrl"], fixtures["strictUrl"], fixtures["demoUrl"] = (server.url for server in servers)
    env = {**os.environ, "MINICLIENT_FIXTURES": json.dumps(fixtures), "NO_COLOR": "1"}
    try:
        files = sorted(str(path.relative_to(CLIENT_DIR)) for path in CLIENT_DIR.glob("test/*.test.mjs"))
        result = _run([NODE, "--test", "--test-reporter=spec", *files], timeout=600, env=env)
    finally:
        for server in servers:
            server.stop()
        for extra in (strict_app, demo_app):
            with extra.app_context():
                db.session.remove()
                db.engine.dispose()
    assert result.returncode == 0, "node --test failed: " + _report(result)
    # With the console up, no node test may skip itself.
    assert "ℹ fail 0" in result.stdout and "ℹ skipped 0" in result.stdout, _report(result)
