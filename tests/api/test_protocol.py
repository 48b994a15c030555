"""What every API answer shares: JSON errors, unknown URLs, rate limits, the OpenAPI document."""

from __future__ import annotations

import json
import re

import pytest
from flask import request

from console import create_app
from console.api.openapi import openapi_document
from console.errors import ERRORS
from console.extensions import db
from tests.helpers import answer_mismatch


def test_unknown_api_urls_answer_json_404(client):
    answer = client.get("/api/v1/nothing-here")
    assert answer.status_code == 404
    assert answer.is_json and answer.json["error"]["code"] == "not_found"


def test_a_wrong_http_method_answers_json_405(client):
    answer = client.get("/api/v1/wechat-mini/any/login")
    assert answer.status_code == 405 and answer.json["error"]["code"] == "method_not_allowed"


def test_an_oversized_body_is_invalid_request(harness):
    method = harness.add_method()
    answer = harness.client.post(
        f"/api/v1/wechat-mini/{method.name}/login", data="x" * (2 * 1024 * 1024), content_type="application/json"
    )
    assert answer.status_code == 413 and answer.json["error"]["code"] == "invalid_request"


def test_json_is_read_whatever_the_content_type(harness):
    method = harness.add_method()
    code = harness.code(method, "alice")
    answer = harness.client.post(
        f"/api/v1/wechat-mini/{method.name}/login", data=f'{{"code": "{code}"}}', content_type="text/plain"
    )
    assert answer.status_code == 200 and "bindCode" in answer.json


def test_an_unexpected_failure_is_a_json_500_without_details(harness, app, monkeypatch):
    from console.seed import WeChatMiniType

    method = harness.add_method()

    def broken(self, code):
        raise RuntimeError("boom")

    monkeypatch.setattr(WeChatMiniType, "getLoginCode", broken)
    answer = harness.post(f"/wechat-mini/{method.name}/login", {"code": "abc"})
    assert answer.status_code == 500
    assert answer.json["error"]["code"] == "internal_error" and "boom" not in answer.get_data(as_text=True)


def test_the_api_rate_limit_answers_rate_limited_with_retry_after(environ, simulator):
    app = create_app({"TESTING": True}, environ={**environ, "RATELIMIT_API_PER_ADDRESS": "2 per minute"})
    with app.app_context():
        db.create_all()
    client = app.test_client()
    answers = [client.post("/api/v1/wechat-mini/nope/login", json={"code": "x"}) for _ in range(3)]

    assert [answer.status_code for answer in answers] == [404, 404, 429]
    assert answers[2].json["error"]["code"] == "rate_limited"
    assert 0 < int(answers[2].headers["Retry-After"]) <= 60
    assert client.get("/api/v1/openapi.json").status_code == 200  # the document is not limited


def test_the_rate_limit_can_be_switched_off(environ):
    app = create_app(
        {"TESTING": True},
        environ={**environ, "RATELIMIT_API_PER_ADDRESS": "1 per minute", "RATELIMIT_ENABLED": "false"},
    )
    client = app.test_client()
    assert [client.post("/api/v1/auth/token", json={}).status_code for _ in range(3)] == [400, 400, 400]


def _documented(document: dict, method: str, rule: str) -> bool:
    path = re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule.removeprefix("/api/v1"))
    return method.lower() in document["paths"].get(path, {})


def _undocumented_rules(app, document: dict) -> list[str]:
    """Every /api/v1 rule of the app, with each of its methods, that the document lacks."""
    return [
        f"{method} {rule.rule}"
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
        if not _documented(document, method, rule.rule)
    ]


def test_the_openapi_document_describes_every_endpoint_and_error(app, client):
    document = client.get("/api/v1/openapi.json").json

    assert document["openapi"].startswith("3.1")
    assert _undocumented_rules(app, document) == []
    login = document["paths"]["/wechat-mini/{name}/login"]["post"]
    assert login["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/LoginInput"}
    assert document["components"]["schemas"]["LoginInput"]["properties"]["code"]["maxLength"] == 256
    assert "registration_closed" in login["responses"]["403"]["description"]
    # No body: no 413; but a 400, as on any request, for a NUL in the query string (console/edge.py).
    assert set(document["paths"]["/me"]["get"]["responses"]) == {"200", "400", "401", "403", "500", "503"}
    for schema in document["components"]["schemas"].values():
        assert "$defs" not in schema


