"""purge: what has expired goes, in bounded batches, exactly once however many hosts run it; the rest stays."""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select

from console.extensions import db
from console.models import (
    LOGIN_CODE,
    AccessToken,
    AdminAccount,
    AuditEvent,
    ConsoleSession,
    LoginEvent,
    OneTimeCode,
    SignInFailure,
    User,
    utcnow,
)
from console.services import retention
from console.services.retention import Kind, purge, register_kind
from tests.helpers import cheap_hash

MODELS = {
    "one-time codes": OneTimeCode,
    "access tokens": AccessToken,
    "console sessions": ConsoleSession,
    "sign-in failures": SignInFailure,
    "login events": LoginEvent,
}


@dataclass
class Seeded:
    """The rows seeded: how many of each kind are dead, and the ids of the live ones."""

    dead: dict[str, int] = field(default_factory=lambda: dict.fromkeys(MODELS, 0))
    live: dict[str, set[int]] = field(default_factory=lambda: {name: set() for name in MODELS})


def seed(app, harness, copies: int = 1) -> Seeded:
    """Dead and live rows of every kind, interleaved so that live rows sit between dead ones."""
    method = harness.add_method()
    harness.register(method, "alice")
    seeded = Seeded()
    now = utcnow()
    with app.app_context():
        for model in MODELS.values():  # start from the seeded rows alone
            db.session.execute(delete(model))
        user_id = db.session.scalar(select(User.id))
        account = AdminAccount(username="boss", role="admin", password_hash=cheap_hash("x"))
        db.session.add(account)
        db.session.flush()

        def add(kind: str, row, dead: bool) -> None:
            db.session.add(row)
            db.session.flush()
            if dead:
                seeded.dead[kind] += 1
            else:
                seeded.live[kind].add(row.id)

        later, earlier = now + timedelta(minutes=5), now - timedelta(seconds=1)
        digests = (f"digest-{n}" for n in itertools.count())

        def code(expires_at, used_at=None):
            return OneTimeCode(
                kind=LOGIN_CODE,
                digest=next(digests),
                login_method_id=method.id,
                user_id=user_id,
                expires_at=expires_at,
                used_at=used_at,
            )

        def token(expires_at, revoked_at=None):
            return AccessToken(digest=next(digests), user_id=user_id, expires_at=expires_at, revoked_at=revoked_at)

        def session(created_at, revoked_at=None):
            return ConsoleSession(
                digest=next(digests), account_id=account.id, created_at=created_at, revoked_at=revoked_at
            )

        def failure(failed_at, locked_until=None):
            return SignInFailure(username="boss", address="192.0.2.1", failed_at=failed_at, locked_until=locked_until)

        def login_event(created_at):
            return LoginEvent(call="login", outcome="ok", user_id=user_id, created_at=created_at)

        for _ in range(copies):
            add("one-time codes", code(earlier), dead=True)  # expired
            add("one-time codes", code(later), dead=False)
            add("one-time codes", code(later, used_at=now), dead=True)  # used
            add("one-time codes", code(earlier), dead=True)
            add("access tokens", token(earlier), dead=True)  # expired
            add("access tokens", token(later), dead=False)
            add("access tokens", token(later, revoked_at=now), dead=True)  # revoked
            add("access tokens", token(later), dead=False)
            add("console sessions", session(now, revoked_at=now), dead=True)  # signed out
            add("console sessions", session(now - timedelta(hours=11)), dead=False)
            add("console sessions", session(now - timedelta(hours=12, seconds=1)), dead=True)  # past its 12 hours
            add("sign-in failures", failure(now - timedelta(minutes=61)), dead=True)  # past every window
            add("sign-in failures", failure(now - timedelta(minutes=59)), dead=False)  # still slows the account
            # old, but carrying a lock still in force (only if the lock outlasts the windows; kept all the same)
            add("sign-in failures", failure(now - timedelta(minutes=61), now + timedelta(minutes=1)), dead=False)
            # older than LOGIN_EVENTS_DAYS (30 in tests)
            add("login events", login_event(now - timedelta(days=30, seconds=1)), dead=True)
            add("login events", login_event(now - timedelta(days=29, hours=23)), dead=False)
            add("login events", login_event(now - timedelta(days=45)), dead=True)
        db.session.commit()
    return seeded


def remaining(app) -> dict[str, set[int]]:
    with app.app_context():
        return {name: set(db.session.scalars(select(model.id))) for name, model in MODELS.items()}


def test_purge_deletes_what_has_expired_and_keeps_what_is_still_needed(app, harness):
    seeded = seed(app, harness)

    with app.app_context():
        deleted = purge()

    assert deleted == {
        "one-time codes": 3,
        "access tokens": 2,
        "console sessions": 2,
        "sign-in failures": 1,
        "login events": 2,
    }
    assert deleted == seeded.dead
    assert remaining(app) == seeded.live


def test_a_second_purge_finds_nothing(app, harness):
    seed(app, harness)
    with app.app_context():
        purge()
        assert set(purge().values()) == {0}


def test_purge_deletes_in_batches_of_the_size_asked(app, harness, monkeypatch):
    seeded = seed(app, harness, copies=5)  # 15 dead codes, among 5 live ones
    deletes: list[int] = []
    original = retention.rows_changed
    monkeypatch.setattr(retention, "rows_changed", lambda statement: deletes.append(original(statement)) or deletes[-1])

    with app.app_context():
        deleted = purge(batch_size=4)

    assert deleted == seeded.dead and remaining(app) == seeded.live
    assert max(deletes) == 4 and sum(deletes) == sum(seeded.dead.values())
    assert len(deletes) == sum(-(-count // 4) for count in seeded.dead.values())  # one DELETE per batch


def test_purges_running_together_delete_each_row_once_and_keep_the_live_ones(app, harness):
    seeded = seed(app, harness, copies=40)
    barrier = threading.Barrier(3)
    results: list[dict[str, int]] = []
    errors: list[BaseException] = []

    def run():
        with app.app_context():
            barrier.wait()
            try:
                results.append(purge(batch_size=7))
            except BaseException as error:  # reported below, not lost in the thread
                errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == [] and len(results) == 3
    assert {name: sum(result[name] for result in results) for name in MODELS} == seeded.dead
    assert remaining(app) == seeded.live


def test_a_kind_registered_later_is_purged_too(app, harness, monkeypatch):
    """The hook the login events use: a table that grows without end names its dead rows."""
    monkeypatch.setattr(retention, "KINDS", list(retention.KINDS))
    with app.app_context():
        for age in (31, 29):
            db.session.add(
                AuditEvent(actor_type="cli", actor="t", action="old.thing", created_at=utcnow() - timedelta(days=age))
            )
        db.session.commit()
        register_kind(
            Kind(
                "old things",
                AuditEvent,
                lambda now: (AuditEvent.action == "old.thing") & (AuditEvent.created_at <= now - timedelta(days=30)),
            )
        )

        deleted = purge()

        assert deleted["old things"] == 1
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 1
        with pytest.raises(ValueError, match="already knows"):
            register_kind(Kind("old things", AuditEvent, lambda now: AuditEvent.id < 0))


@pytest.mark.parametrize("size", [0, retention.MAX_BATCH_SIZE + 1])
def test_a_batch_size_out_of_range_is_refused(app, size):
    with app.app_context(), pytest.raises(ValueError):
        purge(batch_size=size)
