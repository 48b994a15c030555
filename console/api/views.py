"""The mini program's endpoints, one declaration each: the login method's Type (or a service) answers them."""

from __future__ import annotations

from flask import current_app, request

from console.api import bp
from console.api.declaration import endpoint
from console.api.openapi import OpenAPIDocument, openapi_document
from console.extensions import limiter
from console.models import AccessToken
from console.seed.registry import element_for
from console.services.answers import (
    BindAnswer,
    BindCodeAnswer,
    DecryptAnswer,
    LoginCodeAnswer,
    LogoutAnswer,
    MeAnswer,
    PhoneAnswer,
    RegisterAnswer,
    TokenAnswer,
    UnbindAnswer,
)
from console.services.api_tokens import authenticate, describe, exchange_login_code, logout
from console.services.audit import Actor, set_actor
from console.services.gateway import WECHAT_ERROR_CODES
from console.services.inputs import (
    BindInput,
    DecryptInput,
    EmptyInput,
    LoginInput,
    PhoneInput,
    RegisterInput,
    TokenInput,
)
from console.services.login_methods import find_login_method

LOGIN_METHOD_ERRORS = ("login_method_not_found", "login_method_disabled")
WECHAT_ERRORS = WECHAT_ERROR_CODES  # what an endpoint that reaches WeChat can answer for WeChat's refusals


def _per_address() -> str:
    return current_app.config["RATELIMIT_API_PER_ADDRESS"]


def _per_login_method() -> str:
    return current_app.config["RATELIMIT_API_PER_LOGIN_METHOD"]


def _login_method_key() -> str:
    return "login-method:" + str((request.view_args or {}).get("name", ""))


limit_per_address = limiter.limit(_per_address)
limit_per_login_method = limiter.limit(_per_login_method, key_func=_login_method_key)
BOTH_LIMITS = (limit_per_address, limit_per_login_method)


@bp.before_request
def name_the_actor():
    """Audit events written during an API call name the API and the caller's address."""
    set_actor(Actor("api", "api", request.remote_addr))


def _element(name: str):
    # Through the registry, so that a project's own Type (named in e.json) serves the API too.
    return element_for(find_login_method(name))


def _bearer() -> AccessToken:
    return authenticate(request.headers.get("Authorization"))


@endpoint(
    bp,
    "POST",
    "/wechat-mini/<name>/login",
    summary="Log in with a wx.login() code",
    body=LoginInput,
    answers={200: (LoginCodeAnswer, BindCodeAnswer)},
    errors=(*LOGIN_METHOD_ERRORS, "registration_closed", "account_disabled", *WECHAT_ERRORS),
    limits=BOTH_LIMITS,
    event="login",
)
def login(name: str, body: LoginInput) -> dict:
    """Exchange a wx.login() code: a loginCode and corpList for a known user, a bindCode for a new one."""
    return _element(name).getLoginCode(body.code)


@endpoint(
    bp,
    "POST",
    "/wechat-mini/<name>/register",
    summary="Register a new WeChat user with a bindCode",
    body=RegisterInput,
    answers={201: RegisterAnswer},
    errors=(*LOGIN_METHOD_ERRORS, "registration_closed", "invalid_bind_code", "already_registered"),
    limits=BOTH_LIMITS,
    event="register",
)
def register(name: str, body: RegisterInput) -> dict:
    """Register the WeChat user a bindCode stands for and log them in."""
    return _element(name).registerAndLogin(body.bindCode, body.name, body.avatarUrl)


@endpoint(
    bp,
    "POST",
    "/auth/token",
    summary="Exchange a loginCode for an access token",
    body=TokenInput,
    answers={200: TokenAnswer},
    errors=("invalid_login_code", "not_a_member", "account_disabled"),
    limits=(limit_per_address,),
    event="token",
)
def token(body: TokenInput) -> TokenAnswer:
    """Exchange a loginCode for a bearer access token, in one of the user's corps."""
    return exchange_login_code(body.loginCode, body.corpId)


@endpoint(bp, "GET", "/me", summary="The signed-in user", answers={200: MeAnswer}, security="bearer")
def me() -> MeAnswer:
    """The signed-in user, their corps and their WeChat bindings."""
    return describe(_bearer())


@endpoint(
    bp,
    "POST",
    "/wechat-mini/<name>/bind",
    summary="Bind a WeChat user to an account (bearer token or ticket)",
    body=BindInput,
    answers={200: BindAnswer},
    errors=(
        *LOGIN_METHOD_ERRORS,
        "invalid_ticket",
        "user_already_bound",
        "wechat_already_bound",
        *WECHAT_ERRORS,
    ),
    security="bearer-or-ticket",
    limits=BOTH_LIMITS,
    event="bind",
)
def bind(name: str, body: BindInput) -> dict:
    """Bind a WeChat user to an account: the bearer token's, or the one a bind ticket names."""
    element = _element(name)
    if body.ticket is not None:
        return element.bindWithTicket(body.ticket, body.code)
    return element.bind(_bearer().user_id, body.code)


@endpoint(
    bp,
    "POST",
    "/wechat-mini/<name>/unbind",
    summary="Unbind the bearer's WeChat from this login method",
    body=EmptyInput,
    answers={200: UnbindAnswer},
    errors=(*LOGIN_METHOD_ERRORS, "not_bound", "last_login_method"),
    security="bearer",
    event="unbind",
)
def unbind(name: str, body: EmptyInput) -> dict:
    """Remove the bearer's binding to this mini program (never the account's last one)."""
    element = _element(name)
    return element.unbind(_bearer().user_id)


@endpoint(
    bp,
    "POST",
    "/wechat-mini/<name>/decrypt",
    summary="Decrypt the user's encryptedData with the stored session key",
    body=DecryptInput,
    answers={200: DecryptAnswer},
    errors=(*LOGIN_METHOD_ERRORS, "not_bound", "invalid_signature", "session_key_stale", "watermark_mismatch"),
    security="bearer",
    limits=(limit_per_address,),
    event="decrypt",
)
def decrypt(name: str, body: DecryptInput) -> dict:
    """Open the caller's encryptedData with their stored session key (watermark and signature checked)."""
    element = _element(name)
    return element.decryptData(_bearer().user_id, body.encryptedData, body.iv, body.rawData, body.signature)


@endpoint(
    bp,
    "POST",
    "/wechat-mini/<name>/phone",
    summary="Exchange a getPhoneNumber code for the user's phone number",
    body=PhoneInput,
    answers={200: PhoneAnswer},
    errors=(*LOGIN_METHOD_ERRORS, "not_bound", "watermark_mismatch", *WECHAT_ERRORS),
    security="bearer",
    limits=BOTH_LIMITS,
    event="phone",
)
def phone(name: str, body: PhoneInput) -> dict:
    """Exchange a getPhoneNumber button code for the caller's phone number, and save it."""
    element = _element(name)
    return element.getPhoneNumber(_bearer().user_id, body.code)


@endpoint(
    bp,
    "POST",
    "/auth/logout",
    summary="Revoke the bearer token",
    body=EmptyInput,
    answers={200: LogoutAnswer},
    security="bearer",
)
def logout_view(body: EmptyInput) -> LogoutAnswer:
    """Revoke the bearer token at once."""
    return logout(_bearer())


@endpoint(bp, "GET", "/openapi.json", summary="This document", answers={200: OpenAPIDocument})
def openapi() -> dict:
    """The OpenAPI 3.1 document of this API, generated from the declarations above."""
    return openapi_document(current_app)
