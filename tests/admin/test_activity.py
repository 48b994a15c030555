"""The Activity page, a user's recent activity with failures in words, and the dashboard's figures from login events."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import cachelib.simple
import pytest

from console import create_app
from console.extensions import db
from console.models import LoginEvent, utcnow
from console.services.bindings import issue_bind_ticket
from console.services.login_events import explain
from console.services.login_methods import find_login_method
from tests.fuzz.hostile import HUGE, PAST_INT4

ITEM = re.compile(r'<li class="list-group-item px-0" data-call="([a-z]+)" data-outcome="([a-z_]+)">')


def listed(page) -> list[tuple[str, str]]:
    """(call, outcome) of every event the page lists, in its order."""
    return ITEM.findall(page.get_data(as_text=True))


def add_events(app, *rows: dict) -> None:
    with app.app_context():
        db.session.add_all(LoginEvent(**{"call": "login", "outcome": "ok", **row}) for row in rows)
        db.session.commit()


@pytest.fixture
def seeded(app):
    """Events of several calls, login methods, outcomes, users and ages; the moment they were made relative to."""
    now = utcnow()
    add_events(
        app,
        {
            "login_method": "shopLogin",
            "outcome": "invalid_code",
            "wechat_errcode": 40029,
            "created_at": now - timedelta(days=10),
        },
        {
            "call": "bind",
            "login_method": "blogLogin",
            "outcome": "code_used",
            "user_id": 2,
            "created_at": now - timedelta(days=3),
        },
        {"call": "token", "login_method": "shopLogin", "user_id": 1, "created_at": now - timedelta(days=1)},
        {
            "login_method": "blogLogin",
            "outcome": "registration_closed",
            "openid": "oB",
            "created_at": now - timedelta(hours=3),
        },
        {
            "login_method": "shopLogin",
            "outcome": "user_blocked",
            "wechat_errcode": 40226,
            "request_id": "r2",
            "created_at": now - timedelta(hours=2),
        },
        {
            "login_method": "shopLogin",
            "user_id": 1,
            "openid": "oA",
            "address": "192.0.2.7",
            "created_at": now - timedelta(hours=1),
        },
    )
    return now


ALL = [
    ("login", "ok"),
    ("login", "user_blocked"),
    ("login", "registration_closed"),
    ("token", "ok"),
    ("bind", "code_used"),
    ("login", "invalid_code"),
]


@pytest.mark.parametrize(
    "query, expected",
    [
        ({}, ALL),
        ({"login_method": "blogLogin"}, [ALL[2], ALL[4]]),
        ({"outcome": "failed"}, [ALL[1], ALL[2], ALL[4], ALL[5]]),
        ({"outcome": "ok"}, [ALL[0], ALL[3]]),
        ({"outcome": "user_blocked"}, [ALL[1]]),
        ({"wechat_errcode": "40226"}, [ALL[1]]),
        ({"wechat_errcode": "-1"}, []),
        ({"openid": " oB "}, [ALL[2]]),
        ({"user_id": "1"}, [ALL[0], ALL[3]]),
        ({"call": "token"}, [ALL[3]]),
        ({"request_id": "r2"}, [ALL[1]]),
        ({"call": "login", "login_method": "shopLogin", "outcome": "failed"}, [ALL[1], ALL[5]]),
        ({"user_id": "1", "page": "2"}, []),
        ({"page": "abc"}, ALL),
    ],
)
def test_activity_filters(support, seeded, query, expected):
    page = support.get("/activity", query_string=query)
    assert page.status_code == 200 and listed(page) == expected


def test_activity_time_range_by_day_and_by_minute(support, seeded):
    day = (seeded - timedelta(days=2)).date().isoformat()
    minute = (seeded - timedelta(minutes=150)).strftime("%Y-%m-%d %H:%M")
    assert listed(support.get("/activity", query_string={"until": day})) == [ALL[4], ALL[5]]  # all of that day
    assert listed(support.get("/activity", query_string={"since": day})) == ALL[:4]
    assert listed(support.get("/activity", query_string={"since": minute})) == ALL[:2]
    assert listed(support.get("/activity", query_string={"since": day, "until": day})) == []
    assert listed(support.get("/activity", query_string={"until": "9999-12-31"})) == ALL  # no overflow


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("user_id", "abc", "Not a valid integer value."),
        ("user_id", "0", "Number must be between 1 and 2147483647."),
        ("user_id", "99999999999", "Number must be between 1 and 2147483647."),
        ("user_id", "²", "Not a valid integer value."),
        ("wechat_errcode", "x", "Not a valid integer value."),
        ("wechat_errcode", "9" * 5000, "Not a valid integer value."),
        ("since", "2026-13-01", "Not a date: write YYYY-MM-DD, or YYYY-MM-DD HH:MM (UTC)."),
        ("until", "yesterday", "Not a date: write YYYY-MM-DD, or YYYY-MM-DD HH:MM (UTC)."),
        ("outcome", "bogus", "Not a valid choice."),
        ("call", "logout", "Not a valid choice."),
        ("openid", "o" * 129, "Field cannot be longer than 128 characters."),
        ("login_method", "m" * 65, "Field cannot be longer than 64 characters."),
        ("request_id", "r" * 65, "Field cannot be longer than 64 characters."),
    ],
)
def test_an_invalid_filter_is_shown_on_the_form_and_lists_nothing(support, seeded, field, value, message):
    page = support.get("/activity", query_string={field: value, "login_method": "shopLogin"} | {field: value})
    text = page.get_data(as_text=True)
    assert page.status_code == 400
    assert re.search(rf'<input[^>]*is-invalid[^>]*name="{field}"|<select[^>]*is-invalid[^>]*name="{field}"', text)
    assert f'<div class="invalid-feedback">{message}</div>' in text
    assert "Fix the filter marked below to see the activity." in text and listed(page) == []


def test_a_range_that_ends_before_it_starts_is_refused_not_silently_empty(support, seeded):
    page = support.get("/activity", query_string={"since": "2026-03-02", "until": "2026-03-01 23:59"})
    assert page.status_code == 400
    assert "The end is before the start: swap the two, or clear one." in page.get_data(as_text=True)


def test_activity_pages_newest_first_and_the_pager_keeps_only_the_filters(app, support):
    now = utcnow()
    add_events(app, *({"user_id": 5, "created_at": now - timedelta(minutes=n)} for n in range(51)))
    add_events(app, {"user_id": 6})

    first = support.get("/activity", query_string={"user_id": "5", "endpoint": "x", "_scheme": "y"})
    second = support.get("/activity", query_string={"user_id": "5", "page": "2"})

    assert len(listed(first)) == 50 and len(listed(second)) == 1
    assert '<a class="page-link" href="/activity?page=2&amp;user_id=5">Older</a>' in first.get_data(as_text=True)
    assert '<a class="page-link" href="/activity?page=1&amp;user_id=5">Newer</a>' in second.get_data(as_text=True)
    assert "Older" not in second.get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_sign_in(app):
    response = app.test_client().get("/activity?outcome=failed")
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in")


@pytest.mark.parametrize("role", ["support", "admin"])
def test_support_and_admins_read_the_activity_from_the_menu(request, seeded, role):
    client = request.getfixturevalue(role)
    home = client.get("/").get_data(as_text=True)
    assert re.search(r'<a class="nav-link"\s+href="/activity">Activity</a>', home)
    page = client.get("/activity")
    assert page.status_code == 200 and listed(page) == ALL
    assert "WeChat blocked this user (errcode 40226" in page.get_data(as_text=True)


# -- failures in words --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields, words",
    [
        (
            {"outcome": "registration_closed"},
            "This login method does not allow new users; turn on registration or bind "
            "the WeChat to an existing account",
        ),
        ({"outcome": "code_used"}, "The wx.login() code was already used"),
        ({"outcome": "code_used", "wechat_errcode": 40163}, "WeChat says the code was already used (errcode 40163)"),
        ({"outcome": "user_blocked", "wechat_errcode": 40226}, "WeChat blocked this user (errcode 40226"),
        ({"outcome": "invalid_code", "wechat_errcode": 40029}, "WeChat says the code is invalid (errcode 40029)"),
        ({"outcome": "wechat_rate_limited", "wechat_errcode": 45011}, "WeChat rate-limited this mini program"),
        ({"outcome": "wechat_misconfigured", "wechat_errcode": 40125}, "WeChat rejects the appSecret (errcode 40125)"),
        (
            {"outcome": "wechat_misconfigured", "wechat_errcode": 40013},
            "WeChat does not know the appId (errcode 40013)",
        ),
        (
            {"outcome": "wechat_unavailable", "wechat_errcode": 99999},
            "WeChat could not be reached or gave an "
            "unreadable answer. Nothing is wrong with the user: the next try usually passes. (WeChat errcode 99999.)",
        ),
        ({"outcome": "account_disabled"}, "The user's account is disabled: enable it on their page."),
        ({"outcome": "ok", "user_id": 3}, "Logged in."),
        ({"outcome": "ok"}, "A WeChat user new to this login method: answered a bindCode to register with."),
        ({"call": "bind", "outcome": "ok"}, "Bound this WeChat to the account."),
        ({"outcome": "some_future_code"}, "Failed: some_future_code."),
    ],
)
def test_every_outcome_is_explained_in_words(fields, words):
    assert explain(LoginEvent(**{"call": "login", **fields})).startswith(words)


def test_the_user_page_shows_recent_activity_with_failures_explained_and_links_to_the_rest(app, support, harness):
    shop = harness.add_method(name="shopLogin")
    blog = harness.add_method(name="blogLogin", allow_register=False)
    user_id = harness.register(shop, "bob")["user"]["userId"]
    harness.login(blog, "bob")  # registration_closed: an unknown WeChat user of blogLogin, no user known yet
    with app.app_context():
        ticket = issue_bind_ticket(find_login_method("blogLogin"), user_id)
    harness.post("/wechat-mini/blogLogin/bind", {"code": harness.code(blog, "bob", errcode=40226), "ticket": ticket})
    harness.post("/wechat-mini/blogLogin/bind", {"code": harness.code(blog, "bob"), "ticket": ticket})
    harness.login(harness.add_method(name="otherLogin"), "bob")  # another WeChat user's story: not bob's

    page = support.get(f"/users/{user_id}")
    text = page.get_data(as_text=True)

    assert listed(page) == [
        ("bind", "ok"),
        ("bind", "user_blocked"),
        ("login", "registration_closed"),  # found through the WeChat identity bound since
        ("register", "ok"),
        ("login", "ok"),  # the bindCode that preceded the registration
    ]
    assert "This login method does not allow new users; turn on registration or bind the WeChat" in text
    assert "WeChat blocked this user (errcode 40226" in text
    assert f'href="/activity?user_id={user_id}">All of this user\'s activity</a>' in text
    openid = harness.simulator.state.identity(blog.app_id, "bob")[0]
    assert f'href="/activity?openid={openid}">its activity</a>' in text


def test_the_user_page_lists_the_latest_twenty_events(app, support, harness):
    method = harness.add_method()
    user_id = harness.register(method, "alice")["user"]["userId"]
    add_events(app, *({"user_id": user_id, "outcome": "code_used"} for _ in range(25)))
    assert listed(support.get(f"/users/{user_id}")) == [("login", "code_used")] * 20


# -- the dashboard from login events -----------------------------------------------------------------------------


def test_the_dashboard_counts_wechat_errors_of_24_hours_from_the_events_and_they_survive_a_restart(
    app, support, console_config, console_environ, make_account, sign_in
):
    now = utcnow()
    add_events(
        app,
        {"outcome": "user_blocked", "wechat_errcode": 40226, "created_at": now - timedelta(hours=23, minutes=50)},
        {"outcome": "user_blocked", "wechat_errcode": 40226, "created_at": now - timedelta(minutes=6)},
        {"outcome": "wechat_unavailable", "created_at": now - timedelta(minutes=1)},
        {"outcome": "user_blocked", "created_at": now - timedelta(hours=24, minutes=10)},  # too old
        {"outcome": "registration_closed"},  # not WeChat's
    )

    page = support.get("/").get_data(as_text=True)
    # a fresh process (its in-memory cache empty) over the same database shows the same
    restarted = create_app(console_config, environ=console_environ)
    fresh = restarted.test_client()
    fresh.post("/sign-in", data={"username": "helper", "password": "correct horse battery"})
    again = fresh.get("/").get_data(as_text=True)

    for text in (page, again):
        assert re.search(r'WeChat errors, 24 h</div>\s*<div class="fs-2 fw-semibold">3</div>', text)
        blocked = re.search(r'outcome=user_blocked"><code>user_blocked</code></a></td>\s*<td[^>]*>(.*?)</td>', text)
        assert blocked and blocked.group(1) == '<span class="badge text-bg-danger">2</span>'
    with restarted.app_context():
        db.session.remove()
        db.engine.dispose()


def test_the_dashboard_chart_counts_logins_of_known_users_and_registrations_per_day(app, support):
    now = utcnow()
    yesterday = now - timedelta(days=1)
    add_events(
        app,
        {"user_id": 1},
        {"user_id": 2},
        {"user_id": 1, "created_at": yesterday},
        {"call": "register", "user_id": 3},
        {},  # a new WeChat user answered a bindCode: not a login yet
        {"user_id": 1, "outcome": "account_disabled"},
        {"call": "token", "user_id": 1},
        {"user_id": 1, "created_at": now - timedelta(days=31)},  # off the chart
    )

    text = support.get("/").get_data(as_text=True)

    assert (
        '<div class="text-body-secondary small">Logins today</div>\n      <div class="fs-2 fw-semibold">2</div>' in text
    )
    assert (
        '<div class="text-body-secondary small">Registrations today</div>\n      <div class="fs-2 fw-semibold">1</div>'
        in text
    )
    assert f"{yesterday.date()}: 1 login(s)" in text and f"{now.date()}: 2 login(s)" in text


def test_wechat_errors_on_the_dashboard_outlive_the_in_memory_cache_lifetime(support, harness, monkeypatch):
    """Issue 11: without Redis, the old counter's inc() re-set its key with cachelib's 300-second default lifetime,
    so "WeChat errors, last 24 hours" emptied itself after 5 minutes under `make run`."""
    method = harness.add_method()
    harness.login(method, "alice", errcode=40226)
    six_minutes_on = time.time() + 360
    monkeypatch.setattr(cachelib.simple, "time", lambda: six_minutes_on)  # as far as the in-memory cache can tell

    text = support.get("/").get_data(as_text=True)

    assert re.search(r'WeChat errors, 24 h</div>\s*<div class="fs-2 fw-semibold">1</div>', text)


def test_the_activity_names_the_users_it_links_to(app, support, harness):
    method = harness.add_method()
    user_id = harness.register(method, "alice", name="Alice Liddell")["user"]["userId"]
    add_events(app, {"user_id": 999})  # a user deleted since: the id alone
    text = support.get("/activity").get_data(as_text=True)
    assert f'<a href="/users/{user_id}">Alice Liddell #{user_id}</a>' in text
    assert '<a href="/users/999">#999</a>' in text


@pytest.mark.parametrize(
    "query",
    [
        {"page": HUGE},
        {"page": PAST_INT4},
        {"page": "-1"},
        {"page": "²"},
        {"since": "0001-01-01", "until": "0001-01-01 00:00"},
        {"since": "9999-12-31 23:59", "until": "9999-12-31"},
        {"user_id": HUGE},
        {"user_id": PAST_INT4},
        {"wechat_errcode": PAST_INT4},
        {"wechat_errcode": "-" + PAST_INT4},
        {"wechat_errcode": "٣"},
        {"openid": "\ufffd" * 128, "request_id": "𝟙" * 64, "login_method": "Ⅻ"},
        {"since": HUGE},
    ],
)
def test_any_filter_is_answered_never_with_a_500(support, seeded, query):
    assert support.get("/activity", query_string=query).status_code in (200, 400)
