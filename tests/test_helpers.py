"""The checks of conftest can fail: the leak detector finds secrets in answers and log records; `unchanged`
finds a written row; `changes` counts rows added and removed."""

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


def test_changes_counts_added_and_removed_rows_per_table(app, changes):
    with changes() as changed, app.app_context():
        db.session.add_all([Corp(slug="one", name="One"), Corp(slug="two", name="Two")])
        db.session.commit()
    assert changed["corps"] == 2 and changed["users"] == 0
    with changes() as changed, app.app_context():
        db.session.delete(db.session.scalar(db.select(Corp).where(Corp.slug == "one")))
        db.session.commit()
    assert changed["corps"] == -1
    with pytest.raises(KeyError):
        changed["no_such_table"]
