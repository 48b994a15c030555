"""Signed-in API sessions: loginCodes exchanged for opaque, revocable bearer access tokens."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from console.errors import LoginError
from console.extensions import db
from console.login.audit import record
from console.login.element import transaction
from console.login.inputs import TokenInput, validated
from console.login.shapes import binding_list, corp_list, user_corps, user_dict
from console.models import LOGIN_CODE, AccessToken, LoginMethod, User, utcnow
from console.security.codes import digest, looks_like_token, new_secret_value, redeem_code


def exchange_login_code(loginCode: str, corpId: str | None = None) -> dict:
    """Redeem a loginCode for an access token in one of the user's corps (the requested one or a default)."""
    args = validated(TokenInput, {"loginCode": loginCode, "corpId": corpId})
    with transaction():
        code = redeem_code(LOGIN_CODE, args.loginCode)
        if code is None:
            raise LoginError("invalid_login_code")
        user = db.session.get(User, code.user_id)
        if user.is_disabled:
            raise LoginError("account_disabled")
        corp = _choose_corp(user.id, args.corpId, db.session.get(LoginMethod, code.login_method_id))
        value = new_secret_value()
        ttl = current_app.config["ACCESS_TOKEN_TTL"]
        db.session.add(
            AccessToken(
                digest=digest(value),
                user_id=user.id,
                login_method_id=code.login_method_id,
                binding_id=code.binding_id,
                corp_id=corp.id if corp else None,
                expires_at=utcnow() + timedelta(seconds=ttl),
            )
        )
        answer = {
            "accessToken": value,
            "tokenType": "Bearer",
            "expiresIn": ttl,
            "corpId": corp.slug if corp else None,
            "user": user_dict(user),
        }
    return answer


def _choose_corp(user_id: int, requested: str | None, method: LoginMethod | None):
    corps = user_corps(user_id)
    if requested is not None:
        for corp in corps:
            if corp.slug == requested:
                return corp
        raise LoginError("not_a_member", f"The user is not a member of the corp {requested!r}.")
    for corp in corps:
        if method is not None and corp.id == method.default_corp_id:
            return corp
    return corps[0] if corps else None


def authenticate(authorization: str | None) -> AccessToken:
    """The live access token named by an `Authorization: Bearer ...` header; raise unauthorized."""
    scheme, _, value = (authorization or "").partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not looks_like_token(value):
        raise LoginError("unauthorized")
    token = db.session.scalar(
        select(AccessToken).where(
            AccessToken.digest == digest(value), AccessToken.revoked_at.is_(None), AccessToken.expires_at > utcnow()
        )
    )
    if token is None:
        raise LoginError("unauthorized", "The access token is unknown, expired or revoked.")
    if token.user.is_disabled:
        raise LoginError("account_disabled")
    return token


def describe(token: AccessToken) -> dict:
    """GET /me: the user, the token's corp, the user's corps and WeChat bindings."""
    return {
        "user": user_dict(token.user),
        "corpId": token.corp.slug if token.corp else None,
        "corpList": corp_list(token.user_id),
        "bindings": binding_list(token.user_id),
    }


def logout(token: AccessToken) -> dict:
    """Revoke the access token at once."""
    with transaction():
        token.revoked_at = utcnow()
        record("logout", user_id=token.user_id, method=token.login_method)
    return {"loggedOut": True}
