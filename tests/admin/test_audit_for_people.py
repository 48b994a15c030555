"""The audit log read by people: actors and users named, the reason apart, filters that say when they are wrong.

Each test failed before its fix: API events read "api: api", users were bare ids, the reason sat in the details,
and a "since" after the "until", an unknown action or user silently showed nothing.
"""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import select

from console.extensions import db
from console.models import AuditEvent, LoginMethod, utcnow


def rows_of(page) -> list[str]:
    """The audit table's rows as text, one string per row (tags dropped, blanks collapsed)."""
    html = page.get_data(as_text=True)
    body = html.split("<tbody>")[1].split("</tbody>")[0] if "<tbody>" in html else ""
    return [" ".join(unescape(re.sub(r"<[^>]+>", " ", row)).split()) for row in body.split("<tr>")[1:]]


def cell(page, css_class: str) -> list[str]:
    """The text of every table cell of that class."""
    html = page.get_data(as_text=True)
    return [unescape(text).strip() for text in re.findall(rf'<td class="{css_class}">(.*?)</td>', html, re.S)]


def test_an_api_event_names_the_mini_program_its_login_method_and_app_id(app, support, harness):
    method = harness.add_method(name="shopLogin")
    harness.register(method, "alice", name="Alice")

    page = support.get("/audit", query_string={"action": "register"})

    [row] = rows_of(page)
    assert "shopLogin title mini program shopLogin · appId " + method.app_id in row
    assert "api: api" not in page.get_data(as_text=True)
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "register"))
        assert (event.actor_type, event.actor, event.details["appId"]) == ("api", "shopLogin", method.app_id)


def test_an_old_api_event_is_named_from_its_login_method_at_display_time(app, support, harness):
    method = harness.add_method(name="shopLogin")
    with app.app_context():  # as events were written before actors were named
        db.session.add(
            AuditEvent(
                action="login",
                actor_type="api",
                actor="api",
                login_method_id=method.id,
                login_method_name="shopLogin",
                details={"openId": "o-1"},
            )
        )
        db.session.commit()

    [row] = rows_of(support.get("/audit", query_string={"action": "login"}))

    assert "shopLogin title mini program shopLogin · appId " in row
    assert method.app_id in row and "openId = o-1" in row


def test_an_old_api_event_of_a_deleted_login_method_still_reads(app, support):
    with app.app_context():
        db.session.add(
            AuditEvent(
                action="login", actor_type="api", actor="api", login_method_id=999, login_method_name="goneLogin"
            )
        )
        db.session.commit()
    [row] = rows_of(support.get("/audit", query_string={"action": "login"}))
    assert "goneLogin mini program goneLogin" in row


@pytest.mark.parametrize(
    "actor_type, actor, shown",
    [("console", "helper", "helper console"), ("cli", "root", "root command line"), ("app", "python", "Python code")],
)
def test_other_actors_are_named_with_their_kind(app, support, actor_type, actor, shown):
    with app.app_context():
        db.session.add(AuditEvent(action="corp.create", actor_type=actor_type, actor=actor, details={}))
        db.session.commit()
    assert any(shown in row for row in rows_of(support.get("/audit", query_string={"action": "corp.create"})))


def test_users_are_shown_by_name_with_a_link_to_their_page(app, support, harness):
    method = harness.add_method(name="shopLogin")
    user_id = harness.register(method, "alice", name="Alice <b>")["user"]["userId"]
    with app.app_context():
        db.session.add(AuditEvent(action="user.disable", actor_type="console", actor="boss", user_id=424242))
        db.session.commit()

    page = support.get("/audit")
    html = page.get_data(as_text=True)

    assert f'<a href="/users/{user_id}">Alice &lt;b&gt;</a>' in html
    assert "#424242 (no longer exists)" in html and "/users/424242" not in html


def test_the_unbind_reason_has_its_own_column_and_leaves_the_details(app, support, harness):
    method = harness.add_method(name="shopLogin")
    user_id = harness.register(method, "alice", name="Alice")["user"]["userId"]
    harness.register(harness.add_method(name="blogLogin"), "alice-blog")  # another user, another event
    answer = support.post(
        f"/users/{user_id}/bindings/{method.id}/unbind", data={"reason": "changed phones, ticket #123"}
    )
    assert answer.status_code == 302

    page = support.get("/audit", query_string={"action": "unbind"})

    assert cell(page, "reason") == ["changed phones, ticket #123"]
    html = page.get_data(as_text=True)
    assert ">reason</span>" not in html and ">openId</span>=" in html


