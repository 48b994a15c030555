"""What the dashboard shows: users, bindings per login method, a 30-day series and WeChat's refusals, the last two
counted from the login events (so they survive restarts and last as long as the events do)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select

from console.extensions import db
from console.models import OUTCOME_OK, LoginEvent, LoginMethod, User, utcnow
from console.services.audit import midnight
from console.services.gateway import WECHAT_ERROR_CODES
from console.services.login_events import outcome_counts
from console.services.login_methods import binding_counts, list_methods

CHART_DAYS = 30
WECHAT_ERRORS_WINDOW = timedelta(hours=24)


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
    wechat_errors: dict[str, int]


def daily_activity(days: int = CHART_DAYS, today: date | None = None) -> list[DayActivity]:
    """Successful logins of known users and registrations per UTC day over the last `days` days, oldest first,
    empty days included. (A login that answered a bindCode is not a login yet: its registration is.)"""
    today = today or utcnow().date()
    first = today - timedelta(days=days - 1)
    day_column = func.date(LoginEvent.created_at)
    rows = db.session.execute(
        select(day_column, LoginEvent.call, func.count())
        .where(
            LoginEvent.created_at >= midnight(first),
            LoginEvent.outcome == OUTCOME_OK,
            ((LoginEvent.call == "login") & LoginEvent.user_id.is_not(None)) | (LoginEvent.call == "register"),
        )
        .group_by(day_column, LoginEvent.call)
    )
    # SQLite answers date() as text, PostgreSQL as a date: compare both as YYYY-MM-DD
    counts = {(str(day)[:10], call): count for day, call, count in rows}
    series = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        key = day.isoformat()
        series.append(DayActivity(day, counts.get((key, "login"), 0), counts.get((key, "register"), 0)))
    return series


def wechat_error_counts() -> dict[str, int]:
    """{code: calls WeChat refused with it in the last 24 hours} for every WeChat error code, zeros included."""
    return outcome_counts(WECHAT_ERROR_CODES, utcnow() - WECHAT_ERRORS_WINDOW)


def dashboard() -> Dashboard:
    """Users, bindings per login method, today's and 30 days' activity, and WeChat's refusals of the last 24 hours."""
    counts = binding_counts()
    days = daily_activity()
    return Dashboard(
        users=db.session.scalar(select(func.count()).select_from(User)) or 0,
        bindings=[(method, counts.get(method.id, 0)) for method in list_methods()],
        today=days[-1],
        days=days,
        wechat_errors=wechat_error_counts(),
    )
