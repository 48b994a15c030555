"""The front page until the console arrives."""

from __future__ import annotations


def test_the_front_page_lists_login_methods_without_secrets(harness, client):
    method = harness.add_method(name="shopLogin")
    page = client.get("/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "shopLogin" in text and method.app_id in text
    assert method.secret not in text and method.secret[-4:] not in text


def test_unknown_pages_are_html_404(client):
    page = client.get("/no-such-page")
    assert page.status_code == 404 and page.mimetype == "text/html"
