"""Retention: delete what has expired, in bounded batches, safe to run from cron on several hosts at once.

Each kind of row that grows without end names the condition under which a row of it is dead. `purge` walks
each table in id order, one batch per short transaction, and deletes the dead rows of the batch. Several hosts
may run it together: a batch takes its rows with FOR UPDATE SKIP LOCKED on PostgreSQL (SQLite runs one writer
at a time anyway), every DELETE repeats the condition, and each host counts only the rows its own DELETEs
removed, so nothing is deleted that is still needed and nothing is counted twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, or_, select

from console.database import rows_changed, transaction
from console.extensions import db
from console.models import AccessToken, ConsoleSession, OneTimeCode, SignInFailure, utcnow
from console.services.console_accounts import FAILURE_RETENTION, SESSION_LIFETIME

DEFAULT_BATCH_SIZE = 1000
MAX_BATCH_SIZE = 10_000  # the ids of a batch are bound parameters: SQLite and PostgreSQL cap how many


@dataclass(frozen=True)
class Kind:
    """A kind of row that expires: the name purge reports it by, its model (with an integer `id`), and the
    condition, given the moment the purge started, under which a row is no longer needed."""

    name: str
    model: type
    dead: Callable[[datetime], ColumnElement[bool]]


KINDS: list[Kind] = [
    # Used codes are dead at once, unused ones when they expire (minutes: every code's life is short).
    Kind(
        "one-time codes", OneTimeCode, lambda now: or_(OneTimeCode.used_at.is_not(None), OneTimeCode.expires_at <= now)
    ),
    Kind(
        "access tokens",
        AccessToken,
        lambda now: or_(AccessToken.revoked_at.is_not(None), AccessToken.expires_at <= now),
    ),
    Kind(
        "console sessions",
        ConsoleSession,
        lambda now: or_(ConsoleSession.revoked_at.is_not(None), ConsoleSession.created_at <= now - SESSION_LIFETIME),
    ),
    # A failure older than every window it counts in, unless it carries a lock still in force.
    Kind(
        "sign-in failures",
        SignInFailure,
        lambda now: and_(
            SignInFailure.failed_at <= now - FAILURE_RETENTION,
            or_(SignInFailure.locked_until.is_(None), SignInFailure.locked_until <= now),
        ),
    ),
]


def register_kind(kind: Kind) -> None:
    """Add a kind of expiring row to purge: the hook for tables that come later.

    Login events, for example, register themselves as
    `Kind("login events", LoginEvent, lambda now: LoginEvent.created_at <= now - timedelta(days=days))`, with
    `days` from the LOGIN_EVENTS_DAYS setting.
    """
    if any(existing.name == kind.name for existing in KINDS):
        raise ValueError(f"purge already knows a kind called {kind.name!r}")
    KINDS.append(kind)


def purge(batch_size: int = DEFAULT_BATCH_SIZE) -> dict[str, int]:
    """Delete every dead row of every kind, `batch_size` rows per transaction: {kind's name: rows deleted}."""
    if not 1 <= batch_size <= MAX_BATCH_SIZE:
        raise ValueError(f"the batch size is 1 to {MAX_BATCH_SIZE}")
    now = utcnow()  # one moment for the whole run, so a run ends even while rows keep expiring
    return {kind.name: _purge_kind(kind, now, batch_size) for kind in KINDS}


def _purge_kind(kind: Kind, now: datetime, batch_size: int) -> int:
    id_column = kind.model.id  # type: ignore[attr-defined]
    dead = kind.dead(now)
    deleted, after = 0, 0
    while True:
        with transaction():
            # Keyset paging: each batch starts after the last id seen, so the table is walked once per run
            # whatever another host deletes meanwhile. SKIP LOCKED passes over rows another host (or a request)
            # holds: theirs to delete or to keep.
            ids = list(
                db.session.scalars(
                    select(id_column)
                    .where(dead, id_column > after)
                    .order_by(id_column)
                    .limit(batch_size)
                    .with_for_update(skip_locked=True)
                )
            )
            if ids:
                deleted += rows_changed(
                    delete(kind.model).where(id_column.in_(ids), dead).execution_options(synchronize_session=False)
                )
        if len(ids) < batch_size:
            return deleted
        after = ids[-1]
