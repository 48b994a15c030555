"""A bug of ours is a 500 that logs one line with the request id: no traceback, no bound SQL values."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy.exc import IntegrityError

from console.errors import unreachable_dependency
from console.extensions import db
from console.models import Corp

PHONE = "13912345678"


def _duplicate_corp() -> None:
    """A bug that writes personal data and breaks a constraint: the second corp repeats the first one's slug."""
    db.session.add(Corp(slug="dup", name="13800138000"))
    db.session.commit()
    db.session.add(Corp(slug="dup", name=PHONE))
    db.session.commit()


def test_database_errors_never_carry_the_bound_values(app):
    with app.app_context(), pytest.raises(IntegrityError) as raised:
        _duplicate_corp()
    assert PHONE not in str(raised.value)


@pytest.mark.console
@pytest.mark.parametrize("path", ["/api/v1/wechat-mini/shopLogin/login", "/sign-in"])
def test_a_bug_logs_one_line_with_the_request_id(harness, monkeypatch, caplog, path):
    from console.auth import views
    from console.seed import WeChatMiniType

    def broken(*args, **kwargs):
        _duplicate_corp()

    harness.add_method()
    monkeypatch.setattr(WeChatMiniType, "getLoginCode", broken)
    monkeypatch.setattr(views.accounts, "sign_in", broken)
    caplog.clear()
    caplog.set_level(logging.INFO)

    if path.startswith("/api/"):
        answer = harness.client.post(path, json={"code": "abc"}, headers={"X-Request-ID": "bug-1"})
    else:
        answer = harness.client.post(path, data={"username": "a", "password": "b"}, headers={"X-Request-ID": "bug-1"})

    assert answer.status_code == 500
    problems = [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert len(problems) == 1, [record.getMessage() for record in problems]
    (line,) = problems
    assert line.exc_info is None and "\n" not in line.getMessage()
    assert "bug-1" in line.getMessage() and "IntegrityError" in line.getMessage()
    assert "tests/test_errors.py" in line.getMessage()  # where it broke, in our code
    assert PHONE not in caplog.text


def test_an_error_raised_while_handling_an_outage_is_still_the_outage():
    import redis

    try:
        try:
            raise redis.exceptions.ConnectionError("refused")
        except redis.exceptions.ConnectionError:
            raise KeyError("while cleaning up") from None
    except KeyError as error:
        assert unreachable_dependency(error) is None  # `from None`: said on purpose to be something else
    try:
        try:
            raise redis.exceptions.ConnectionError("refused")
        except redis.exceptions.ConnectionError:
            raise KeyError("while cleaning up")  # noqa: B904  (the chain is what is tested)
    except KeyError as error:
        assert unreachable_dependency(error) == "redis"
