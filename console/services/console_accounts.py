"""Console accounts: sign-in with lockout, server-side sessions that sign-out revokes, and their management.

The lockout is one an attacker cannot turn on the owner. Wrong passwords lock an account only for the client
address they came from; the account as a whole is only slowed, by a delay that every attempt on it waits,
whatever the password, and that grows with the failures from all addresses. So someone who knows a username
keeps its owner waiting a few seconds at most, never out. Failures are kept per username as typed, so a name
nobody has is counted, locked and slowed exactly like a real one.

An account with a second factor (services/two_factor.py) is signed in only once a code follows the password, within
PENDING_LIFETIME; a wrong code is a failed sign-in like a wrong password, so guessing codes locks the guesser's
address out and slows the account just the same.
"""

from __future__ import annotations

import functools
import re
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from annotated_types import MinLen
from flask import current_app
from pydantic import AfterValidator, BaseModel, Strict, StringConstraints, ValidationError
from sqlalchemy import case, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from console.database import end_read, rows_changed, transaction
from console.errors import Refused
from console.extensions import db
from console.models import ROLES, AdminAccount, ConsoleSession, SignInFailure, utcnow
from console.security.codes import digest, new_secret_value
from console.services import two_factor
from console.services.audit import Actor, current_actor, record, set_actor
from console.services.rules import Rule, checked, refusal

# Per account and client address: this many wrong passwords within the window lock that address out of that
# account for LOCKOUT. Attempts during a lock are refused whatever the password and neither count nor extend it.
MAX_FAILED_SIGN_INS = 10
ADDRESS_WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)
# Per account, all addresses: failures within ACCOUNT_WINDOW beyond the first ACCOUNT_FREE_FAILURES make every
# attempt wait ACCOUNT_DELAY_STEP seconds more each, up to ACCOUNT_DELAY_MAX: slowed, never locked. The cap is
# low because a waiting attempt holds a server thread (and the per-address rate limit bounds how many).
ACCOUNT_WINDOW = timedelta(hours=1)
ACCOUNT_FREE_FAILURES = 20
ACCOUNT_DELAY_STEP = 0.1
ACCOUNT_DELAY_MAX = 3.0
# How long a failure matters at all; purge deletes older ones (unless they carry a lock still in force).
FAILURE_RETENTION = max(ACCOUNT_WINDOW, ADDRESS_WINDOW)
ADDRESS_MAX = 64  # the column's length: a longer address (never a real one) is cut
SESSION_LIFETIME = timedelta(hours=12)  # a console sign-in lasts a working day, whatever the cookie says
MIN_PASSWORD_LENGTH = 10
USERNAME_MAX = 64  # the console's forms refuse longer input with the same number
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_.@-]{3,64}$")
# One sentence for every refusal, so a stranger learns nothing about which accounts exist or are locked.
SIGN_IN_REFUSED = "Wrong username or password."
# The second step (a code, or setting up a second factor where REQUIRE_2FA asks for one) must follow the password
# within this long; then the password is asked for again.
PENDING_LIFETIME = timedelta(minutes=5)
CODE_STEP, ENROL_STEP = "code", "enrol"
# One sentence for every refusal of a code, wrong, replayed or locked out alike.
CODE_REFUSED = "Wrong code, or a code already used. Type the newest code from your app, or an unused recovery code."
REAUTH_REFUSED = "Wrong password or code."


def _known_role(role: str) -> str:
    if role not in ROLES:
        raise ValueError("unknown role")
    return role


# The rules of a console account's fields, for the console and the CLI alike (see login_methods.Rule).
Username = Annotated[
    str,
    Strict(),
    StringConstraints(pattern=USERNAME_PATTERN.pattern),
    Rule("A username must be 3 to 64 letters, digits or . _ @ -", field="username"),
]
Password = Annotated[
    str,
    Strict(),
    MinLen(MIN_PASSWORD_LENGTH),
    Rule(f"A password must have at least {MIN_PASSWORD_LENGTH} characters.", field="password"),
]
Role = Annotated[
    str, Strict(), AfterValidator(_known_role), Rule(f"The role is one of {', '.join(ROLES)}.", field="role")
]


