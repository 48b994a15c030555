"""The OpenAPI 3.1 document, built from the same models that validate the requests."""

from __future__ import annotations

from functools import cache

from pydantic.json_schema import models_json_schema

from console.errors import ERRORS
from console.services import answers as schemas
from console.services import inputs

WECHAT_ERRORS = [
    "invalid_code",
    "code_used",
    "user_blocked",
    "wechat_rate_limited",
    "wechat_misconfigured",
    "wechat_unavailable",
]
METHOD_ERRORS = ["login_method_not_found", "login_method_disabled"]
BEARER_ERRORS = ["unauthorized", "account_disabled"]

# (method, path, summary, request model, {status: answer model}, error codes)
OPERATIONS = [
    (
        "post",
        "/wechat-mini/{name}/login",
        "Log in with a wx.login() code",
        inputs.LoginInput,
        {200: [schemas.LoginCodeAnswer, schemas.BindCodeAnswer]},
        ["invalid_request", *METHOD_ERRORS, "registration_closed", "account_disabled", *WECHAT_ERRORS, "rate_limited"],
    ),
    (
        "post",
        "/wechat-mini/{name}/register",
        "Register a new WeChat user with a bindCode",
        inputs.RegisterInput,
        {201: [schemas.RegisterAnswer]},
        [
            "invalid_request",
            *METHOD_ERRORS,
            "registration_closed",
            "invalid_bind_code",
            "already_registered",
            "rate_limited",
        ],
    ),
    (
        "post",
        "/auth/token",
        "Exchange a loginCode for an access token",
        inputs.TokenInput,
        {200: [schemas.TokenAnswer]},
        ["invalid_request", "invalid_login_code", "not_a_member", "account_disabled", "rate_limited"],
    ),
    ("get", "/me", "The signed-in user", None, {200: [schemas.MeAnswer]}, BEARER_ERRORS),
    (
        "post",
        "/wechat-mini/{name}/bind",
        "Bind a WeChat user to an account (bearer token or ticket)",
        inputs.BindInput,
        {200: [schemas.BindAnswer]},
        [
            "invalid_request",
            *METHOD_ERRORS,
            *BEARER_ERRORS,
            "invalid_ticket",
            "user_already_bound",
            "wechat_already_bound",
            *WECHAT_ERRORS,
            "rate_limited",
        ],
    ),
    (
        "post",
        "/wechat-mini/{name}/unbind",
        "Unbind the bearer's WeChat from this login method",
        inputs.EmptyInput,
        {200: [schemas.UnbindAnswer]},
        ["invalid_request", *METHOD_ERRORS, *BEARER_ERRORS, "not_bound", "last_login_method"],
    ),
    (
        "post",
        "/wechat-mini/{name}/decrypt",
        "Decrypt the user's encryptedData with the stored session key",
        inputs.DecryptInput,
        {200: [schemas.DecryptAnswer]},
        [
            "invalid_request",
            *METHOD_ERRORS,
            *BEARER_ERRORS,
            "not_bound",
            "invalid_signature",
            "session_key_stale",
            "watermark_mismatch",
            "rate_limited",
        ],
    ),
    (
        "post",
        "/wechat-mini/{name}/phone",
        "Exchange a getPhoneNumber code for the user's phone number",
        inputs.PhoneInput,
        {200: [schemas.PhoneAnswer]},
        [
            "invalid_request",
            *METHOD_ERRORS,
            *BEARER_ERRORS,
            "not_bound",
            "watermark_mismatch",
            *WECHAT_ERRORS,
            "rate_limited",
        ],
    ),
    (
        "post",
        "/auth/logout",
        "Revoke the bearer token",
        inputs.EmptyInput,
        {200: [schemas.LogoutAnswer]},
        ["invalid_request", *BEARER_ERRORS],
    ),
]
BEARER_PATHS = {
    "/me",
    "/wechat-mini/{name}/unbind",
    "/auth/logout",
    "/wechat-mini/{name}/decrypt",
    "/wechat-mini/{name}/phone",
}


def _ref(model) -> dict:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _operation(method, path, summary, request_model, answers, error_codes) -> dict:
    operation: dict = {
        "operationId": f"{method}_{path.strip('/').replace('/', '_').replace('{', '').replace('}', '')}",
        "summary": summary,
        "responses": {},
    }
    if request_model is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(request_model)}}}
    if "{name}" in path:
        operation["parameters"] = [
            {
                "name": "name",
                "in": "path",
                "required": True,
                "description": "The login method's instance name, e.g. myWeChatMiniLogin.",
                "schema": {"type": "string", "maxLength": 64},
                "example": "myWeChatMiniLogin",
            }
        ]
    if path in BEARER_PATHS:
        operation["security"] = [{"bearer": []}]
    elif path == "/wechat-mini/{name}/bind":
        operation["security"] = [{"bearer": []}, {}]
    for status, models in answers.items():
        schema = _ref(models[0]) if len(models) == 1 else {"oneOf": [_ref(model) for model in models]}
        operation["responses"][str(status)] = {
            "description": summary,
            "content": {"application/json": {"schema": schema}},
        }
    by_status: dict[int, list[str]] = {}
    for code in error_codes:
        by_status.setdefault(ERRORS[code][0], []).append(code)
    for status, codes in sorted(by_status.items()):
        operation["responses"][str(status)] = {
            "description": "; ".join(f"`{code}`: {ERRORS[code][1]}" for code in codes),
            "content": {"application/json": {"schema": _ref(schemas.ErrorAnswer)}},
        }
    return operation


@cache
def openapi_document() -> dict:
    """The whole document; the component schemas come from the request and answer models."""
    models = {operation[3] for operation in OPERATIONS if operation[3] is not None}
    models |= {getattr(schemas, name) for name in dir(schemas) if name.endswith("Answer") and name != "Answer"}
    _, definitions = models_json_schema(
        [
            (model, "validation" if model.__module__ == inputs.__name__ else "serialization")
            for model in sorted(models, key=lambda m: m.__name__)
        ],
        ref_template="#/components/schemas/{model}",
    )
    paths: dict = {}
    for method, path, summary, request_model, answers, errors in OPERATIONS:
        paths.setdefault(path, {})[method] = _operation(method, path, summary, request_model, answers, errors)
    paths["/openapi.json"] = {
        "get": {
            "operationId": "get_openapi",
            "summary": "This document",
            "responses": {
                "200": {
                    "description": "The OpenAPI document",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            },
        }
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "WeChat Mini Program login console",
            "version": "1.0.0",
            "description": "Log mini program users in with wx.login(): loginCode and corpList for known users, "
            'a 5-minute bindCode for new ones. Every failure answers {"error": {"code", "message"}}.',
        },
        "servers": [{"url": "/api/v1"}],
        "paths": paths,
        "components": {
            "schemas": definitions["$defs"],
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "accessToken from /auth/token"}
            },
        },
    }
