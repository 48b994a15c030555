"""The user list's filters (login method, status, corp, last-login range) and the filtered users' CSV export."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from console.extensions import db
from console.models import USER_DISABLED, AuditEvent, Membership, User, WeChatBinding
from console.services import users as users_service


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def people(app, harness):
    """Four users, each with known bindings, status, corps and last logins (UTC):

    Alice: shopLogin (2024-03-10 12:00) and blogLogin (2024-03-20 08:00), in acme;
    Bob: shopLogin (2024-03-15 09:30), disabled, in beta;
    Carol: blogLogin, never logged in (as far as the bindings know), a phone;
    Dan: shopLogin (2024-03-20 23:59:59), in acme.
    """
    shop = harness.add_method(name="shopLogin", open_platform="platform")
    blog = harness.add_method(name="blogLogin", open_platform="platform")
    acme, beta = harness.add_corp("acme", "Acme"), harness.add_corp("beta", "Beta")
    ids = {
        "Alice": harness.register(shop, "alice", name="Alice")["user"]["userId"],
        "Bob": harness.register(shop, "bob", name="Bob")["user"]["userId"],
        "Carol": harness.register(blog, "carol", name="Carol")["user"]["userId"],
        "Dan": harness.register(shop, "dan", name="Dan")["user"]["userId"],
    }
    assert harness.login(blog, "alice").status_code == 200  # her unionId binds Alice on blogLogin too
    logins = {
        ("Alice", shop.id): "2024-03-10T12:00:00",
        ("Alice", blog.id): "2024-03-20T08:00:00",
        ("Bob", shop.id): "2024-03-15T09:30:00",
        ("Carol", blog.id): None,
        ("Dan", shop.id): "2024-03-20T23:59:59",
    }
    with app.app_context():
        for (name, method_id), last in logins.items():
            binding = db.session.scalar(
                select(WeChatBinding).where(
                    WeChatBinding.user_id == ids[name], WeChatBinding.login_method_id == method_id
                )
            )
            binding.last_login_at = moment(last) if last else None
        db.session.get(User, ids["Bob"]).status = USER_DISABLED
        db.session.get(User, ids["Carol"]).phone = "13800138000"
        db.session.add_all(
            [
                Membership(user_id=ids["Alice"], corp_id=acme),
                Membership(user_id=ids["Bob"], corp_id=beta),
                Membership(user_id=ids["Dan"], corp_id=acme),
            ]
        )
        db.session.commit()
    return {"ids": ids, "shop": shop, "blog": blog}


def names(page) -> list[str]:
    return sorted(re.findall(r'href="/users/\d+">([^<]+)</a>', page.get_data(as_text=True)))


EVERYONE = ["Alice", "Bob", "Carol", "Dan"]


FILTER_CASES = (
    ({}, EVERYONE),
    ({"login_method": "shopLogin"}, ["Alice", "Bob", "Dan"]),
    ({"login_method": "blogLogin"}, ["Alice", "Carol"]),
    ({"status": "disabled"}, ["Bob"]),
    ({"status": "active"}, ["Alice", "Carol", "Dan"]),
    ({"corp": "acme"}, ["Alice", "Dan"]),
    ({"corp": "beta"}, ["Bob"]),
    ({"since": "2024-03-16"}, ["Alice", "Dan"]),
    ({"since": "2024-03-21"}, []),
    ({"until": "2024-03-15"}, ["Bob"]),  # Alice logged in on the 10th, but last on the 20th
    ({"until": "2024-03-19"}, ["Bob"]),
    ({"since": "2024-03-15", "until": "2024-03-15"}, ["Bob"]),
    ({"since": "2024-03-20", "until": "2024-03-20"}, ["Alice", "Dan"]),  # a whole UTC day, to 23:59:59
    ({"since": "2024-03-10", "until": "2024-03-10"}, []),  # Alice's earlier login is not her last
    ({"since": "0001-01-01", "until": "9999-12-31"}, ["Alice", "Bob", "Dan"]),  # Carol never logged in
    ({"login_method": "shopLogin", "corp": "acme", "status": "active"}, ["Alice", "Dan"]),
    ({"login_method": "blogLogin", "since": "2024-03-20"}, ["Alice"]),
    ({"q": "a", "corp": "acme"}, ["Alice", "Dan"]),  # the search and the filters together
    ({"q": "13800", "status": "active"}, ["Carol"]),
    ({"q": "Carol", "corp": "acme"}, []),
)


def test_each_filter_and_their_combinations(support, people):
    # one fixture for every case: building the people takes a second
    for query, expected in FILTER_CASES:
        page = support.get("/users", query_string=query)
        assert page.status_code == 200 and names(page) == expected, query
        assert "is-invalid" not in page.get_data(as_text=True), query


def test_a_filter_that_matches_nobody_says_so(support, people):
    text = support.get("/users", query_string={"corp": "beta", "status": "active"}).get_data(as_text=True)
    assert "No user matches these filters." in text


def test_the_list_shows_phone_and_last_login(support, people):
    text = support.get("/users").get_data(as_text=True)
    assert '<th class="d-none d-md-table-cell">Phone</th>' in text and "13800138000" in text
    assert ">Last login</th>" in text
    assert 'datetime="2024-03-20T08:00:00+00:00"' in text  # Alice's latest of two
    assert 'datetime="2024-03-20T23:59:59+00:00"' in text and 'datetime="2024-03-15T09:30:00+00:00"' in text
    assert 'datetime="2024-03-10T12:00:00+00:00"' not in text  # not Alice's last


def test_a_reversed_last_login_range_is_an_invalid_filter_naming_both_fields(support, people):
    page = support.get("/users", query_string={"since": "2024-03-20", "until": "2024-03-10", "status": "disabled"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Last login from (2024-03-20) is after Last login to (2024-03-10): swap the dates or clear one." in text
    assert text.count("is after Last login to") == 1  # said once, for both ends
    assert re.search(r'class="form-control is-invalid" id="since"', text)
    assert re.search(r'class="form-control is-invalid" id="until"', text)
    assert names(page) == ["Bob"]  # the valid filters still apply; the reversed range is left out, and said so


INVALID_CASES = (
    ({"login_method": "nosuchLogin"}, "login_method", "Not a valid choice."),
    ({"status": "deleted"}, "status", "Not a valid choice."),
    ({"corp": "nosuchcorp"}, "corp", "Not a valid choice."),
    ({"since": "yesterday"}, "since", "Not a valid date value."),
    ({"until": "2024-13-01"}, "until", "Not a valid date value."),
    ({"until": "2024-02-30"}, "until", "Not a valid date value."),
)


def test_an_invalid_filter_is_shown_as_invalid_never_an_empty_list(support, people):
    for query, field, message in INVALID_CASES:
        page = support.get("/users", query_string=query)
        text = page.get_data(as_text=True)
        assert page.status_code == 200, query
        assert re.search(rf'class="form-(select|control) is-invalid" id="{field}"', text), query
        assert message in text and names(page) == EVERYONE, query


ODD_INPUTS = (
    {"since": "9999-12-31", "until": "9999-12-31"},
    {"since": "0001-01-01", "until": "0001-01-01"},
    {"since": "9999-12-31", "until": "0001-01-01"},
    {"since": "99999-01-01"},
    {"since": "2024-03-20T10:00"},
    {"login_method": "x" * 5000, "corp": "\u00e9\u4e2d", "status": ""},
    {"status": ["active", "disabled"]},
)


def test_any_filter_input_answers_200(support, people):
    for query in ODD_INPUTS:
        assert support.get("/users", query_string=query).status_code == 200, query


def test_pager_links_keep_the_filters_and_the_export_link_carries_them(app, support, harness):
    corp_id = harness.add_corp("acme", "Acme")
    with app.app_context():
        people = [User(name=f"Erin {number:02d}") for number in range(25)]
        db.session.add_all(people)
        db.session.flush()
        db.session.add_all(Membership(user_id=user.id, corp_id=corp_id) for user in people)
        db.session.add(User(name="Outside"))
        db.session.commit()
    query = {"corp": "acme", "status": "active", "since": "", "sort": "name", "dir": "asc"}

    first = support.get("/users", query_string=query).get_data(as_text=True)
    second = support.get("/users", query_string={**query, "page": "2"})

    assert "/users?status=active&amp;corp=acme&amp;sort=name&amp;dir=asc&amp;per_page=20&amp;page=2" in first
    assert 'href="/users.csv?status=active&amp;corp=acme"' in first  # no sort, page or empty filter
    assert names(second) == [f"Erin {number}" for number in range(20, 25)]


# --- the CSV export -------------------------------------------------------------------------------------


def exported(answer) -> list[list[str]]:
    body = answer.get_data()
    assert body.startswith(b"\xef\xbb\xbf"), "the file begins with a UTF-8 byte order mark"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


HEADER = ["id", "name", "phone", "status", "created_at", "last_login_at", "login_methods", "corps"]


def test_the_export_is_the_filtered_users_with_their_logins_and_corps(support, people):
    answer = support.get("/users.csv", query_string={"login_method": "shopLogin", "since": "2024-03-16"})

    assert answer.status_code == 200
    assert answer.mimetype == "text/csv" and answer.mimetype_params["charset"] == "utf-8"
    assert answer.headers["Content-Disposition"] == "attachment; filename=users.csv"
    assert answer.headers["Cache-Control"] == "no-store"
    rows = exported(answer)
    ids = people["ids"]
    assert rows[0] == HEADER
    assert [row[:4] for row in rows[1:]] == [
        [str(ids["Alice"]), "Alice", "", "active"],
        [str(ids["Dan"]), "Dan", "", "active"],
    ]
    alice, dan = rows[1], rows[2]
    assert alice[5:] == ["2024-03-20T08:00:00+00:00", "blogLogin shopLogin", "acme"]
    assert dan[5:] == ["2024-03-20T23:59:59+00:00", "shopLogin", "acme"]
    assert datetime.fromisoformat(alice[4]).tzinfo is not None


EXPORT_CASES = (
    ({}, EVERYONE),
    ({"status": "disabled"}, ["Bob"]),
    ({"corp": "acme"}, ["Alice", "Dan"]),
    ({"login_method": "blogLogin"}, ["Alice", "Carol"]),
    ({"until": "2024-03-19"}, ["Bob"]),
    ({"q": "carol"}, ["Carol"]),
    ({"corp": "beta", "status": "active"}, []),
    # the pager's own keys do not narrow an export
    ({"page": "2", "per_page": "20", "sort": "name", "dir": "asc"}, EVERYONE),
)


def test_the_export_applies_every_filter(support, people):
    for query, expected in EXPORT_CASES:
        rows = exported(support.get("/users.csv", query_string=query))
        assert rows[0] == HEADER and sorted(row[1] for row in rows[1:]) == expected, query


def test_the_export_streams_a_batch_at_a_time_and_misses_no_one(app, support, monkeypatch):
    monkeypatch.setattr(users_service, "EXPORT_BATCH", 3)
    with app.app_context():
        db.session.add_all(User(name=f"User {number}") for number in range(7))
        db.session.commit()
    answer = support.get("/users.csv", buffered=False)
    chunks = list(answer.response)
    answer.close()
    assert "Content-Length" not in answer.headers
    assert len(chunks) == 1 + 3  # the header, then batches of 3, 3 and 1 users
    rows = list(csv.reader(io.StringIO(b"".join(chunks).decode("utf-8-sig"))))
    assert [row[1] for row in rows[1:]] == [f"User {number}" for number in range(7)]  # by id, each once


def test_the_export_keeps_chinese_names_and_defuses_formulas(app, support):
    dangerous = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tTab", "\rReturn"]
    with app.app_context():
        db.session.add_all(User(name=name) for name in ["张三", *dangerous, "a=b", "李-四"])
        db.session.add(User(name="Phone", phone="+14155550123"))
        db.session.commit()
    rows = exported(support.get("/users.csv"))
    cells = [row[1] for row in rows[1:]]
    assert cells[0] == "张三" and cells[-3:-1] == ["a=b", "李-四"]  # only a leading sign is defused
    assert cells[1:7] == ["'" + name for name in dangerous]
    assert rows[-1][2] == "'+14155550123"


def test_the_export_is_audited_with_its_filters_and_row_count(app, support, admin, people):
    support.get("/users.csv", query_string={"corp": "acme", "since": "2024-03-01", "page": "3"}).get_data()
    admin.get("/users.csv").get_data()
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user.export")).all()
        assert [(event.actor_type, event.actor) for event in events] == [("console", "helper"), ("console", "boss")]
        assert events[0].details == {"rows": 2, "corp": "acme", "lastLoginFrom": "2024-03-01"}
        assert events[1].details == {"rows": 4}


REFUSED_EXPORTS = (
    ({"since": "2024-03-20", "until": "2024-03-10"}, "filters Last login from, Last login to"),
    ({"since": "yesterday"}, "filter Last login from"),
    ({"until": "2024-02-30"}, "filter Last login to"),
    ({"login_method": "nosuchLogin"}, "filter Login method"),
    ({"status": "deleted", "corp": "nosuchcorp"}, "filters Status, Corp"),
)


def test_an_export_with_an_invalid_filter_is_400_before_any_byte_and_not_audited(support, people, unchanged):
    for query, fields in REFUSED_EXPORTS:
        with unchanged():
            answer = support.get("/users.csv", query_string=query)
        text = answer.get_data(as_text=True)
        assert answer.status_code == 400 and answer.mimetype == "text/html", query
        assert f"Nothing was exported: fix the {fields}." in text, query
        assert "id,name" not in text and "Content-Disposition" not in answer.headers, query


def test_support_and_admin_may_export_anonymous_visitors_may_not(app, support, admin, people):
    anonymous = app.test_client().get("/users.csv")
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/sign-in")
    assert support.get("/users.csv").status_code == 200
    assert admin.get("/users.csv").status_code == 200
    with app.app_context():
        assert len(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user.export")).all()) == 2
