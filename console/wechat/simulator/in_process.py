"""The demo's WeChat address, served without a socket: calls to it go straight into the mounted simulator.

The demo derives WECHAT_API_BASE from FLASK_RUN_PORT, which is only right under `flask run` on that port;
under gunicorn (or while the port belongs to another process) a call there would carry an appSecret to
whoever listens. Served in-process, the derived address cannot reach anything but this app's simulator.
"""

from __future__ import annotations

import threading
from urllib.parse import urlsplit

import requests
from flask import Flask
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers
from werkzeug.test import EnvironBuilder, run_wsgi_app


class InProcessAdapter(BaseAdapter):
    """A requests transport that hands each request to a WSGI app in this process."""

    def __init__(self, app: Flask):
        super().__init__()
        self.app = app

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        """Serve `request` with the app; ReadTimeout when it takes longer than the read timeout, as over HTTP."""
        url = urlsplit(request.url)
        body = request.body.encode() if isinstance(request.body, str) else request.body
        builder = EnvironBuilder(
            method=request.method,
            path=url.path,
            query_string=url.query,
            headers=list(request.headers.items()),
            data=body or b"",
        )
        environ = builder.get_environ()
        builder.close()
        outcome: dict = {}

        def serve() -> None:
            try:
                outcome["answer"] = run_wsgi_app(self.app, environ, buffered=True)
            except Exception as exc:  # any failure of the app is a failed call, as a dropped connection would be
                outcome["error"] = exc

        # A thread of its own: the call gets fresh Flask contexts (not the caller's), and the timeout holds.
        worker = threading.Thread(target=serve, name="wechat-simulator-in-process", daemon=True)
        worker.start()
        worker.join(timeout[1] if isinstance(timeout, tuple) else timeout)
        if worker.is_alive():
            raise requests.ReadTimeout("the in-process WeChat simulator did not answer in time", request=request)
        if "answer" not in outcome:
            raise requests.ConnectionError("the in-process WeChat simulator failed", request=request)
        app_iter, status, headers = outcome["answer"]
        response = requests.Response()
        response.status_code = int(status.split(" ", 1)[0])
        response.reason = status.partition(" ")[2]
        response.headers = CaseInsensitiveDict(headers.items())
        response.encoding = get_encoding_from_headers(response.headers)
        response._content = b"".join(app_iter)
        response.url, response.request = request.url, request
        return response

    def close(self) -> None:
        """Nothing to release: no connection was opened."""


def serve_in_process(app: Flask) -> None:
    """Route the app's WeChat calls to WECHAT_API_BASE into its own mounted simulator, never onto the network."""
    client = app.extensions["wechat_client"]
    client.http.mount(client.base_url + "/", InProcessAdapter(app))
