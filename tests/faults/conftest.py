"""Faults made for real: a Redis server of the test's own that is stopped mid-run, a TCP proxy in front of the
database that cuts its connections, and gunicorn serving through both (docs/dependencies.md says what each
outage must answer)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import threading
import time
from contextlib import suppress
from pathlib import Path

import pytest
import redis
import requests

from tests.production.conftest import Gunicorn as ProductionGunicorn
from tests.production.conftest import free_port

REDIS_SERVER = "/usr/bin/redis-server"


def pytest_itemcollected(item):
    """Every fault test runs against the console under test (console_config, console_environ)."""
    item.add_marker(pytest.mark.console)


class RedisServer:
    """`redis-server` on a free local port, nothing persisted; stop() kills it as a crash would, start() brings
    it back, empty, on the same port."""

    def __init__(self):
        if not os.access(REDIS_SERVER, os.X_OK):
            pytest.skip(f"{REDIS_SERVER} is missing: the Redis outage tests start a server of their own")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        """Start the server and wait until it answers PING."""
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        probe = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if probe.ping():
                    return
            except redis.exceptions.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not answer on port {self.port}")

    def stop(self) -> None:
        """Kill the server (SIGKILL: no goodbye to its clients) and wait until it is gone."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


class TcpProxy:
    """A local port forwarded to `target` by threads; cut() drops every connection and refuses new ones (each is
    closed as soon as it is accepted), restore() forwards again."""

    def __init__(self, host: str, port: int):
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.forwarding = True
        self.sockets: set[socket.socket] = set()
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            if not self.forwarding:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self.lock:
                self.sockets.update((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            with suppress(OSError):  # cut: the sockets were closed under the pump
                while data := source.recv(65536):
                    sink.sendall(data)
        finally:
            self._drop(source, sink)

    def _drop(self, *sockets: socket.socket) -> None:
        with self.lock:
            for sock in sockets:
                self.sockets.discard(sock)
                with suppress(OSError):  # already shut by the other side
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()

    def cut(self) -> None:
        """Drop every open connection and refuse new ones, as a database that went away would."""
        self.forwarding = False
        with self.lock:
            sockets = list(self.sockets)
        self._drop(*sockets)

    def restore(self) -> None:
        """Forward new connections again."""
        self.forwarding = True

    def close(self) -> None:
        """Stop listening and drop everything."""
        self.cut()
        self.listener.close()


class Gunicorn(ProductionGunicorn):
    """Production's gunicorn, ready once /healthz answers: unlike tests/production's, it may start while a
    dependency is down."""

    def __init__(self, environ: dict, log_path: Path, workers: int = 2):
        super().__init__(environ, log_path, workers=workers, threads=None, ready_path="/healthz")


@pytest.fixture
def redis_server():
    """A Redis server of this test's own, killed at the end whatever the test did to it."""
    server = RedisServer()
    yield server
    server.stop()


def sign_in_over_http(url: str, username: str, password: str) -> requests.Session:
    """Sign in to a served console through its form (CSRF token included); the session's cookies are sent over plain
    HTTP although production marks them Secure."""
    browser = requests.Session()
    form = browser.get(f"{url}/sign-in", timeout=10)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form.text) or re.search(
        r'name="csrf_token" value="([^"]+)"', form.text
    )
    assert token, form.text
    signed_in = browser.post(
        f"{url}/sign-in",
        data={"csrf_token": token.group(1), "username": username, "password": password},
        cookies=dict(form.cookies),
        allow_redirects=False,
        timeout=10,
    )
    assert signed_in.status_code == 302, signed_in.text
    # requests keeps Secure cookies away from http://: carry the signed-in session cookie by hand
    browser.cookies.clear()
    for cookie in signed_in.cookies:
        browser.cookies.set(cookie.name, cookie.value)
    return browser


def assert_service_unavailable(answer) -> None:
    """The contract's outage answer: 503, service_unavailable, and a Retry-After in seconds."""
    body = answer.json() if callable(answer.json) else answer.json
    assert answer.status_code == 503, (answer.status_code, body)
    assert body["error"]["code"] == "service_unavailable", body
    assert 0 < int(answer.headers["Retry-After"]) <= 300


def assert_console_unavailable_page(page) -> None:
    """The console's own 503 page: HTML, with Retry-After, not a 500 and not a server's bare page."""
    text = page.text if hasattr(page, "text") and isinstance(page.text, str) else page.get_data(as_text=True)
    assert page.status_code == 503, (page.status_code, text[:500])
    assert page.headers["Content-Type"].startswith("text/html")
    assert 0 < int(page.headers["Retry-After"]) <= 300
    assert "Service unavailable · WeChat login console" in text, text[:500]