def test_a_rule_without_a_declaration_is_missing_from_the_document(app):
    app.add_url_rule("/api/v1/undeclared/<name>", "undeclared", lambda name: {}, methods=["POST"])

    assert _undocumented_rules(app, openapi_document(app)) == ["POST /api/v1/undeclared/<name>"]


def test_every_error_code_of_the_document_is_in_the_contract_table(app):
    described = set()
    for operations in openapi_document(app)["paths"].values():
        for operation in operations.values():
            for status, response in operation["responses"].items():
                if status.startswith("2"):
                    continue
                codes = [part.split("`")[1] for part in response["description"].split("; ") if "`" in part]
                schema = response["content"]["application/json"]["schema"]
                assert schema["allOf"][1]["properties"]["error"]["properties"]["code"]["enum"] == codes
                assert all(ERRORS[code][0] == int(status) for code in codes if status != "413")
                described.update(codes)
    assert described <= set(ERRORS)
    assert {"invalid_code", "code_used", "wechat_misconfigured", "last_login_method", "rate_limited"} <= described


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_health_checks_answer_200(client, path):
    assert client.get(path).status_code == 200


def test_readyz_is_503_while_the_database_is_unreachable(environ):
    app = create_app(
        {"TESTING": True}, environ={**environ, "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"}
    )
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    answer = client.get("/readyz")
    assert answer.status_code == 503 and answer.json["database"] == "unreachable"


def _declared(app) -> list:
    """(URL with a login method's name filled in, declaration) of every declared /api/v1 endpoint."""
    return [
        (rule.rule.replace("<name>", "shopLogin"), view.declaration)
        for rule in app.url_map.iter_rules()
        if hasattr(view := app.view_functions[rule.endpoint], "declaration")
    ]


def _well_formed(model) -> dict:
    return {name: "x" for name, field in model.model_fields.items() if field.is_required()}


def test_every_bearer_endpoint_refuses_a_call_without_a_token(app, harness):
    harness.add_method()
    secured = [(url, declaration) for url, declaration in _declared(app) if declaration.security != "none"]

    assert len(secured) == 6
    for url, declaration in secured:
        body = _well_formed(declaration.body) if declaration.body else None
        answer = harness.client.open(url, method=declaration.method, json=body)
        assert (answer.status_code, answer.json["error"]["code"]) == (401, "unauthorized"), url
        assert answer.headers["WWW-Authenticate"] == 'Bearer realm="api"'


def test_every_body_is_checked_before_the_login_method_and_the_token(app, client):
    with_body = [(url, declaration) for url, declaration in _declared(app) if declaration.body is not None]

    assert len(with_body) == 8
    for url, declaration in with_body:  # no login method is called shopLogin here, and no token is sent
        answer = client.open(url, method=declaration.method, json=["not", "an", "object"])
        assert answer.status_code == 400, url
        assert answer.json["error"] == {"code": "invalid_request", "message": "The body must be a JSON object."}


def test_an_answer_with_an_unknown_field_fails_the_answer_check(app, harness):
    method = harness.add_method()

    @app.after_request
    def add_a_field(response):
        if request.path.endswith("/login"):
            response.set_data(json.dumps({**response.json, "surprise": 1}))
        return response

    with pytest.raises(AssertionError, match="surprise"):
        harness.login(method, "alice")


def test_an_undocumented_status_or_a_missing_field_fails_the_answer_check(app):
    path = "/api/v1/wechat-mini/shopLogin/login"
    error = {"error": {"code": "login_method_not_found", "message": "No login method has that name."}}

    assert answer_mismatch(app, "POST", path, 404, error) is None
    assert "does not list" in answer_mismatch(app, "POST", path, 418, error)
    assert "is not valid under any of the given schemas" in answer_mismatch(app, "POST", path, 200, {"expiresIn": 1})
    token = {"tokenType": "Bearer", "expiresIn": 7200}
    assert "'accessToken' is a required property" in answer_mismatch(app, "POST", "/api/v1/auth/token", 200, token)
    assert "is not one of" in answer_mismatch(app, "POST", path, 404, {"error": {**error["error"], "code": "nope"}})
