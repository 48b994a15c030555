"""The audit log: events written in the same transaction as the change they describe; filtered, paged, exported."""

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
from console.models import AuditEvent, LoginMethod, utcnow

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


def record(action: str, *, user_id: int | None = None, method: LoginMethod | None = None, **details) -> None:
    """Write an audit event in the current transaction."""
    actor = current_actor()
    db.session.execute(
        INSERT_EVENT,
        {
            "created_at": utcnow(),
            "actor_type": actor.type,
            "actor": actor.name,
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
