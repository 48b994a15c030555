"""The audit log: events written in the same transaction as the change they describe; filtered, paged, exported,
and told for people (actors and users named, the reason apart)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask import g
from sqlalchemy import insert, select

from console.extensions import db
from console.models import AuditEvent, LoginMethod, User, utcnow

# Detail keys that must never be written, whatever a caller passes.
SECRET_KEYS = {
    "appSecret",
    "app_secret",
    "sessionKey",
    "session_key",
    "code",
    "ticket",
    "token",
    "bindCode",
    "loginCode",
}


@dataclass(frozen=True)
class Actor:
    """Who acts: the JSON API, a console account, the CLI, or Python code in the app."""

    type: str
    name: str
    address: str | None = None


PYTHON_ACTOR = Actor("app", "python")
INSERT_EVENT = insert(AuditEvent)  # built once: every login writes an event


def set_actor(actor: Actor) -> None:
    """Name the actor of the audit events written during this request or command."""
    g.audit_actor = actor


def current_actor() -> Actor:
    """The actor set for this context, else Python code in the app."""
    return g.get("audit_actor", PYTHON_ACTOR)


API_ACTOR = "api"


def record(action: str, *, user_id: int | None = None, method: LoginMethod | None = None, **details) -> None:
    """Write an audit event in the current transaction.

    A call of the mini program's API is acted by that mini program: its login method's name is the actor and its
    appId (as it is at that moment) goes into the details, so the log names who acted, not just "api".
    """
    actor = current_actor()
    name = actor.name
    if actor.type == API_ACTOR and method is not None:
        name = method.name
        details.setdefault("appId", method.app_id)
    db.session.execute(
        INSERT_EVENT,
        {
            "created_at": utcnow(),
            "actor_type": actor.type,
            "actor": name,
            "action": action,
            "user_id": user_id,
            "login_method_id": method.id if method else None,
            "login_method_name": method.name if method else None,
            "source_address": actor.address,
            "details": {key: value for key, value in details.items() if key not in SECRET_KEYS and value is not None},
        },
    )


AUDIT_PAGE_SIZE = 50
CSV_COLUMNS = (
    "id",
    "created_at",
    "actor_type",
    "actor",
    "action",
    "user_id",
    "login_method_name",
    "source_address",
    "details",
)


def midnight(day: date) -> datetime:
    """The start of a UTC day."""
    return datetime.combine(day, time(0), tzinfo=UTC)


@dataclass(frozen=True)
class AuditFilter:
    """The audit log's filters; None means any."""

    action: str | None = None
    actor: str | None = None
    user_id: int | None = None
    login_method: str | None = None
    since: date | None = None
    until: date | None = None

    def conditions(self) -> list:
        """The WHERE clauses of this filter."""
        conditions = []
        if self.action:
            conditions.append(AuditEvent.action == self.action)
        if self.actor:
            conditions.append(AuditEvent.actor.icontains(self.actor, autoescape=True))
        if self.user_id is not None:
            conditions.append(AuditEvent.user_id == self.user_id)
        if self.login_method:
            conditions.append(AuditEvent.login_method_name == self.login_method)
        if self.since:
            conditions.append(AuditEvent.created_at >= midnight(self.since))
        if self.until and self.until < date.max:  # until the calendar's last day is no bound at all
            conditions.append(AuditEvent.created_at < midnight(self.until + timedelta(days=1)))
        return conditions


def _audit_select(audit_filter: AuditFilter):
    return select(AuditEvent).where(*audit_filter.conditions()).order_by(AuditEvent.id.desc())


def audit_page(audit_filter: AuditFilter, page: int = 1):
    """A page of the audit events that pass the filter, newest first."""
    return db.paginate(_audit_select(audit_filter), page=page, per_page=AUDIT_PAGE_SIZE, error_out=False)


def audit_actions() -> list[str]:
    """Every action the audit log holds, for the filter's choices."""
    return list(db.session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))


