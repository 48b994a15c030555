"""Two-factor sign-in in tests: a clock the test moves by hand, and codes computed from a secret as an app would."""

from __future__ import annotations

import pyotp
import pytest

from console.database import transaction
from console.extensions import db
from console.models import AdminAccount
from console.services import two_factor

# Five seconds into a time step, so a test crosses a step only when it moves the clock itself.
START = 1_900_000_005.0


class Clock:
    """Stands in for two_factor.clock: the time codes are checked against and pending sign-ins expire by."""

    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Let `seconds` go by."""
        self.now += seconds


@pytest.fixture(name="clock")
def clock_fixture(monkeypatch):
    """The clock of two-factor sign-in, stopped at START until the test moves it."""
    stopped = Clock(START)
    monkeypatch.setattr(two_factor, "clock", stopped)
    return stopped


def code_at(secret: str, moment: float, steps: int = 0) -> str:
    """The code an authenticator app with `secret` shows at `moment`, `steps` time steps later (or earlier)."""
    return pyotp.TOTP(secret).at(moment + steps * two_factor.STEP_SECONDS)


def enrol(app, account_id: int, clock: Clock) -> tuple[str, list[str]]:
    """Set up the account's second factor through the service, as its owner would: (secret, recovery codes).

    The clock then moves on one step, so the next code the app shows is a fresh one (the set-up's is spent)."""
    with app.app_context():
        account = db.session.get(AdminAccount, account_id)
        secret = two_factor.begin_enrolment(account).secret
        with transaction():
            codes = two_factor.confirm(account, code_at(secret, clock.now))
    clock.advance(two_factor.STEP_SECONDS)
    return secret, codes
