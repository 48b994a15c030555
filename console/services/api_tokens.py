"""API tokens: loginCodes exchanged for opaque, revocable bearer access tokens; who a token is; revocation."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from console.database import transaction
from console.errors import LoginError, Refused
from console.extensions import db
from console.models import LOGIN_CODE, AccessToken, Corp, LoginMethod, User, utcnow
from console.security.codes import digest, looks_like_token, new_secret_value, redeem_code
from console.services import login_events
from console.services.answers import LogoutAnswer, MeAnswer, TokenAnswer, UserOut
from console.services.audit import record
from console.services.bindings import binding_list
from console.services.corps import corp_list, user_corps


def exchange_login_code(login_code: str, corp_id: str | None = None) -> TokenAnswer:
    """Redeem a loginCode for an access token in one of the user's corps (the requested one or a default)."""
    with transaction():
        code = redeem_code(LOGIN_CODE, login_code)
        user = db.session.get(User, code.user_id) if code is not None and code.user_id is not None else None
        if code is None or user is None:
            raise LoginError("invalid_login_code")
        method = db.session.get(LoginMethod, code.login_method_id)
        login_events.note(method=method, user_id=user.id)
        if user.is_disabled:
            raise LoginError("account_disabled")
        corp = _choose_corp(user.id, corp_id, method)
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
        answer = TokenAnswer(
            accessToken=value,
            tokenType="Bearer",
            expiresIn=ttl,
            corpId=corp.slug if corp else None,
            user=UserOut.of(user),
        )
        login_events.record_success()
    return answer


def _choose_corp(user_id: int, requested: str | None, method: LoginMethod | None) -> Corp | None:
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
    login_events.note(user_id=token.user_id)
    if token.user.is_disabled:
        raise LoginError("account_disabled")
    return token


def describe(token: AccessToken) -> MeAnswer:
    """GET /me: the user, the token's corp, the user's corps and WeChat bindings."""
    return MeAnswer(
        user=UserOut.of(token.user),
        corpId=token.corp.slug if token.corp else None,
        corpList=corp_list(token.user_id),
        bindings=binding_list(token.user_id),
    )


def logout(token: AccessToken) -> LogoutAnswer:
    """Revoke the access token at once."""
    with transaction():
        token.revoked_at = utcnow()
        record("logout", user_id=token.user_id, method=token.login_method)
    return LogoutAnswer(loggedOut=True)


def active_tokens(user: User) -> list[AccessToken]:
    """The user's access tokens that still work, newest first."""
    return list(
        db.session.scalars(
            select(AccessToken)
            .where(AccessToken.user_id == user.id, AccessToken.revoked_at.is_(None), AccessToken.expires_at > utcnow())
            .order_by(AccessToken.created_at.desc())
        )
    )


def revoke_token(user: User, token_id: int) -> None:
    """Revoke one of the user's live access tokens at once."""
    with transaction():
        token = db.session.scalar(
            select(AccessToken).where(
                AccessToken.id == token_id, AccessToken.user_id == user.id, AccessToken.revoked_at.is_(None)
            )
        )
        if token is None:
            raise Refused("That access token is unknown or already revoked.")
        token.revoked_at = utcnow()
        record("token.revoke", user_id=user.id, method=token.login_method, tokenId=token.id)
