"""Logging that cannot leak: secrets in query strings are masked before any handler sees them."""

from __future__ import annotations

import logging
import re

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
