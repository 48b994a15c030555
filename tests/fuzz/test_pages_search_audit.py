"""Page numbers of any size, the user search with any Unicode term, the audit log's filters and its CSV export.

Each case answered 500, or a 200 cut off half-way, before its fix.
"""

from __future__ import annotations

import re

import pytest

from console.extensions import db
from console.models import AuditEvent
from tests.fuzz.hostile import HUGE, PAST_INT4


@pytest.mark.parametrize(
    "query",
    [
        {"page": HUGE},
        {"page": PAST_INT4},
        {"page": "-5"},
        {"page": "0"},
        {"page": HUGE, "per_page": "100"},
        {"per_page": HUGE},
    ],
)
def test_page_numbers_of_any_size_list_users(support, query):
    assert support.get("/users", query_string=query).status_code == 200


@pytest.mark.parametrize("query", [{"page": HUGE}, {"page": PAST_INT4}, {"page": "-1"}, {"page": "²"}])
def test_page_numbers_of_any_size_list_audit_events(support, query):
    assert support.get("/audit", query_string=query).status_code == 200


@pytest.mark.parametrize("user_id", [HUGE, PAST_INT4])
def test_an_audit_user_filter_past_the_range_is_shown_as_invalid(support, user_id):
    answer = support.get("/audit", query_string={"user_id": user_id})
    assert answer.status_code == 400 and "is-invalid" in answer.get_data(as_text=True)


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_audit_dates_at_the_ends_of_the_calendar_are_answered(support, day):
    assert support.get("/audit", query_string={"since": day, "until": day}).status_code == 200


@pytest.mark.parametrize("term", ["²", "①", "1²", "٣", "١٢", "𝟙", "Ⅻ", "\U0010ffff", "\ufffd", "½"])
def test_the_user_search_answers_any_unicode_term(support, term):
    assert support.get("/users", query_string={"q": term}).status_code == 200


def test_a_search_for_unicode_digits_finds_the_user_by_id(support, harness, method):
    user_id = harness.register(method, "alice", name="Alice")["user"]["userId"]
    arabic = str(user_id).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert "Alice" in support.get("/users", query_string={"q": arabic}).get_data(as_text=True)


@pytest.mark.parametrize(
    "query, field",
    [
        ({"user_id": "abc"}, "User id"),
        ({"user_id": HUGE}, "User id"),
        ({"user_id": PAST_INT4}, "User id"),
        ({"user_id": "0"}, "User id"),
        ({"since": "yesterday"}, "From"),
        ({"until": "2024-13-01"}, "To"),
        ({"actor": "a" * 129}, "Actor"),
        ({"login_method": "m" * 65}, "Login method"),
    ],
)
def test_a_csv_export_with_a_bad_filter_is_400_naming_it_before_any_row(app, support, query, field):
    with app.app_context():
        db.session.add_all(AuditEvent(action="login", actor_type="api", actor="api", details={}) for _ in range(3))
        db.session.commit()
    answer = support.get("/audit.csv", query_string=query)
    text = answer.get_data(as_text=True)
    assert answer.status_code == 400 and answer.mimetype == "text/html"
    assert re.search(r"Nothing was exported: fix the filters? [^<]*" + field, text) and "id,created_at" not in text


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_a_csv_export_to_the_ends_of_the_calendar_is_complete(support, day):
    answer = support.get("/audit.csv", query_string={"since": "0001-01-01", "until": day})
    assert answer.status_code == 200 and answer.get_data(as_text=True).startswith("id,created_at")


@pytest.mark.parametrize("query", [{"_scheme": "x"}, {"endpoint": "x"}, {"_external": "1", "_anchor": "x"}])
def test_query_keys_that_url_for_takes_as_its_own_are_ignored(app, support, query):
    with app.app_context():  # more than one page, so the pager links are drawn
        db.session.add_all(AuditEvent(action="login", actor_type="api", actor="api", details={}) for _ in range(60))
        db.session.commit()
    assert support.get("/audit", query_string=query).status_code == 200
    assert support.get("/audit.csv", query_string=query).status_code == 200
