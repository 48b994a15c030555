"""Login events: every login, register, token, bind, unbind, phone and decrypt call of the API leaves exactly one.

How one event per call stays one insert (docs/design.md, "Login activity"):

- The API's endpoint declaration opens an *attempt* for the call (`begin`): the call's kind, the login method named
  in its URL, the client's address and the request id. It is the one place that sees every outcome, including
  refusals raised before any service runs (a malformed body, an unknown login method) and a project's own Type.
- The services, which learn who the caller is, `note` the openId and the user on the attempt as they learn them:
  attribute sets, no query.
- A call that succeeds is recorded by its service with `record_success`: one INSERT inside the transaction the call
  already has, committed with the change it describes.
- A call that fails rolled its transaction back; the declaration then writes its event with `finish`, in a short
  transaction of its own: the only row a failed call writes.
- The session's commit and rollback tell the attempt whether its success row really committed, so a call that fails
  after its success row was rolled back still gets its (one) failure event, and one that fails after it committed
  gets no second one.

Only calls of the API are recorded (the seed's Python API and the console call the same services with no attempt
open, and these functions then do nothing). Refusals the edge or the rate limits answer before the call is read
(a NUL in the URL, `rate_limited`) write nothing: recording them would let a flood write a row per request.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app, g, has_app_context
from sqlalchemy import and_, event, func, insert, or_, select
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from console.database import transaction
from console.errors import ERRORS, HTTP_STATUS_TO_CODE, LoginError, one_line, unreachable_dependency
from console.extensions import db
from console.models import OUTCOME_OK, LoginEvent, LoginMethod, User, WeChatBinding, utcnow
from console.services.retention import Kind, register_kind

log = logging.getLogger(__name__)

# The calls that leave an event, as the Activity page names them.
CALLS = {
    "login": "Log in",
    "register": "Register",
    "token": "Token exchange",
    "bind": "Bind",
    "unbind": "Unbind",
    "phone": "Phone number",
    "decrypt": "Decrypt",
}
FAILED = "failed"  # the Activity page's "any failure" choice
# Every code a recorded call can end with: the contract's, less the generic 404/405 no recorded call answers.
OUTCOMES = [OUTCOME_OK] + [code for code in ERRORS if code not in ("not_found", "method_not_allowed")]

UNWRITTEN, PENDING, WRITTEN = "unwritten", "pending", "written"
INSERT_EVENT = insert(LoginEvent)  # built once: every login writes one
LOGIN_METHOD_MAX, OPENID_MAX, ADDRESS_MAX, REQUEST_ID_MAX = 64, 128, 64, 64


@dataclass
class Attempt:
    """One API call being recorded: what the declaration knows at its start, and what the services note."""

    call: str
    login_method: str | None
    address: str | None
    request_id: str | None
    openid: str | None = None
    user_id: int | None = None
    state: str = field(default=UNWRITTEN)

    def row(self, outcome: str, wechat_errcode: int | None = None) -> dict:
        """The event's columns for this outcome."""
        return {
            "created_at": utcnow(),
            "call": self.call,
            "login_method": _bounded(self.login_method, LOGIN_METHOD_MAX),
            "outcome": outcome,
            "wechat_errcode": wechat_errcode,
            "openid": _bounded(self.openid, OPENID_MAX),
            "user_id": self.user_id,
            "address": _bounded(self.address, ADDRESS_MAX),
            "request_id": _bounded(self.request_id, REQUEST_ID_MAX),
        }


def _bounded(value: str | None, length: int) -> str | None:
    return value[:length] if value else None


def _attempt() -> Attempt | None:
    return g.get("login_attempt") if has_app_context() else None


def begin(call: str, *, login_method: str | None, address: str | None, request_id: str | None) -> Attempt:
    """Open the recording of one API call (the endpoint declaration does, before the view runs)."""
    if call not in CALLS:
        raise ValueError(f"no login event is called {call!r}")
    attempt = Attempt(call, login_method, address, request_id)
    g.login_attempt = attempt
    return attempt


