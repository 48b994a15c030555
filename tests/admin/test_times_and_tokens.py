"""Pages show times in the console's zone and name it; a user's tokens can be told apart on any screen."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from console.extensions import db
from console.models import AccessToken, AuditEvent, User

CREATED = datetime(2026, 11, 25, 17, 3, 27, tzinfo=UTC)  # the next day in Shanghai


@pytest.fixture
def user_id(app, harness):
    """A user of shopLogin registered at CREATED, with two live tokens through shopLogin and an audit event."""
    shop = harness.add_method(name="shopLogin")
    user_id = harness.register(shop, "alice", name="Alice")["user"]["userId"]
    harness.token(shop, "alice")
    harness.token(shop, "alice")
    with app.app_context():
        db.session.get(User, user_id).created_at = CREATED
        db.session.execute(AuditEvent.__table__.update().values(created_at=CREATED))
        db.session.commit()
    return user_id


def times(html: str) -> list[str]:
    """The text of every <time> on the page."""
    return [re.sub(r"<[^>]+>", "", shown) for shown in re.findall(r"<time [^>]*>(.*?)</time>", html)]


def test_the_user_page_shows_times_in_the_console_zone_with_its_name(support, user_id):
    html = support.get(f"/users/{user_id}").get_data(as_text=True)

    assert "2026-11-26 01:03 CST" in times(html)  # created: 17:03 UTC is 01:03 the next day in Shanghai
    assert 'title="2026-11-26 01:03:27 CST (Asia/Shanghai, UTC+08:00)"' in html
    assert times(html) and all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d(:\d\d)? CST", shown) for shown in times(html))


def test_the_audit_log_says_which_zone_its_times_are_in(support, user_id):
    html = support.get("/audit").get_data(as_text=True)

    assert "times in Asia/Shanghai (CST)" in html and "times in UTC" not in html
    assert "2026-11-26 01:03 CST" in times(html)


def test_another_zone_is_named_as_configured(app, support, user_id):
    app.config["CONSOLE_TIMEZONE"] = "Europe/Berlin"
    html = support.get(f"/users/{user_id}").get_data(as_text=True)

    assert "2026-11-25 18:03 CET" in times(html)


def test_two_tokens_through_one_mini_program_are_told_apart_by_id_and_issue_time(app, support, user_id):
    with app.app_context():
        tokens = db.session.scalars(select(AccessToken).order_by(AccessToken.id)).all()
        ids = [token.id for token in tokens]
    html = support.get(f"/users/{user_id}").get_data(as_text=True)
    table = html.split("Active access tokens", 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)

    assert len(rows) == 2 and len(set(rows)) == 2
    for token_id, row in zip(sorted(ids, reverse=True), rows, strict=True):
        assert f"<td>#{token_id}</td>" in row  # newest first
        assert any(re.fullmatch(r"\S+ \d\d:\d\d:\d\d CST", shown) for shown in times(row))  # issued, to the second
        assert "shopLogin title" in row and f"Revoke access token #{token_id}?" in row
    assert "d-none" not in table  # nothing that tells them apart is hidden on a phone
