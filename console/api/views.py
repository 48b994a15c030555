"""The mini program's endpoints: parse the JSON body, call the login method's Type (or a service), answer JSON."""

from __future__ import annotations

from flask import current_app, jsonify, request

from console.api import bp
from console.extensions import limiter
from console.seed.registry import element_for
from console.services.api_tokens import authenticate, describe, exchange_login_code, logout
from console.services.audit import Actor, set_actor
from console.services.inputs import (
    BindInput,
    DecryptInput,
    EmptyInput,
    LoginInput,
    PhoneInput,
    RegisterInput,
    TokenInput,
    validated,
)
from console.services.login_methods import find_login_method


def _per_address() -> str:
    return current_app.config["RATELIMIT_API_PER_ADDRESS"]


def _per_login_method() -> str:
    return current_app.config["RATELIMIT_API_PER_LOGIN_METHOD"]


def _login_method_key() -> str:
    return "login-method:" + str((request.view_args or {}).get("name", ""))


limit_per_address = limiter.limit(_per_address)
limit_per_login_method = limiter.limit(_per_login_method, key_func=_login_method_key)


@bp.before_request
def name_the_actor():
    """Audit events written during an API call name the API and the caller's address."""
    set_actor(Actor("api", "api", request.remote_addr))


def _body(model):
    """The JSON body validated against `model` (any Content-Type is read as JSON)."""
    return validated(model, request.get_json(force=True, silent=True))


def _element(name: str):
    return element_for(find_login_method(name))


def _bearer():
    return authenticate(request.headers.get("Authorization"))


@bp.post("/wechat-mini/<name>/login")
@limit_per_address
@limit_per_login_method
def login(name: str):
    """Exchange a wx.login() code: a loginCode and corpList for a known user, a bindCode for a new one."""
    args = _body(LoginInput)
    return jsonify(_element(name).getLoginCode(args.code))


@bp.post("/wechat-mini/<name>/register")
@limit_per_address
@limit_per_login_method
def register(name: str):
    """Register the WeChat user a bindCode stands for and log them in."""
    args = _body(RegisterInput)
    answer = _element(name).registerAndLogin(args.bindCode, args.name, args.avatarUrl)
    return jsonify(answer), 201


@bp.post("/auth/token")
@limit_per_address
def token():
    """Exchange a loginCode for a bearer access token, in one of the user's corps."""
    args = _body(TokenInput)
    return jsonify(exchange_login_code(args.loginCode, args.corpId).model_dump())


@bp.get("/me")
def me():
    """The signed-in user, their corps and their WeChat bindings."""
    return jsonify(describe(_bearer()).model_dump())


@bp.post("/wechat-mini/<name>/bind")
@limit_per_address
@limit_per_login_method
def bind(name: str):
    """Bind a WeChat user to an account: the bearer token's, or the one a bind ticket names."""
    args = _body(BindInput)
    element = _element(name)
    if args.ticket is not None:
        return jsonify(element.bindWithTicket(args.ticket, args.code))
    return jsonify(element.bind(_bearer().user_id, args.code))


@bp.post("/wechat-mini/<name>/unbind")
def unbind(name: str):
    """Remove the bearer's binding to this mini program (never the account's last one)."""
    _body(EmptyInput)
    element = _element(name)
    return jsonify(element.unbind(_bearer().user_id))


@bp.post("/wechat-mini/<name>/decrypt")
@limit_per_address
def decrypt(name: str):
    """Open the caller's encryptedData with their stored session key (watermark and signature checked)."""
    args = _body(DecryptInput)
    element = _element(name)
    answer = element.decryptData(_bearer().user_id, args.encryptedData, args.iv, args.rawData, args.signature)
    return jsonify(answer)


@bp.post("/wechat-mini/<name>/phone")
@limit_per_address
@limit_per_login_method
def phone(name: str):
    """Exchange a getPhoneNumber button code for the caller's phone number, and save it."""
    args = _body(PhoneInput)
    element = _element(name)
    return jsonify(element.getPhoneNumber(_bearer().user_id, args.code))


@bp.post("/auth/logout")
def logout_view():
    """Revoke the bearer token at once."""
    _body(EmptyInput)
    return jsonify(logout(_bearer()).model_dump())


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 document of this API."""
    from console.api.openapi import openapi_document

    return jsonify(openapi_document())
