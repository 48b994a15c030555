"""Friendly 403 and 404 pages in the console's look; the JSON API keeps its JSON errors.

Before: support saw Werkzeug's "read-protected or not readable by the server" for an admin page, and a missing user
the stock "The requested URL was not found on the server", on a page without the console's navigation.
"""

from __future__ import annotations

import pytest

from tests.fuzz.hostile import PAST_INT4

WERKZEUG_WORDS = ("read-protected", "not readable by the server", "requested URL was not found", "spelling")


def text_of(answer) -> str:
    return answer.get_data(as_text=True).replace("&#39;", "'")


def in_console_look(html: str, username: str) -> bool:
    """The console's navigation, with the signed-in account, is on the page."""
    return 'href="/users">Users</a>' in html and f">{username}</a> <span" in html and "Sign out" in html


@pytest.mark.parametrize("url", ["/login-methods", "/accounts", "/login-methods/new"])
def test_support_on_an_admin_page_gets_a_clear_admins_only_page(support, url):
    answer = support.get(url)
    html = text_of(answer)

    assert answer.status_code == 403 and answer.mimetype == "text/html"
    assert '<h1 class="h3">Admins only</h1>' in html
    assert "This page is for admin accounts" in html and "ask an admin" in html
    assert in_console_look(html, "helper")
    assert not any(words in html for words in WERKZEUG_WORDS)


def test_a_missing_user_is_said_by_number(support):
    answer = support.get("/users/4242")
    html = text_of(answer)

    assert answer.status_code == 404
    assert '<h1 class="h3">Not found</h1>' in html and '<p class="lead">No user #4242.</p>' in html
    assert in_console_look(html, "helper")
    assert not any(words in html for words in WERKZEUG_WORDS)


def test_a_missing_user_on_a_page_under_it_is_said_too(support):
    assert "No user #4242." in text_of(support.get("/users/4242/bindings/1/unbind"))


def test_a_missing_login_method_is_said_by_number(admin):
    answer = admin.get("/login-methods/77")
    assert answer.status_code == 404 and "No login method #77." in text_of(answer)


def test_an_id_past_the_database_range_is_a_friendly_404(support):
    answer = support.get(f"/users/{PAST_INT4}")
    html = text_of(answer)
    assert answer.status_code == 404 and "There is no page at this address" in html
    assert not any(words in html for words in WERKZEUG_WORDS)


def test_an_unknown_console_address_is_a_friendly_404(support):
    answer = support.get("/no-such-page")
    html = text_of(answer)
    assert answer.status_code == 404 and "There is no page at this address" in html
    assert in_console_look(html, "helper")


def test_an_anonymous_visitor_gets_the_page_without_the_navigation(client):
    answer = client.get("/no-such-page")
    html = text_of(answer)
    assert answer.status_code == 404 and "There is no page at this address" in html
    assert "Sign out" not in html


def test_a_wrong_method_is_a_friendly_405(support):
    answer = support.post("/audit")
    html = text_of(answer)
    assert answer.status_code == 405 and "This page cannot be used that way" in html
    assert "The method is not allowed" not in html


@pytest.mark.parametrize(
    "method, path, status, code",
    [
        ("GET", "/api/v1/no-such-endpoint", 404, "not_found"),
        ("POST", "/api/v1/wechat-mini/nobody/login", 404, "login_method_not_found"),
        ("GET", "/api/v1/wechat-mini/nobody/login", 405, "method_not_allowed"),
    ],
)
def test_the_json_api_keeps_its_json_errors(support, method, path, status, code):
    answer = support.open(path, method=method, json={"code": "x"} if method == "POST" else None)
    assert answer.status_code == status and answer.is_json and answer.json["error"]["code"] == code
