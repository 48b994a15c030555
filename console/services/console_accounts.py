"""Console accounts: sign-in with lockout, server-side sessions that sign-out revokes, and their management."""

from __future__ import annotations

import functools
from datetime import timedelta
from typing import Annotated

from annotated_types import MinLen
from pydantic import AfterValidator, BaseModel, Strict, StringConstraints, ValidationError
from sqlalchemy import select, update
from werkzeug.security import check_password_hash, generate_password_hash

from console.database import rows_changed, transaction
from console.errors import Refused
from console.extensions import db
from console.models import ROLES, AdminAccount, ConsoleSession, utcnow
from console.security.codes import digest, new_secret_value
from console.services.audit import Actor, record, set_actor
from console.services.rules import Rule, checked, refusal

MAX_FAILED_SIGN_INS = 10
LOCKOUT = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=12)  # a console sign-in lasts a working day, whatever the cookie says
MIN_PASSWORD_LENGTH = 10
USERNAME_MAX = 64  # the console's forms refuse longer input with the same number
# One sentence for every refusal, so a stranger learns nothing about which accounts exist or are locked.
SIGN_IN_REFUSED = "Wrong username or password."


def _known_role(role: str) -> str:
    if role not in ROLES:
        raise ValueError("unknown role")
    return role


# The rules of a console account's fields, for the console and the CLI alike (see login_methods.Rule).
Username = Annotated[
    str,
    Strict(),
    StringConstraints(pattern=r"^[A-Za-z0-9_.@-]{3,64}$"),
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

    def __init__(self) -> None:
        super().__init__(SIGN_IN_REFUSED)


@functools.cache
def _dummy_hash() -> str:
    return generate_password_hash("a password nobody has")


def sign_in(username: str, password: str, address: str | None) -> tuple[AdminAccount, str]:
    """Check the credentials and open a console session: (account, session id); raise SignInRefused."""
    account = db.session.scalar(select(AdminAccount).where(AdminAccount.username == username))
    if account is None:
        check_password_hash(_dummy_hash(), password)  # spend the same time as for a real account
        raise SignInRefused()
    locked = account.is_locked
    if not account.check_password(password) or locked or not account.active:
        with transaction():
            _count_failure(account, locked)
        raise SignInRefused()
    with transaction():
        account.failed_sign_ins = 0
        account.locked_until = None
        account.last_sign_in_at = utcnow()
        session_id = new_secret_value()
        db.session.add(ConsoleSession(digest=digest(session_id), account=account, source_address=address))
        set_actor(Actor("console", account.username, address))
        record("console.sign_in")
    return account, session_id


def _count_failure(account: AdminAccount, locked: bool) -> None:
    if locked:
        return  # a lock runs its 15 minutes; failures meanwhile neither extend nor count
    account.failed_sign_ins += 1
    if account.failed_sign_ins >= MAX_FAILED_SIGN_INS:
        account.failed_sign_ins = 0
        account.locked_until = utcnow() + LOCKOUT
        record("console.lock", username=account.username, minutes=int(LOCKOUT.total_seconds() // 60))


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


def _revoke_sessions(account: AdminAccount) -> None:
    db.session.execute(
        update(ConsoleSession)
        .where(ConsoleSession.account_id == account.id, ConsoleSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def list_accounts() -> list[AdminAccount]:
    """Every console account, by username."""
    return list(db.session.scalars(select(AdminAccount).order_by(AdminAccount.username)))


def check_username(username: str) -> None:
    """Refuse a username the rule does not allow, before anything else is asked for (the CLI's password prompt)."""
    checked(Username, username)


def create_account(username: str, role: str, password: str) -> AdminAccount:
    """Create a console account; refuse a taken username."""
    try:
        NewAccount(username=username, role=role, password=password)
    except ValidationError as error:
        raise refusal(error, NewAccount) from None
    with transaction():
        if db.session.scalar(select(AdminAccount.id).where(AdminAccount.username == username)) is not None:
            raise Refused(f"A console account called {username!r} already exists.", field="username")
        account = AdminAccount(username=username, role=role)
        account.set_password(password)
        db.session.add(account)
        record("admin.create", username=username, role=role)
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
    """Give an account a new password, end its sessions and lift a lock."""
    checked(Password, password)
    with transaction():
        account.set_password(password)
        account.failed_sign_ins = 0
        account.locked_until = None
        _revoke_sessions(account)
        record("admin.password_reset", username=account.username)


def change_role(account: AdminAccount, role: str, by: AdminAccount) -> None:
    """Make an account admin or support; nobody demotes themselves."""
    checked(Role, role)
    if account.id == by.id and role != account.role:
        raise Refused("You cannot change your own role.")
    with transaction():
        previous, account.role = account.role, role
        record("admin.role", username=account.username, role=role, previousRole=previous)
