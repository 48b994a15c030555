"""Security headers on every answer: HSTS outside the demo, nosniff everywhere, no-store where data is personal."""

from __future__ import annotations

import pytest

from console import create_app
from console.extensions import db

HSTS = "max-age=31536000; includeSubDomains"


def bootstrap_css(client) -> str:
    """The path of the Bootstrap stylesheet the pages load (served by Bootstrap-Flask, not from static/)."""
    page = client.get("/sign-in").get_data(as_text=True)
    return page.split('<link rel="stylesheet" href="')[1].split('"')[0]


def api_answers(harness) -> dict:
    """Answers of the JSON API that carry codes, tokens or personal data, and its failures."""
    method = harness.add_method(name="shopLogin")
    login = harness.login(method, "alice")
    registered = harness.post("/wechat-mini/shopLogin/register", {"bindCode": login.json["bindCode"]})
    token = harness.post("/auth/token", {"loginCode": registered.json["loginCode"]})
    return {
        "login": login,
        "register": registered,
        "token": token,
        "me": harness.get("/me", token=token.json["accessToken"]),
        "unauthorized": harness.get("/me"),
        "invalid request": harness.post("/auth/token", {"loginCode": ""}),
        "not found": harness.post("/wechat-mini/nobody/login", {"code": "c"}),
        "no route": harness.client.get("/api/v1/nothing-here"),
    }


def test_every_api_answer_that_can_carry_a_code_token_or_person_is_no_store_and_nosniff(harness):
    for name, answer in api_answers(harness).items():
        assert answer.headers.get("Cache-Control") == "no-store", name
        assert answer.headers.get("X-Content-Type-Options") == "nosniff", name
        assert answer.headers.get("Strict-Transport-Security") == HSTS, name


def test_public_documents_stay_cacheable_but_are_nosniff(client):
    for path in ("/api/v1/openapi.json", "/static/console.css", bootstrap_css(client)):
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert "no-store" not in answer.headers.get("Cache-Control", ""), path
        assert answer.headers["X-Content-Type-Options"] == "nosniff", path
        assert answer.headers["Strict-Transport-Security"] == HSTS, path


def test_health_checks_carry_the_headers(client):
    for path in ("/healthz", "/readyz"):
        answer = client.get(path)
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["Strict-Transport-Security"] == HSTS


@pytest.mark.console
def test_console_pages_and_exports_are_no_store(app, admin, harness):
    method = harness.add_method(name="shopLogin")
    harness.register(method, "alice", name="Alice Liddell")
    pages = ["/", "/users", "/users/1", "/audit", "/audit.csv", "/login-methods", "/simulator", "/nothing-here"]
    for path in pages:
        answer = admin.get(path)
        assert answer.status_code in (200, 404), path
        assert answer.headers.get("Cache-Control") == "no-store", path
        assert answer.headers["X-Content-Type-Options"] == "nosniff", path
        assert answer.headers["Strict-Transport-Security"] == HSTS, path
    signed_out = app.test_client()
    for answer in (signed_out.get("/sign-in"), signed_out.get("/")):
        assert answer.headers.get("Cache-Control") == "no-store" and answer.headers["Strict-Transport-Security"] == HSTS


def test_the_demo_sends_no_hsts(environ, tmp_path):
    # The demo is served over plain http on a laptop: HSTS would pin the browser to https for 127.0.0.1.
    app = create_app({"TESTING": True, "WECHAT_SIMULATOR_STATE": None}, environ={**environ, "CONSOLE_DEMO": "1"})
    with app.app_context():
        db.create_all()
    client = app.test_client()
    for path in ("/sign-in", "/healthz", "/api/v1/me", "/api/v1/openapi.json"):
        answer = client.get(path)
        assert "Strict-Transport-Security" not in answer.headers, path
        assert answer.headers["X-Content-Type-Options"] == "nosniff", path
    assert client.get("/api/v1/me").headers["Cache-Control"] == "no-store"
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_the_production_docs_nginx_example_agrees():
    from pathlib import Path

    from console.web import STRICT_TRANSPORT_SECURITY

    docs = (Path(__file__).resolve().parents[1] / "docs" / "production.md").read_text()
    nginx = docs.split("```nginx")[1].split("```")[0]
    assert f"`Strict-Transport-Security: {STRICT_TRANSPORT_SECURITY}`" in docs
    assert "return 301 https://" in nginx  # HSTS is only worth something once http redirects
    for header in ("Strict-Transport-Security", "Cache-Control", "X-Content-Type-Options"):
        assert f"add_header {header}" not in nginx  # the app sends it: twice would be a conflict
    assert "location /_wechat/ { return 404; }" in nginx