def filter_problems(audit_filter: AuditFilter, known_actions: list[str]) -> dict[str, str]:
    """{filter field: what is wrong with it and what to do} for the filters that can match nothing by mistake."""
    problems = {}
    if audit_filter.action and audit_filter.action not in known_actions:
        problems["action"] = f"No audit event has the action {audit_filter.action!r}: choose one from the list."
    if audit_filter.user_id is not None and not _user_known(audit_filter.user_id):
        problems["user_id"] = f"No user has the id {audit_filter.user_id}: copy it from the user's page (User id)."
    if audit_filter.since and audit_filter.until and audit_filter.since > audit_filter.until:
        problems["until"] = (
            f"“To” ({audit_filter.until.isoformat()}) is before “From” ({audit_filter.since.isoformat()}), "
            "so nothing can match: swap the dates or clear one."
        )
    return problems


def _user_known(user_id: int) -> bool:
    """Whether a user has this id, or had it: events outlive what they name."""
    if db.session.get(User, user_id) is not None:
        return True
    return db.session.scalar(select(AuditEvent.id).where(AuditEvent.user_id == user_id).limit(1)) is not None


# How the log names each kind of actor for people.
ACTOR_KINDS = {"console": "console", "api": "mini program", "cli": "command line", "app": "in the app"}


@dataclass(frozen=True)
class EventView:
    """An audit event told for people: who acted, for whom, why, and the remaining details."""

    event: AuditEvent
    actor: str
    actor_kind: str
    actor_note: str | None
    user_name: str | None  # None: no user, or one that no longer exists
    reason: str | None
    details: dict


def describe_events(events: list[AuditEvent]) -> list[EventView]:
    """The events with their actors and users named, read at display time so that old events read as well as new
    ones (two queries for a page, whatever its length)."""
    user_ids = {event.user_id for event in events if event.user_id is not None}
    method_ids = {event.login_method_id for event in events if event.login_method_id is not None}
    users = dict(db.session.execute(select(User.id, User.name).where(User.id.in_(user_ids))).all())
    methods = {
        row.id: row
        for row in db.session.execute(
            select(LoginMethod.id, LoginMethod.title, LoginMethod.app_id).where(LoginMethod.id.in_(method_ids))
        )
    }
    return [_describe(event, users, methods) for event in events]


def _describe(event: AuditEvent, users: dict, methods: dict) -> EventView:
    details = dict(event.details or {})
    reason = details.pop("reason", None)
    actor, note = event.actor, None
    if event.actor_type == API_ACTOR:
        # Events before actors were named say "api": the login method the event names is the mini program.
        method_name = event.login_method_name or (event.actor if event.actor != API_ACTOR else None)
        current = methods.get(event.login_method_id)
        app_id = details.pop("appId", None) or (current.app_id if current else None)
        actor = (current.title if current else None) or method_name or "Mini program API"
        note = " · ".join(part for part in (method_name, app_id and f"appId {app_id}") if part) or None
    elif event.actor_type == PYTHON_ACTOR.type and event.actor == PYTHON_ACTOR.name:
        actor = "Python code"
    return EventView(
        event=event,
        actor=actor,
        actor_kind=ACTOR_KINDS.get(event.actor_type, event.actor_type),
        actor_note=note,
        user_name=users.get(event.user_id),
        reason=None if reason is None else str(reason),
        details=details,
    )


def _csv_cell(value) -> str:
    text = "" if value is None else str(value)
    # a spreadsheet runs a cell that starts like a formula: make it plain text
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def audit_csv(audit_filter: AuditFilter) -> Iterator[str]:
    """The audit events that pass the filter as CSV lines, header first (details are secret-free JSON)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(values) -> str:
        writer.writerow([_csv_cell(value) for value in values])
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield line(CSV_COLUMNS)
    for event in db.session.scalars(_audit_select(audit_filter).execution_options(yield_per=500)):
        yield line(
            [
                event.id,
                event.created_at.isoformat(),
                event.actor_type,
                event.actor,
                event.action,
                event.user_id,
                event.login_method_name,
                event.source_address,
                json.dumps(event.details, ensure_ascii=False, sort_keys=True),
            ]
        )
