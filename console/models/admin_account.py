"""Console accounts for admins and support staff, their server-side sign-in sessions and failed sign-ins."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String, func, text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from console.extensions import Model
from console.models.types import UTCDateTime, utcnow

ROLE_ADMIN = "admin"
ROLE_SUPPORT = "support"
ROLES = (ROLE_ADMIN, ROLE_SUPPORT)


class AdminAccount(UserMixin, Model):
    """A person who signs in to the console; the password is stored as a Werkzeug scrypt hash.

    Usernames ignore case: `ADMIN` is `admin`. The database holds that rule in a unique index on lower(username)
    (migration 0009), which also serves every lookup by name.
    """

    __tablename__ = "admin_accounts"
    __table_args__ = (Index("ux_admin_accounts_username_lower", func.lower(text("username")), unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16), default=ROLE_SUPPORT)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    language: Mapped[str | None] = mapped_column(String(8))  # zh_CN or en; None: the browser's

    def set_password(self, password: str) -> None:
        """Store a new password as a salted hash."""
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        """Whether the password matches the stored hash."""
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:
        """Flask-Login: a disabled account is signed out at its next request."""
        return self.active

    @property
    def is_admin(self) -> bool:
        """Whether the account may configure login methods and console accounts."""
        return self.role == ROLE_ADMIN


class ConsoleSession(Model):
    """One sign-in: the browser holds a random id, the server its digest, so sign-out can revoke it."""

    __tablename__ = "console_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("admin_accounts.id", ondelete="CASCADE"), index=True)
    source_address: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    account = relationship("AdminAccount")


class SignInFailure(Model):
    """One refused sign-in: the username typed (an account's or not), the client's address and when.

    Keyed by the username as typed rather than by an account, so that a name nobody has is counted, locked and
    slowed exactly like a real one and a stranger learns nothing from the difference. The failure that locks
    its address carries the lock's end.
    """

    __tablename__ = "sign_in_failures"
    __table_args__ = (Index("ix_sign_in_failures_username_address", "username", "address", "failed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