class NewAccount(BaseModel):
    """A console account to create."""

    username: Username
    role: Role
    password: Password


class SignInRefused(Refused):
    """The sign-in failed; the message is the same whatever the reason."""

    def __init__(self, message: str = SIGN_IN_REFUSED) -> None:
        super().__init__(message)


@dataclass(frozen=True)
class SignInStep:
    """Where a sign-in stands once the password was right: a console session, or a second step still to take."""

    account: AdminAccount
    session_id: str | None = None
    # The second step's state, for the browser to keep (in the signed session cookie) until that step.
    pending: dict[str, Any] | None = None


@functools.cache
def _dummy_hash() -> str:
    return generate_password_hash("a password nobody has")


def pause(seconds: float) -> None:
    """Wait before checking a password (the account-wide slowdown); tests replace it."""
    time.sleep(seconds)


def sign_in(username: str, password: str, address: str | None) -> SignInStep:
    """Check the credentials; open a console session, or say which second step comes; raise SignInRefused."""
    address = (address or "unknown")[:ADDRESS_MAX]
    # A name outside the username rule belongs to no account and is not counted (the rule is public anyway).
    counted = USERNAME_PATTERN.match(username) is not None
    username = username.lower()  # usernames ignore case: one account, and one count of its failures, however typed
    if counted:
        delay = account_delay(username)
        if delay:
            end_read()  # hold no snapshot or connection while waiting
            pause(delay)
    account = _named(username) if counted else None
    if account is None:
        check_password_hash(_dummy_hash(), password)  # spend the same time as for a real account
        matches = False
    else:
        matches = account.check_password(password)  # checked even when locked: every refusal costs the same
    locked = counted and locked_for_address(username, address)
    if account is None or not matches or locked or not account.active:
        if counted and not locked:  # a lock runs its course: failures meanwhile neither count nor extend it
            with transaction():
                _count_failure(username, address, account is not None)
        raise SignInRefused()
    # With a second factor to come, nothing is forgiven yet: the failures from here keep counting the code guesses.
    if two_factor.is_enrolled(account):
        return SignInStep(account, pending=_pending(account, CODE_STEP))
    if current_app.config["REQUIRE_2FA"]:
        return SignInStep(account, pending=_pending(account, ENROL_STEP))
    with transaction():
        session_id = _open_session(account, address)
    return SignInStep(account, session_id=session_id)


def _open_session(account: AdminAccount, address: str, **details) -> str:
    """Sign the account in, in the caller's transaction: a new console session's id."""
    # The owner got in from here: their own mistakes from this address no longer count anywhere.
    db.session.execute(
        delete(SignInFailure).where(SignInFailure.username == account.username, SignInFailure.address == address)
    )
    account.last_sign_in_at = utcnow()
    session_id = new_secret_value()
    db.session.add(ConsoleSession(digest=digest(session_id), account=account, source_address=address))
    set_actor(Actor("console", account.username, address))
    record("console.sign_in", **details)
    return session_id


def _stamp(account: AdminAccount) -> str:
    """Changes with the password: a new password voids a second step begun with the old one."""
    return digest(account.password_hash)[:32]


def _pending(account: AdminAccount, step: str) -> dict[str, Any]:
    until = int(two_factor.clock() + PENDING_LIFETIME.total_seconds())
    return {"account": account.id, "step": step, "until": until, "stamp": _stamp(account)}


def pending_account(pending: Any, step: str) -> AdminAccount | None:
    """The account whose sign-in waits for `step`: None if there is none, it expired, or the account changed since
    the password (disabled, or a new password)."""
    if not isinstance(pending, dict) or pending.get("step") != step:
        return None
    account_id, until = pending.get("account"), pending.get("until")
    if not isinstance(account_id, int) or not isinstance(until, int) or until < two_factor.clock():
        return None
    account = db.session.get(AdminAccount, account_id)
    if account is None or not account.active or pending.get("stamp") != _stamp(account):
        return None
    return account


