"""A live deployment for the production tests: gunicorn with several workers over one database and Redis."""

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
import redis
import requests

from console import create_app
from console.extensions import db
from tests.conftest import TEST_DATABASE_URL
from tests.helpers import Harness, RecordingClient, fresh_database_url

ROOT = Path(__file__).resolve().parents[2]
REDIS_BASE = "redis://127.0.0.1:6379"


def redis_answers() -> bool:
    try:
        return redis.Redis.from_url(f"{REDIS_BASE}/0", socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        return False


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Gunicorn:
    """`gunicorn wsgi:app` with the project's gunicorn.conf.py, as production runs it, on a free port.

    Ready once `ready_path` answers 200; `threads` None keeps gunicorn.conf.py's; the log is appended to, so one
    file can follow several servers of a test.
    """

    def __init__(
        self, environ: dict, log_path: Path, workers: int = 4, threads: int | None = 8, ready_path: str = "/readyz"
    ):
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self.log = open(log_path, "a")  # noqa: SIM115  (the process writes to it until stop() closes it)
        env = {key: value for key, value in os.environ.items() if key not in ("CONSOLE_DEMO", "WECHAT_SIMULATOR")}
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "wsgi:app",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
        ]
        if threads is not None:
            command += ["--threads", str(threads)]
        self.process = subprocess.Popen(
            command, cwd=ROOT, env={**env, **environ}, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}{ready_path}", timeout=5).status_code == 200:
                    return
            except (requests.ConnectionError, requests.Timeout):  # not up yet, or slow to answer on a loaded machine
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not become ready; see {log_path}")

    def stop(self) -> None:
        """Stop gunicorn at once (the tests wait on no request)."""
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=30)
        self.log.close()


@dataclass
class Deployment:
    """A database seeded through `harness` and served by gunicorn at `url`."""

    harness: Harness
    url: str
    server: Gunicorn


def start_deployment(simulator, tmp_path: Path, **settings) -> Deployment:
    """Create the schema, seed-ready app and gunicorn over a fresh database."""
    from cryptography.fernet import Fernet

    environ = {
        "SECRET_KEY": "deployment-secret-key",
        "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DATABASE_URL": fresh_database_url(tmp_path, TEST_DATABASE_URL),
        "WECHAT_API_BASE": simulator.url,
        "WECHAT_TIMEOUT": "5",
        "RATELIMIT_API_PER_ADDRESS": "100000 per minute",
        **settings,
    }
    app = create_app({"TESTING": True}, environ=environ)
    app.test_client_class = RecordingClient
    with app.app_context():
        db.create_all()
    server = Gunicorn(environ, tmp_path / "gunicorn.log")
    return Deployment(Harness(app, app.test_client(), simulator), server.url, server)


def stop_deployment(deployment: Deployment, simulator) -> None:
    """Stop gunicorn and prove its log holds no secret the simulator handed out."""
    deployment.server.stop()
    with deployment.harness.app.app_context():
        db.engine.dispose()
    log = deployment.server.log_path.read_text()
    assert not [secret for secret in simulator.state.secrets() if secret in log], "a secret reached gunicorn's log"


@pytest.fixture(scope="module")
def deployment(simulator, tmp_path_factory):
    """4 gunicorn workers over one database, sharing Redis when it answers."""
    settings = {}
    if redis_answers():
        redis.Redis.from_url(f"{REDIS_BASE}/12").flushdb()
        settings = {"RATELIMIT_STORAGE_URI": f"{REDIS_BASE}/12", "REDIS_URL": f"{REDIS_BASE}/12"}
    deployment = start_deployment(simulator, tmp_path_factory.mktemp("deployment"), **settings)
    yield deployment
    stop_deployment(deployment, simulator)
