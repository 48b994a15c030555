"""What the dashboard and the audit log show: counts, a 30-day series, and filtered audit events."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import func, select

from console.extensions import db
from console.login.metrics import wechat_error_counts
from console.login.methods import binding_counts, list_methods
from console.models import AuditEvent, User, utcnow

ACTIVITY_ACTIONS = ("login", "register")
CHART_DAYS = 30
AUDIT_PAGE_SIZE = 50
CSV_COLUMNS = ("id", "created_at", "actor_type", "actor", "action", "user_id", "login_method_name", "source_address", "details")


@dataclass(frozen=True)
class DayActivity:
    """Logins and registrations on one UTC day."""

    day: date
    login: int
    register: int


@dataclass(frozen=True)
class Dashboard:
    """The numbers on the console's front page."""

    users: int
    bindings: list[tuple]  # (login method, bindings)
    today: DayActivity
    days: list[DayActivity]
    wechat_errors: dict[str, int]


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=timezone.utc)


def daily_activity(days: int = CHART_DAYS, today: date | None = None) -> list[DayActivity]:
    """Logins and registrations per UTC day over the last `days` days, oldest first, empty days included."""
    today = today or utcnow().date()
    first = today - timedelta(days=days - 1)
    day_column = func.date(AuditEvent.created_at)
    rows = db.session.execute(
        select(day_column, AuditEvent.action, func.count())
        .where(AuditEvent.action.in_(ACTIVITY_ACTIONS), AuditEvent.created_at >= _midnight(first))
        .group_by(day_column, AuditEvent.action)
    )
    # SQLite answers date() as text, PostgreSQL as a date: compare both as YYYY-MM-DD
    counts = {(str(day)[:10], action): count for day, action, count in rows}
    series = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        key = day.isoformat()
        series.append(DayActivity(day, counts.get((key, "login"), 0), counts.get((key, "register"), 0)))
    return series


def dashboard() -> Dashboard:
    """Users, bindings per login method, today's and 30 days' activity, and WeChat's refusals of the last 24 hours."""
    counts = binding_counts()
    days = daily_activity()
    return Dashboard(
        users=db.session.scalar(select(func.count()).select_from(User)),
        bindings=[(method, counts.get(method.id, 0)) for method in list_methods()],
        today=days[-1],
        days=days,
        wechat_errors=wechat_error_counts(),
    )


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
            conditions.append(AuditEvent.created_at >= _midnight(self.since))
        if self.until:
            conditions.append(AuditEvent.created_at < _midnight(self.until + timedelta(days=1)))
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
            [event.id, event.created_at.isoformat(), event.actor_type, event.actor, event.action, event.user_id,
             event.login_method_name, event.source_address, json.dumps(event.details, ensure_ascii=False, sort_keys=True)]
        )
