"""WeChat bindings: bind an account (with a bearer token or a console ticket), unbind, support's removal."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from console.database import rows_changed, transaction
from console.errors import LoginError
from console.extensions import db
from console.models import (
    BIND_TICKET,
    AccessToken,
    LoginMethod,
    OneTimeCode,
    User,
    WeChatBinding,
    utcnow,
)
from console.security.codes import find_code, issue_code, redeem_code
from console.security.keyring import keyring
from console.services import gateway, login_events, login_methods
from console.services.answers import BindAnswer, BindingOut, UnbindAnswer, iso
from console.services.audit import record
from console.services.users import active_user, end_access
from console.wechat.client import WeChatSession


def binding_of_user(method: LoginMethod, user_id: int) -> WeChatBinding | None:
    """The user's binding to this mini program, if any."""
    return db.session.scalar(
        select(WeChatBinding).where(WeChatBinding.login_method_id == method.id, WeChatBinding.user_id == user_id)
    )


def binding_of_openid(method: LoginMethod, openid: str) -> WeChatBinding | None:
    """The binding of a WeChat user (by openid) to this mini program, if any."""
    return db.session.scalar(
        select(WeChatBinding).where(WeChatBinding.login_method_id == method.id, WeChatBinding.openid == openid)
    )


def bound(method: LoginMethod, user_id: int) -> WeChatBinding:
    """The user's binding to this mini program; not_bound if there is none."""
    binding = binding_of_user(method, user_id)
    if binding is None:
        raise LoginError("not_bound")
    return binding


def add_binding(method: LoginMethod, user_id: int, session: WeChatSession) -> WeChatBinding:
    """Bind the WeChat identity of a session to a user, keeping its session key (flushed, not committed)."""
    binding = WeChatBinding(
        user_id=user_id,
        login_method_id=method.id,
        openid=session.openid,
        unionid=session.unionid,
        session_key_ciphertext=keyring().encrypt(session.session_key),
        session_key_set_at=utcnow(),
    )
    db.session.add(binding)
    db.session.flush()
    return binding


def user_bindings(user: User) -> list[WeChatBinding]:
    """The user's WeChat bindings, by login method name."""
    return list(
        db.session.scalars(
            select(WeChatBinding)
            .join(LoginMethod, LoginMethod.id == WeChatBinding.login_method_id)
            .where(WeChatBinding.user_id == user.id)
            .order_by(LoginMethod.name)
        )
    )


def binding_list(user_id: int) -> list[BindingOut]:
    """The user's WeChat bindings as GET /me answers them."""
    rows = db.session.execute(
        select(WeChatBinding, LoginMethod)
        .join(LoginMethod, LoginMethod.id == WeChatBinding.login_method_id)
        .where(WeChatBinding.user_id == user_id)
        .order_by(LoginMethod.name)
    )
    return [
        BindingOut(
            loginMethod=method.name,
            appId=method.app_id,
            openId=binding.openid,
            unionId=binding.unionid,
            boundAt=iso(binding.bound_at) or "",
        )
        for binding, method in rows
    ]


def _ensure_can_bind(method: LoginMethod, user_id: int) -> None:
    """Refuse before spending the user's wx.login() code on a bind that cannot succeed."""
    login_events.note(user_id=user_id)
    active_user(user_id)
    if binding_of_user(method, user_id) is not None:
        raise LoginError("user_already_bound")


def bind(method: LoginMethod, user_id: int, code: str) -> BindAnswer:
    """Bind an existing account to the WeChat user of a wx.login() code."""
    login_methods.ensure_enabled(method)
    _ensure_can_bind(method, user_id)
    return _bind(method, user_id, gateway.exchange_code(method, code))


def bind_with_ticket(method: LoginMethod, ticket: str, code: str) -> BindAnswer:
    """Bind the account a console-issued ticket names to the WeChat user of a wx.login() code."""
    login_methods.ensure_enabled(method)
    found = find_code(BIND_TICKET, ticket, method.id)
    if found is None or found.user_id is None:
        raise LoginError("invalid_ticket")
    _ensure_can_bind(method, found.user_id)
    return _bind(method, found.user_id, gateway.exchange_code(method, code), ticket=ticket)


