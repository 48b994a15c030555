"""The checks of conftest can fail: the leak detector finds secrets in answers and log records; `unchanged`
finds a written row."""

from __future__ import annotations

import logging

import pytest

from console.extensions import db
from console.models import Corp
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


def test_unchanged_fails_when_the_block_writes_a_row(app, unchanged):
    with unchanged():
        pass  # nothing written: passes
    with pytest.raises(AssertionError, match="corps"), unchanged(), app.app_context():
        db.session.add(Corp(slug="written", name="Written"))
        db.session.commit()
