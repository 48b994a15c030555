"""The leak detector of conftest can fail: it finds secrets in answers and in formatted log records."""

from __future__ import annotations

import logging

from tests.helpers import leaked_secrets


def test_the_leak_detector_finds_secrets_in_bodies_messages_and_tracebacks():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "key %s", ("k3y",), None)
    try:
        raise ValueError("tr4ceback")
    except ValueError:
        import sys

        failure = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    assert leaked_secrets({"b0dy", "k3y", "tr4ceback", "absent"}, ['{"x": "b0dy"}'], [record, failure]) == {
        "b0dy",
        "k3y",
        "tr4ceback",
    }