def note(*, method: LoginMethod | None = None, openid: str | None = None, user_id: int | None = None) -> None:
    """Tell the call's event who the caller is, as soon as a service knows (no query, nothing written)."""
    attempt = _attempt()
    if attempt is None:
        return
    if method is not None:
        attempt.login_method = method.name
    if openid is not None:
        attempt.openid = openid
    if user_id is not None:
        attempt.user_id = user_id


def record_success(*, method: LoginMethod | None = None, openid: str | None = None, user_id: int | None = None) -> None:
    """Write the call's success event in the current transaction: the last statement before the service commits."""
    note(method=method, openid=openid, user_id=user_id)
    attempt = _attempt()
    if attempt is None or attempt.state != UNWRITTEN:
        return
    db.session.execute(INSERT_EVENT, attempt.row(OUTCOME_OK))
    attempt.state = PENDING


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    attempt = _attempt()
    if attempt is not None and attempt.state == PENDING:
        attempt.state = WRITTEN


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    attempt = _attempt()
    if attempt is not None and attempt.state == PENDING:
        attempt.state = UNWRITTEN  # the success row went with the rest: the call's outcome is still to be written


def outcome_of(error: BaseException | None) -> tuple[str, int | None] | None:
    """(outcome, WeChat's errcode) of a call that ended with `error` (None: success); None when nothing can be
    written because the database itself is unreachable."""
    if error is None:
        return OUTCOME_OK, None
    if not isinstance(error, Exception):
        return None  # the process is being stopped
    dependency = unreachable_dependency(error)
    if dependency == "database":
        return None
    if dependency is not None:
        return "service_unavailable", None
    if isinstance(error, LoginError):
        return error.code, error.wechat_errcode
    if isinstance(error, HTTPException):
        status = error.code or 500
        return HTTP_STATUS_TO_CODE.get(status, "invalid_request" if status < 500 else "internal_error"), None
    return "internal_error", None


def finish(error: BaseException | None = None) -> None:
    """Close the call's recording: write its event now unless its service already committed it.

    A failed call's event is written in a transaction of its own, after anything the call left uncommitted is rolled
    back, so it is the only row the call writes. Writing it never changes the call's answer: should it fail, one
    warning is logged and the call answers what it was going to.
    """
    attempt = g.pop("login_attempt", None) if has_app_context() else None
    if attempt is None or attempt.state == WRITTEN:
        return
    outcome = outcome_of(error)
    if outcome is None:
        return
    try:
        if error is not None:
            db.session.rollback()
        with transaction():
            db.session.execute(INSERT_EVENT, attempt.row(*outcome))
    except Exception as write_error:  # noqa: BLE001  (the event must never turn the call's answer into another)
        db.session.rollback()
        log.warning("login event of request %s not written: %s", attempt.request_id, one_line(write_error))


# -- retention ----------------------------------------------------------------------------------------------------


def _expired(now: datetime):
    return LoginEvent.created_at <= now - timedelta(days=current_app.config["LOGIN_EVENTS_DAYS"])


register_kind(Kind("login events", LoginEvent, _expired))


# -- reading: a user's recent activity, the Activity page, failures in words ---------------------------------------


def user_activity(user_id: int, limit: int = 20) -> list[LoginEvent]:
    """The user's latest events, newest first: theirs by user id, and those of their WeChat identities from before
    the identity was bound to them (a registration_closed, for example)."""
    identities = db.session.execute(
        select(WeChatBinding.openid, LoginMethod.name)
        .join(LoginMethod, LoginMethod.id == WeChatBinding.login_method_id)
        .where(WeChatBinding.user_id == user_id)
    ).all()
    mine = [LoginEvent.user_id == user_id]
    mine += [and_(LoginEvent.openid == openid, LoginEvent.login_method == name) for openid, name in identities]
    return list(db.session.scalars(select(LoginEvent).where(or_(*mine)).order_by(LoginEvent.id.desc()).limit(limit)))


