"""Pages outside the console's blueprints."""

from __future__ import annotations


def test_unknown_pages_are_html_404(client):
    page = client.get("/no-such-page")
    assert page.status_code == 404 and page.mimetype == "text/html"


def test_health_checks_need_no_sign_in(client):
    assert client.get("/healthz").json == {"status": "ok"}
    assert client.get("/readyz").json == {"status": "ok", "database": "ok"}
