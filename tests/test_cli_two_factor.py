"""`flask --app wsgi reset-2fa USERNAME`: the way back in for an account (a sole admin) that lost its second factor."""

from __future__ import annotations

from sqlalchemy import func, select

from console.extensions import db
from console.models import AuditEvent, ConsoleSession, RecoveryCode, SecondFactor, SignInFailure
from console.services.console_accounts import sign_in
from tests.helpers import PASSWORD
from tests.test_cli import lock_out
from tests.totp import clock_fixture, enrol  # noqa: F401  (the clock fixture)


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_reset_2fa_removes_the_factor_ends_the_sessions_lifts_the_locks_and_is_audited(app, make_account, clock):
    account_id = make_account("ops")
    with app.app_context():
        sign_in("ops", PASSWORD, "192.0.2.1")  # a session from before the factor
    enrol(app, account_id, clock)
    lock_out(app, "ops")

    result = app.test_cli_runner().invoke(args=["reset-2fa", "ops"])

    assert result.exit_code == 0, result.output
    assert result.output.startswith("Reset the second factor of 'ops': its sessions are ended and its locks lifted")
    assert count(app, SecondFactor) == count(app, RecoveryCode) == count(app, SignInFailure) == 0
    with app.app_context():
        assert db.session.scalar(select(ConsoleSession.revoked_at)) is not None
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "admin.two_factor_reset"))
        assert event.actor_type == "cli" and event.details == {"username": "ops"}
        # the password alone signs in again
        assert sign_in("ops", PASSWORD, "203.0.113.9").session_id is not None


def test_reset_2fa_of_an_unknown_account_or_one_without_a_factor_is_one_line_and_changes_nothing(app, make_account):
    make_account("ops")
    lock_out(app, "ops")
    runner = app.test_cli_runner()

    unknown = runner.invoke(args=["reset-2fa", "nobody"])
    without = runner.invoke(args=["reset-2fa", "ops"])

    assert (unknown.exit_code, unknown.output) == (1, "Error: No console account is called 'nobody'.\n")
    assert (without.exit_code, without.output) == (1, "Error: ops has no second factor.\n")
    assert count(app, SignInFailure) == 10 and count(app, AuditEvent) == 0