@dataclass(frozen=True)
class ActivityFilter:
    """The Activity page's filters; None means any. `since` is inclusive, `until` exclusive."""

    call: str | None = None
    login_method: str | None = None
    outcome: str | None = None  # a code, "ok", or FAILED for any failure
    wechat_errcode: int | None = None
    openid: str | None = None
    user_id: int | None = None
    request_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def conditions(self) -> list:
        """The WHERE clauses of this filter."""
        conditions = []
        if self.call:
            conditions.append(LoginEvent.call == self.call)
        if self.login_method:
            conditions.append(LoginEvent.login_method == self.login_method)
        if self.outcome == FAILED:
            conditions.append(LoginEvent.outcome != OUTCOME_OK)
        elif self.outcome:
            conditions.append(LoginEvent.outcome == self.outcome)
        if self.wechat_errcode is not None:
            conditions.append(LoginEvent.wechat_errcode == self.wechat_errcode)
        if self.openid:
            conditions.append(LoginEvent.openid == self.openid)
        if self.user_id is not None:
            conditions.append(LoginEvent.user_id == self.user_id)
        if self.request_id:
            conditions.append(LoginEvent.request_id == self.request_id)
        if self.since:
            conditions.append(LoginEvent.created_at >= self.since)
        if self.until:
            conditions.append(LoginEvent.created_at < self.until)
        return conditions


ACTIVITY_PAGE_SIZE = 50


@dataclass(frozen=True)
class ActivityPage:
    """One page of events, newest first; whether an older page exists (events are never counted: there are many);
    the names of the users the page names."""

    items: list[LoginEvent]
    page: int
    has_older: bool
    user_names: dict[int, str]


def activity_page(activity_filter: ActivityFilter, page: int = 1, per_page: int = ACTIVITY_PAGE_SIZE) -> ActivityPage:
    """A page of the events that pass the filter, newest first."""
    rows = list(
        db.session.scalars(
            select(LoginEvent)
            .where(*activity_filter.conditions())
            .order_by(LoginEvent.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page + 1)
        )
    )
    items = rows[:per_page]
    user_ids = {event.user_id for event in items if event.user_id is not None}
    names: dict[int, str] = {}
    if user_ids:
        rows_of_names = db.session.execute(select(User.id, User.name).where(User.id.in_(user_ids)))
        names.update((user_id, name) for user_id, name in rows_of_names)
    return ActivityPage(items=items, page=page, has_older=len(rows) > per_page, user_names=names)


def outcome_counts(outcomes: tuple[str, ...] | list[str], since: datetime) -> dict[str, int]:
    """{outcome: events since `since`} for the given outcomes, zeros included."""
    rows = db.session.execute(
        select(LoginEvent.outcome, func.count())
        .where(LoginEvent.outcome.in_(outcomes), LoginEvent.created_at >= since)
        .group_by(LoginEvent.outcome)
    )
    counts = dict.fromkeys(outcomes, 0)
    counts.update({outcome: count for outcome, count in rows})
    return counts


SUCCESS_WORDS = {
    "login": "Logged in.",
    "register": "Registered a new account and logged in.",
    "token": "Exchanged a loginCode for an access token.",
    "bind": "Bound this WeChat to the account.",
    "unbind": "Unbound this WeChat from the account.",
    "phone": "Read and saved the phone number.",
    "decrypt": "Decrypted the user's data.",
}
NEW_USER_WORDS = "A WeChat user new to this login method: answered a bindCode to register with."

