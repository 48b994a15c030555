"""WeChat's refusals are counted per code for the dashboard, outside the database."""

from __future__ import annotations

from datetime import timedelta

from console.errors import LoginError
from console.models import utcnow
from console.services.gateway import count_wechat_error, wechat_error_counts


def test_refusals_are_counted_by_code_and_nothing_is_written(harness, app, changes):
    method = harness.add_method()
    with changes() as changed:
        harness.login(method, "alice", errcode=40226)
        harness.login(method, "alice", errcode=40226)
        harness.login(method, "alice", errcode=-1)
        harness.login(method, "alice")  # a success is no refusal
        with app.app_context():
            counts = wechat_error_counts()
    assert counts["user_blocked"] == 2 and counts["wechat_unavailable"] == 1 and counts["invalid_code"] == 0
    assert changed["audit_events"] == 0


def test_only_the_last_24_hours_count(app):
    now = utcnow()
    with app.app_context():
        count_wechat_error(LoginError("invalid_code"), now=now - timedelta(hours=30))
        count_wechat_error(LoginError("invalid_code"), now=now - timedelta(hours=23))
        count_wechat_error(LoginError("invalid_request"), now=now)  # not WeChat's
        counts = wechat_error_counts(now=now)
    assert counts["invalid_code"] == 1
    assert set(counts) == {
        "invalid_code",
        "code_used",
        "user_blocked",
        "wechat_rate_limited",
        "wechat_misconfigured",
        "wechat_unavailable",
    }