def _bind(method: LoginMethod, user_id: int, session: WeChatSession, ticket: str | None = None) -> BindAnswer:
    try:
        with transaction():
            if ticket is not None and redeem_code(BIND_TICKET, ticket, method.id) is None:
                raise LoginError("invalid_ticket")
            active_user(user_id)
            holder = binding_of_openid(method, session.openid)
            if holder is not None:
                raise LoginError("user_already_bound" if holder.user_id == user_id else "wechat_already_bound")
            if binding_of_user(method, user_id) is not None:
                raise LoginError("user_already_bound")
            add_binding(method, user_id, session)
            record(
                "bind",
                user_id=user_id,
                method=method,
                openId=session.openid,
                unionId=session.unionid,
                via="ticket" if ticket else None,
            )
            login_events.record_success(openid=session.openid, user_id=user_id)
    except IntegrityError:
        # Bound by a parallel request between our check and our insert.
        raise LoginError("wechat_already_bound") from None
    return BindAnswer(bound=True, userId=user_id, loginMethod=method.name, openId=session.openid)


def issue_bind_ticket(method: LoginMethod, user_id: int) -> str:
    """A one-time ticket (10 minutes) with which the user binds this mini program to their account."""
    with transaction():
        active_user(user_id)
        ticket = issue_code(
            BIND_TICKET, current_app.config["BIND_TICKET_TTL"], login_method_id=method.id, user_id=user_id
        )
        record("ticket.issue", user_id=user_id, method=method)
    return ticket


def unbind(method: LoginMethod, user_id: int) -> UnbindAnswer:
    """The user's own unbind: remove the binding to this mini program, unless it is the account's only way in."""
    login_methods.ensure_enabled(method)
    return _remove(method, user_id, keep_last=True)


def remove_binding(method: LoginMethod, user_id: int, reason: str | None = None) -> UnbindAnswer:
    """Support's unbind: remove the binding even if it is the account's last, recording the reason."""
    return _remove(method, user_id, keep_last=False, reason=reason)


def _end_binding_access(binding: WeChatBinding) -> tuple[int, int]:
    """Revoke the tokens issued through one binding and void its pending loginCodes: (revoked, voided)."""
    now = utcnow()
    revoked = rows_changed(
        update(AccessToken)
        .where(AccessToken.binding_id == binding.id, AccessToken.revoked_at.is_(None), AccessToken.expires_at > now)
        .values(revoked_at=now)
    )
    voided = rows_changed(
        update(OneTimeCode)
        .where(OneTimeCode.binding_id == binding.id, OneTimeCode.used_at.is_(None), OneTimeCode.expires_at > now)
        .values(used_at=now)
    )
    return revoked, voided


def _remove(method: LoginMethod, user_id: int, keep_last: bool, reason: str | None = None) -> UnbindAnswer:
    with transaction():
        if db.session.get(User, user_id) is None:
            raise LoginError("user_not_found", f"No user has the id {user_id}.")
        binding = bound(method, user_id)
        login_events.note(openid=binding.openid)
        others = db.session.scalar(
            select(func.count()).where(WeChatBinding.user_id == user_id, WeChatBinding.id != binding.id)
        )
        if keep_last and not others:
            raise LoginError("last_login_method")
        if others:
            revoked, voided = _end_binding_access(binding)
        else:
            # Without a binding the account has no way in: nothing issued before may outlive it, tickets included.
            revoked, voided = end_access(user_id)
        record(
            "unbind",
            user_id=user_id,
            method=method,
            openId=binding.openid,
            unionId=binding.unionid,
            reason=reason,
            revokedTokens=revoked,
            voidedCodes=voided,
        )
        login_events.record_success(user_id=user_id)
        db.session.delete(binding)
    return UnbindAnswer(unbound=True, userId=user_id, loginMethod=method.name)