def sign_in_with_code(account: AdminAccount, code: str, address: str | None) -> str:
    """The second step: a code from the authenticator or a recovery code, once; the console session's id.

    A wrong code counts as a failed sign-in of the account from this address, like a wrong password: it slows the
    account and, ten times, locks the address out. Every refusal says CODE_REFUSED.
    """
    address = (address or "unknown")[:ADDRESS_MAX]
    username = account.username
    delay = account_delay(username)
    if delay:
        end_read()
        pause(delay)
    if locked_for_address(username, address):  # not even checked: a code guessed right during a lock is not spent
        raise SignInRefused(CODE_REFUSED)
    before = current_actor()
    with transaction():
        set_actor(Actor("console", username, address))  # a recovery code's use is the account's act
        accepted = two_factor.check_code(account, code)
        if accepted is not None:
            return _open_session(account, address, secondFactor=accepted)
    set_actor(before)
    with transaction():
        _count_failure(username, address, True)
    raise SignInRefused(CODE_REFUSED)


def sign_in_enrolling(account: AdminAccount, code: str, address: str | None) -> tuple[str, list[str]]:
    """The second step where REQUIRE_2FA asks for a second factor the account lacks: the first code from the app
    turns it on and signs in. (The console session's id, the recovery codes to show once.)"""
    address = (address or "unknown")[:ADDRESS_MAX]
    with transaction():
        set_actor(Actor("console", account.username, address))
        codes = two_factor.confirm(account, code)
        session_id = _open_session(account, address, secondFactor="enrolled")
    return session_id, codes


def account_delay(username: str) -> float:
    """Seconds every sign-in attempt on this username waits now: 0 until the failures from all addresses within
    ACCOUNT_WINDOW pass ACCOUNT_FREE_FAILURES, then ACCOUNT_DELAY_STEP more for each, up to ACCOUNT_DELAY_MAX."""
    # Counted only as far as the cap: under a flood every attempt reads a few dozen index entries, not the flood.
    enough = ACCOUNT_FREE_FAILURES + round(ACCOUNT_DELAY_MAX / ACCOUNT_DELAY_STEP) + 1
    recent = (
        select(SignInFailure.id)
        .where(SignInFailure.username == username.lower(), SignInFailure.failed_at > utcnow() - ACCOUNT_WINDOW)
        .limit(enough)
        .subquery()
    )
    return _delay(db.session.scalar(select(func.count()).select_from(recent)) or 0)


def _delay(recent_failures: int) -> float:
    return min(max(recent_failures - ACCOUNT_FREE_FAILURES, 0) * ACCOUNT_DELAY_STEP, ACCOUNT_DELAY_MAX)


def locked_for_address(username: str, address: str) -> bool:
    """Whether failures from this address lock this username for it right now."""
    return (
        db.session.scalar(
            select(SignInFailure.id)
            .where(
                SignInFailure.username == username.lower(),
                SignInFailure.address == address,
                SignInFailure.locked_until > utcnow(),
            )
            .limit(1)
        )
        is not None
    )


