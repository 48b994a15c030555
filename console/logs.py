"""Logging that cannot leak: secrets in query strings are masked before any handler sees them."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid

from flask import g, request

# jscode2session carries the appSecret and the user's code in its URL; dev servers and urllib3 log URLs.
SECRET_PARAMS = re.compile(r"\b(secret|js_code|code|session_key|access_token|ticket|appsecret)=([^&\s\"']+)", re.I)
SECRET_WORDS = re.compile(r'("(?:appSecret|session_key|sessionKey|accessToken|bindCode|loginCode)"\s*:\s*)"[^"]*"')
REDACTED_LOGGERS = ("werkzeug", "urllib3", "urllib3.connectionpool", "gunicorn.access", "gunicorn.error")


def redact(text: str) -> str:
    """Mask the values of secret query parameters and JSON fields in a line of text."""
    return SECRET_WORDS.sub(r'\1"***"', SECRET_PARAMS.sub(r"\1=***", text))


class RedactSecrets(logging.Filter):
    """A filter that rewrites each record's message with secrets masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = redact(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def install_redaction() -> None:
    """Put the redacting filter on every logger that prints URLs we do not control."""
    for name in REDACTED_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, RedactSecrets) for existing in logger.filters):
            logger.addFilter(RedactSecrets())


REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
QUIET_ENDPOINTS = {"static", "web.healthz", "web.readyz"}
request_log = logging.getLogger("console.requests")


def note_error(error) -> None:
    """Remember the request's error code (and WeChat's errcode) for its log line."""
    g.log_error = error


def init_request_log(app) -> None:
    """One structured line per request (API call or console action): never a secret, code or token."""

    @app.before_request
    def start_clock():
        g.request_started = time.perf_counter()
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if REQUEST_ID.match(incoming) else uuid.uuid4().hex

    @app.after_request
    def log_request(response):
        response.headers["X-Request-ID"] = g.get("request_id", "")
        if request.endpoint in QUIET_ENDPOINTS or (request.blueprint or "").startswith("wechat_simulator"):
            return response
        error = g.get("log_error")
        actor = g.get("audit_actor")
        request_log.info(
            json.dumps(
                {
                    "requestId": g.get("request_id"),
                    "method": request.method,
                    "path": request.path,
                    "loginMethod": (request.view_args or {}).get("name"),
                    "actor": actor.name if actor else None,
                    "status": response.status_code,
                    "outcome": "error" if response.status_code >= 400 else "ok",
                    "errorCode": error.code if error else None,
                    "wechatErrcode": error.wechat_errcode if error else None,
                    "durationMs": round(
                        (time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000, 1
                    ),
                    "address": request.remote_addr,
                }
            )
        )
        return response


def init_app_logging(level: str) -> None:
    """Print the app's own log lines (requests, WeChat calls) when nothing else configured logging."""
    if logging.getLogger().handlers:
        return  # a host (pytest, a logging config) decides where lines go
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logger = logging.getLogger("console")
    if not logger.handlers:
        logger.addHandler(handler)
        logger.setLevel(level)
