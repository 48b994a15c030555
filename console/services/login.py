"""Log in and register: the hot path every mini program calls at every launch.

A known WeChat user gets a loginCode and their corpList; a new one gets a bindCode when the login
method allows registration, and registers with it. No transaction is open while WeChat is called.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from console.database import transaction
from console.errors import LoginError
from console.extensions import db
from console.models import (
    BIND_CODE,
    LOGIN_CODE,
    USER_DISABLED,
    LoginMethod,
    Membership,
    User,
    WeChatBinding,
    utcnow,
)
from console.security.codes import issue_code, redeem_code
from console.security.keyring import keyring
from console.services import bindings, gateway, login_events, login_methods
from console.services.answers import BindCodeAnswer, LoginCodeAnswer, RegisterAnswer, UserOut
from console.services.audit import record
from console.services.corps import corp_list
from console.wechat.client import WeChatSession

DEFAULT_USER_NAME = "WeChat user"


def log_in(method: LoginMethod, code: str) -> LoginCodeAnswer | BindCodeAnswer:
    """Log a WeChat user in with a wx.login() code: a loginCode if known, a bindCode if new and allowed."""
    login_methods.ensure_enabled(method)
    session = gateway.exchange_code(method, code)
    try:
        return _log_in(method, session)
    except IntegrityError:
        # A parallel first login of the same person linked them first: log in to that binding.
        return _log_in(method, session)


def register(method: LoginMethod, bind_code: str, name: str | None, avatar_url: str | None) -> RegisterAnswer:
    """Create the user a bindCode stands for and log them in."""
    login_methods.ensure_enabled(method)
    if not method.allow_register:
        raise LoginError("registration_closed")
    try:
        with transaction():
            redeemed = redeem_code(BIND_CODE, bind_code, method.id)
            if redeemed is None or redeemed.openid is None:
                raise LoginError("invalid_bind_code")
            login_events.note(openid=redeemed.openid)
            if bindings.binding_of_openid(method, redeemed.openid) is not None:
                raise LoginError("already_registered")
            user = User(name=name or DEFAULT_USER_NAME, avatar_url=avatar_url)
            db.session.add(user)
            if method.default_corp_id:
                user.memberships.append(Membership(corp_id=method.default_corp_id))
            binding = WeChatBinding(
                user=user,
                login_method_id=method.id,
                openid=redeemed.openid,
                unionid=redeemed.unionid,
                session_key_ciphertext=redeemed.session_key_ciphertext,
                session_key_set_at=redeemed.created_at,
                last_login_at=utcnow(),
            )
            redeemed.session_key_ciphertext = None  # the binding holds it now; keep one copy at rest
            db.session.add(binding)
            db.session.flush()
            record("register", user_id=user.id, method=method, openId=binding.openid, unionId=binding.unionid)
            logged_in = _login_code_answer(method, user.id, binding.id)
            answer = RegisterAnswer(user=UserOut.of(user), **dict(logged_in))
            login_events.record_success(openid=binding.openid, user_id=user.id)
    except IntegrityError:
        # The same WeChat user registered through another bindCode at the same moment.
        raise LoginError("already_registered") from None
    return answer


def _log_in(method: LoginMethod, session: WeChatSession) -> LoginCodeAnswer | BindCodeAnswer:
    """Answer a login for a WeChat identity: a loginCode for a known user, a bindCode for a new one."""
    with transaction():
        # The hot path of the service: columns rather than entities, and plain UPDATE/INSERTs (make bench).
        known = db.session.execute(
            select(WeChatBinding.id, WeChatBinding.user_id, User.status)
            .join(User, User.id == WeChatBinding.user_id)
            .where(WeChatBinding.login_method_id == method.id, WeChatBinding.openid == session.openid)
        ).first()
        if known is None:
            linked = _link_by_unionid(method, session)
            if linked is None:
                return _bind_code_answer(method, session)
            binding_id, user_id = linked.id, linked.user_id
            status = db.session.scalar(select(User.status).where(User.id == user_id))
        else:
            binding_id, user_id, status = known
        login_events.note(user_id=user_id)
        if status == USER_DISABLED:
            raise LoginError("account_disabled")
        now = utcnow()
        fresh = {
            "session_key_ciphertext": keyring().encrypt(session.session_key),
            "session_key_set_at": now,
            "last_login_at": now,
        }
        if session.unionid:
            fresh["unionid"] = session.unionid
        db.session.execute(
            update(WeChatBinding)
            .where(WeChatBinding.id == binding_id)
            .values(**fresh)
            .execution_options(synchronize_session=False)
        )
        # The login event is the login's record (one insert): a login changes no account data for the audit log.
        answer = _login_code_answer(method, user_id, binding_id)
        login_events.record_success(openid=session.openid, user_id=user_id)
        return answer


def _bind_code_answer(method: LoginMethod, session: WeChatSession) -> BindCodeAnswer:
    """A bindCode carrying the WeChat identity and its session key, when registration is open."""
    if not method.allow_register:
        raise LoginError("registration_closed")
    ttl = current_app.config["BIND_CODE_TTL"]
    bind_code = issue_code(
        BIND_CODE,
        ttl,
        login_method_id=method.id,
        openid=session.openid,
        unionid=session.unionid,
        session_key_ciphertext=keyring().encrypt(session.session_key),
    )
    login_events.record_success(openid=session.openid)
    return BindCodeAnswer(bindCode=bind_code, expiresIn=ttl)


def _link_by_unionid(method: LoginMethod, session: WeChatSession) -> WeChatBinding | None:
    """Bind a WeChat user new to this mini program to the one account their unionid already has."""
    if not (method.link_by_unionid and session.unionid):
        return None
    user_ids = set(db.session.scalars(select(WeChatBinding.user_id).where(WeChatBinding.unionid == session.unionid)))
    if len(user_ids) != 1:
        return None  # unknown, or ambiguous: never guess between two accounts
    user_id = user_ids.pop()
    existing = bindings.binding_of_user(method, user_id)
    if existing is not None:
        # A parallel first login of this same WeChat user may have linked it a moment ago.
        return existing if existing.openid == session.openid else None
    binding = bindings.add_binding(method, user_id, session)
    record("bind", user_id=user_id, method=method, openId=session.openid, unionId=session.unionid, via="unionid")
    return binding


def _login_code_answer(method: LoginMethod, user_id: int, binding_id: int) -> LoginCodeAnswer:
    ttl = current_app.config["LOGIN_CODE_TTL"]
    login_code = issue_code(LOGIN_CODE, ttl, login_method_id=method.id, user_id=user_id, binding_id=binding_id)
    return LoginCodeAnswer(loginCode=login_code, expiresIn=ttl, corpList=corp_list(user_id))