def _count_failure(username: str, address: str, known: bool) -> None:
    now = utcnow()
    failure = SignInFailure(username=username, address=address, failed_at=now)
    db.session.add(failure)
    db.session.flush()
    of_address = (SignInFailure.username == username, SignInFailure.address == address)
    # Count from the window's start, or from the last lock if later: the failures that caused a lock must not
    # lock again the moment it ends, whatever the lengths of the window and of the lock.
    last_lock = db.session.scalar(
        select(func.max(SignInFailure.failed_at)).where(*of_address, SignInFailure.locked_until.is_not(None))
    )
    since = max(now - ADDRESS_WINDOW, last_lock) if last_lock is not None else now - ADDRESS_WINDOW
    failures = db.session.scalar(select(func.count()).where(*of_address, SignInFailure.failed_at > since)) or 0
    if failures >= MAX_FAILED_SIGN_INS:
        failure.locked_until = now + LOCKOUT
        if known:  # the audit log is about accounts: a stranger's made-up names would only flood it
            record("console.lock", username=username, address=address, minutes=int(LOCKOUT.total_seconds() // 60))


def account_for_session(session_id: str | None) -> AdminAccount | None:
    """The active account of a live console session, or None (revoked, expired, unknown, or the account disabled)."""
    if not session_id:
        return None
    return db.session.scalar(
        select(AdminAccount)
        .join(ConsoleSession, ConsoleSession.account_id == AdminAccount.id)
        .where(
            ConsoleSession.digest == digest(session_id),
            ConsoleSession.revoked_at.is_(None),
            ConsoleSession.created_at > utcnow() - SESSION_LIFETIME,
            AdminAccount.active,
        )
    )


def sign_out(session_id: str | None) -> None:
    """Revoke the console session, so a copy of its cookie no longer works."""
    with transaction():
        revoked = rows_changed(
            update(ConsoleSession)
            .where(ConsoleSession.digest == digest(session_id or ""), ConsoleSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        if revoked:
            record("console.sign_out")


def set_language(account: AdminAccount, language: str | None) -> None:
    """The console language the account chose (None: its browser's), applied at its every sign-in."""
    with transaction():
        rows_changed(update(AdminAccount).where(AdminAccount.id == account.id).values(language=language))


def _revoke_sessions(account: AdminAccount) -> None:
    db.session.execute(
        update(ConsoleSession)
        .where(ConsoleSession.account_id == account.id, ConsoleSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def list_accounts() -> list[AdminAccount]:
    """Every console account, by username."""
    return list(db.session.scalars(select(AdminAccount).order_by(AdminAccount.username)))


def _named(username: str) -> AdminAccount | None:
    """The account called `username`, whatever the case of either (the index on lower(username) serves it)."""
    return db.session.scalar(select(AdminAccount).where(func.lower(AdminAccount.username) == username.lower()))


def check_username(username: str) -> None:
    """Refuse a username the rule does not allow, before anything else is asked for (the CLI's password prompt)."""
    checked(Username, username)


def create_account(username: str, role: str, password: str) -> AdminAccount:
    """Create a console account; refuse a taken username."""
    try:
        NewAccount(username=username, role=role, password=password)
    except ValidationError as error:
        raise refusal(error, NewAccount) from None
    taken = Refused(
        f"A console account called {username!r} already exists (usernames ignore case): choose another name.",
        field="username",
    )
    try:
        with transaction():
            holder = _named(username)
            if holder is not None:
                if holder.username != username:
                    taken.message = (
                        f"The console account {holder.username!r} already has this name (usernames ignore case): "
                        "choose another name."
                    )
                raise taken
            account = AdminAccount(username=username, role=role)
            account.set_password(password)
            db.session.add(account)
            record("admin.create", username=username, role=role)
    except IntegrityError:
        raise taken from None  # created by a parallel request between our check and our insert
    return account


def set_account_active(account: AdminAccount, active: bool, by: AdminAccount) -> None:
    """Enable or disable an account (disabling signs it out everywhere); nobody disables themselves."""
    if account.id == by.id and not active:
        raise Refused("You cannot disable your own account.")
    with transaction():
        account.active = active
        if not active:
            _revoke_sessions(account)
        record("admin.enable" if active else "admin.disable", username=account.username)


def reset_password(account: AdminAccount, password: str) -> None:
    """Give an account a new password, end its sessions and lift its locks and slowdown."""
    checked(Password, password)
    with transaction():
        account.set_password(password)
        _clear_failures(account.username)
        _revoke_sessions(account)
        record("admin.password_reset", username=account.username)


def unlock(account: AdminAccount) -> int:
    """Lift every lock on the account and its slowdown by forgetting its failed sign-ins; how many there were."""
    with transaction():
        cleared = _clear_failures(account.username)
        record("admin.unlock", username=account.username, failures=cleared)
    return cleared


def _clear_failures(username: str) -> int:
    return rows_changed(delete(SignInFailure).where(SignInFailure.username == username.lower()))


@dataclass(frozen=True)
class LockState:
    """What failed sign-ins do to an account right now: addresses locked out, recent failures, the delay."""

    locked_addresses: int = 0
    recent_failures: int = 0

    @property
    def delay(self) -> float:
        """Seconds every sign-in attempt on the account waits now."""
        return _delay(self.recent_failures)

    @property
    def any(self) -> bool:
        """Whether there is anything for an unlock to lift."""
        return bool(self.locked_addresses or self.recent_failures)


def lock_states(usernames: list[str]) -> dict[str, LockState]:
    """The lock state of each username that has failures that still matter (others: no entry)."""
    by_key = {username.lower(): username for username in usernames}  # failures are counted under the lower case
    now = utcnow()
    rows = db.session.execute(
        select(
            SignInFailure.username,
            func.count(func.distinct(case((SignInFailure.locked_until > now, SignInFailure.address)))),
            func.count(case((SignInFailure.failed_at > now - ACCOUNT_WINDOW, SignInFailure.id))),
        )
        .where(SignInFailure.username.in_(by_key))
        .group_by(SignInFailure.username)
    )
    return {by_key[key]: LockState(locked, recent) for key, locked, recent in rows if locked or recent}


def find_account(username: str) -> AdminAccount:
    """The console account called `username`; refuse an unknown one."""
    account = _named(username)
    if account is None:
        raise Refused(f"No console account is called {username!r}.", field="username")
    return account


def change_role(account: AdminAccount, role: str, by: AdminAccount) -> None:
    """Make an account admin or support; nobody demotes themselves."""
    checked(Role, role)
    if account.id == by.id and role != account.role:
        raise Refused("You cannot change your own role.")
    with transaction():
        previous, account.role = account.role, role
        record("admin.role", username=account.username, role=role, previousRole=previous)


def enrol_second_factor(account: AdminAccount, code: str, session_id: str | None) -> list[str]:
    """Turn on the second factor the account is setting up, once the app's first code matches; its other console
    sessions end (they began without it). The recovery codes, to show once."""
    with transaction():
        codes = two_factor.confirm(account, code)
        db.session.execute(
            update(ConsoleSession)
            .where(
                ConsoleSession.account_id == account.id,
                ConsoleSession.revoked_at.is_(None),
                ConsoleSession.digest != digest(session_id or ""),
            )
            .values(revoked_at=utcnow())
        )
    return codes


def disable_second_factor(account: AdminAccount, password: str, code: str, address: str | None) -> None:
    """Turn the account's own second factor off, given its password and a code again (a left-open browser is not
    enough). Wrong ones count as failed sign-ins; refused where REQUIRE_2FA holds."""
    if current_app.config["REQUIRE_2FA"]:
        raise Refused("This console requires two-factor sign-in: it cannot be turned off.")
    if not two_factor.is_enrolled(account):
        raise Refused("Two-factor sign-in is off for this account.")
    address = (address or "unknown")[:ADDRESS_MAX]
    locked = locked_for_address(account.username, address)
    matches = account.check_password(password)
    with transaction():
        if matches and not locked and two_factor.check_code(account, code) is not None:
            two_factor.remove(account)
            record("console.two_factor_disable", username=account.username)
            return
    if not locked:
        with transaction():
            _count_failure(account.username, address, True)
    raise Refused(REAUTH_REFUSED)


def reset_second_factor(account: AdminAccount, by: AdminAccount | None = None) -> None:
    """Remove an account's second factor for someone who lost it (an admin, or the CLI): its sessions end and its
    locks are lifted; it signs in with its password alone, or sets up a new one where REQUIRE_2FA holds."""
    if by is not None and by.id == account.id:
        raise Refused("Turn your own two-factor sign-in off on your account page.")
    with transaction():
        if not two_factor.remove(account):
            raise Refused(f"{account.username} has no second factor.")
        _revoke_sessions(account)
        _clear_failures(account.username)
        record("admin.two_factor_reset", username=account.username)