def test_details_are_key_value_pairs_whose_keys_never_break(app, support):
    with app.app_context():
        db.session.add(
            AuditEvent(action="bind", actor_type="console", actor="boss", details={"unionId": "u-1", "openId": "o-1"})
        )
        db.session.commit()
    html = support.get("/audit").get_data(as_text=True)
    assert '<span class="detail"><span class="detail-key text-body-secondary">unionId</span>=<code>u-1</code>' in html
    assert 'class="text-break"' not in html  # Bootstrap's break-anywhere, which split "u nionId"
    css = support.get("/static/console.css").get_data(as_text=True)
    assert re.search(r"\.details \.detail-key \{ white-space: nowrap; \}", css)
    assert re.search(r"\.details \.detail \{[^}]*word-break: normal; overflow-wrap: break-word;", css)


@pytest.fixture
def logged(app, harness):
    """A user (id 1) with events over two days, and a login method."""
    method = harness.add_method(name="shopLogin")
    harness.register(method, "alice", name="Alice")
    return method


INVALID_FILTERS = [
    ({"since": "2025-03-02", "until": "2025-03-01"}, "To", "“To” (2025-03-01) is before “From” (2025-03-02)"),
    ({"action": "no.such"}, "Action", "No audit event has the action 'no.such': choose one from the list."),
    ({"user_id": "abc"}, "User id", "A user id is a whole number, e.g. 42, as on the user's page."),
    ({"user_id": "0"}, "User id", "A user id is a whole number from 1 up"),
    ({"user_id": "987654"}, "User id", "No user has the id 987654"),
    ({"since": "yesterday"}, "From", "Type a date as YYYY-MM-DD, e.g. 2025-03-01."),
]


@pytest.mark.parametrize("query, field, sentence", INVALID_FILTERS)
def test_an_invalid_filter_is_named_on_the_form_and_shows_no_events(support, logged, query, field, sentence):
    page = support.get("/audit", query_string=query)
    html = unescape(page.get_data(as_text=True))

    assert page.status_code == 400
    assert f'<div class="invalid-feedback">{sentence}' in html
    assert f"No event is shown: fix the {field} filter below" in html
    assert rows_of(page) == []


@pytest.mark.parametrize("query, field, sentence", INVALID_FILTERS)
def test_the_export_refuses_the_same_invalid_filters_before_any_byte(support, logged, query, field, sentence):
    answer = support.get("/audit.csv", query_string=query)
    html = unescape(answer.get_data(as_text=True))

    assert answer.status_code == 400 and answer.mimetype == "text/html"
    assert f"Nothing was exported: fix the filter {field}." in html and sentence in html
    assert "id,created_at" not in html


def test_several_invalid_filters_are_each_named(support, logged):
    answer = support.get("/audit.csv", query_string={"action": "nope", "since": "2025-03-02", "until": "2025-03-01"})
    assert "Nothing was exported: fix the filters Action, To." in answer.get_data(as_text=True)


def test_a_valid_user_and_date_range_still_filter(app, support, logged):
    today = utcnow().date().isoformat()
    page = support.get("/audit", query_string={"user_id": "1", "since": today, "until": today})
    # a row reads: date, time, zone, action, ...
    assert page.status_code == 200 and [row.split()[3] for row in rows_of(page)] == ["register"]
    assert support.get("/audit.csv", query_string={"user_id": "1", "since": today, "until": today}).status_code == 200


def test_a_user_id_that_only_events_remember_is_a_valid_filter(app, support):
    with app.app_context():
        db.session.add(AuditEvent(action="user.disable", actor_type="console", actor="boss", user_id=77, details={}))
        db.session.commit()
    page = support.get("/audit", query_string={"user_id": "77"})
    assert page.status_code == 200 and len(rows_of(page)) == 1


def test_the_api_actor_is_the_login_method_for_every_api_event(app, harness):
    method = harness.add_method(name="shopLogin")
    token = harness.token(method, "alice")
    assert harness.post("/auth/logout", token=token).status_code == 200
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.actor_type == "api")).all()
        assert {event.action for event in events} == {"register", "logout"}
        assert {event.actor for event in events} == {"shopLogin"}
        assert db.session.get(LoginMethod, method.id).app_id == events[0].details["appId"]
