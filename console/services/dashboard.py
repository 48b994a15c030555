"""What the dashboard shows: users, bindings per login method, a 30-day series and WeChat's refusals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select

from console.errors import ServiceUnavailable
from console.extensions import db
from console.models import AuditEvent, LoginMethod, User, utcnow
from console.services.audit import midnight
from console.services.gateway import wechat_error_counts
from console.services.login_methods import binding_counts, list_methods

ACTIVITY_ACTIONS = ("login", "register")
CHART_DAYS = 30


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
    bindings: list[tuple[LoginMethod, int]]
    today: DayActivity
    days: list[DayActivity]
    wechat_errors: dict[str, int] | None  # None: unavailable (they are counted in Redis, which is down)


def daily_activity(days: int = CHART_DAYS, today: date | None = None) -> list[DayActivity]:
    """Logins and registrations per UTC day over the last `days` days, oldest first, empty days included."""
    today = today or utcnow().date()
    first = today - timedelta(days=days - 1)
    day_column = func.date(AuditEvent.created_at)
    rows = db.session.execute(
        select(day_column, AuditEvent.action, func.count())
        .where(AuditEvent.action.in_(ACTIVITY_ACTIONS), AuditEvent.created_at >= midnight(first))
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
        users=db.session.scalar(select(func.count()).select_from(User)) or 0,
        bindings=[(method, counts.get(method.id, 0)) for method in list_methods()],
        today=days[-1],
        days=days,
        wechat_errors=_wechat_errors(),
    )


def _wechat_errors() -> dict[str, int] | None:
    """WeChat's refusals of the last 24 hours, or None while Redis (where they are counted) is down: the rest of the
    dashboard comes from the database and still shows."""
    try:
        return wechat_error_counts()
    except ServiceUnavailable:
        return None