# What each failure means to support, and what fixes it. WeChat's errcode, when there is one, says more than the
# code it maps to (wechat_misconfigured stands for several), so it is looked up first.
ERRCODE_WORDS = {
    -1: "WeChat was busy (errcode -1). Nothing is wrong here: the next try usually passes.",
    40001: "WeChat refused the access token or the appSecret (errcode 40001): an admin must check the appSecret.",
    40013: "WeChat does not know the appId (errcode 40013): an admin must correct the login method's appId.",
    40029: "WeChat says the code is invalid (errcode 40029): wrong, older than 5 minutes, or from another mini "
    "program. The mini program must call wx.login() again; if it keeps happening, check it uses this login "
    "method's appId.",
    40125: "WeChat rejects the appSecret (errcode 40125): an admin must enter the current appSecret of the login "
    "method (Login methods, Check credentials).",
    40163: "WeChat says the code was already used (errcode 40163): each wx.login() code works once. The mini "
    "program must call wx.login() again before logging in.",
    40164: "WeChat refused the call from this server's IP address (errcode 40164): add it to the mini program's IP "
    "whitelist in WeChat's admin platform.",
    40226: "WeChat blocked this user (errcode 40226, WeChat's risk control). Nothing in this console lifts it: the "
    "user must appeal in WeChat; their next login passes once WeChat lifts the block.",
    41002: "WeChat got no appId (errcode 41002): an admin must correct the login method.",
    41004: "WeChat got no appSecret (errcode 41004): an admin must enter the appSecret of the login method.",
    42001: "WeChat's access token expired (errcode 42001): the next call fetches a new one.",
    45011: "WeChat rate-limited this mini program (errcode 45011): too many logins a minute. They pass again "
    "within a minute.",
    48001: "WeChat says this mini program may not use that API (errcode 48001): check its permissions in WeChat's "
    "admin platform.",
}
OUTCOME_WORDS = {
    "invalid_request": "The mini program sent a malformed request (a missing or wrong field): a bug in the mini "
    "program.",
    "login_method_not_found": "No login method has this name: the mini program calls the wrong instance name.",
    "login_method_disabled": "This login method is switched off: an admin enables it under Login methods.",
    "registration_closed": "This login method does not allow new users; turn on registration or bind the WeChat to "
    "an existing account (a bind ticket from the user's page).",
    "invalid_code": ERRCODE_WORDS[40029],
    "code_used": "The wx.login() code was already used: each code works once. The mini program must call "
    "wx.login() again before each login; if it keeps happening, it reuses codes.",
    "user_blocked": ERRCODE_WORDS[40226],
    "wechat_rate_limited": ERRCODE_WORDS[45011],
    "wechat_misconfigured": "WeChat rejects this login method's appId or appSecret: an admin must correct them "
    "(Login methods, Check credentials).",
    "wechat_unavailable": "WeChat could not be reached or gave an unreadable answer. Nothing is wrong with the user: "
    "the next try usually passes.",
    "invalid_bind_code": "The bindCode was unknown, expired (5 minutes), used or for another login method: the "
    "mini program must log in again for a new one.",
    "already_registered": "This WeChat user registered meanwhile (two registrations at once): logging in again works.",
    "invalid_login_code": "The loginCode was unknown, expired (2 minutes) or used: the mini program must log in "
    "again for a new one.",
    "invalid_ticket": "The bind ticket was unknown, expired (10 minutes), used or for another login method: issue "
    "a new one on the user's page.",
    "not_a_member": "The user asked for a corp they are not a member of: add them to it on their page.",
    "unauthorized": "The access token was missing, expired or revoked: the mini program must log in again.",
    "account_disabled": "The user's account is disabled: enable it on their page.",
    "user_not_found": "The user no longer exists.",
    "wechat_already_bound": "This WeChat is bound to another account on this login method: unbind it there first.",
    "user_already_bound": "The account already has a WeChat on this login method: unbind it first to bind another.",
    "not_bound": "The account has no WeChat bound on this login method.",
    "last_login_method": "Unbinding would leave the account no way to sign in: bind another login method first.",
    "session_key_stale": "WeChat's session key changed since the last login: the mini program must call wx.login() "
    "and log in again before sending data.",
    "watermark_mismatch": "The data belongs to another mini program (appId): the mini program sent the wrong data.",
    "invalid_signature": "The data's signature did not match: it was altered, or sealed under another session key.",
    "rate_limited": "This service's own rate limit refused the call: too many calls from one address.",
    "service_unavailable": "The database or Redis could not be reached: an outage of ours, not the user's fault.",
    "internal_error": "A bug of ours: the request id finds its line in the log.",
}


def explain(event: LoginEvent) -> str:
    """What an event means, in words support can act on."""
    if event.outcome == OUTCOME_OK:
        if event.call == "login" and event.user_id is None:
            return NEW_USER_WORDS
        return SUCCESS_WORDS.get(event.call, "Succeeded.")
    if event.wechat_errcode in ERRCODE_WORDS:
        return ERRCODE_WORDS[event.wechat_errcode]
    words = OUTCOME_WORDS.get(event.outcome) or ERRORS.get(event.outcome, (0, f"Failed: {event.outcome}."))[1]
    if event.wechat_errcode is not None:
        words += f" (WeChat errcode {event.wechat_errcode}.)"
    return words
