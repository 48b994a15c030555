"""A console account's second factor: its authenticator's secret (TOTP, RFC 6238) and its recovery codes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from console.extensions import Model
from console.models.types import UTCDateTime, utcnow


class SecondFactor(Model):
    """An account's authenticator: the TOTP secret sealed with the key ring, pending until a first code confirms it.

    `last_step` is the time step of the last code accepted: a code of that step or an earlier one is never
    accepted again, so a code seen over a shoulder or in a proxy's log cannot be replayed within its window.
    """

    __tablename__ = "console_second_factors"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("admin_accounts.id", ondelete="CASCADE"), unique=True)
    secret_ciphertext: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_step: Mapped[int | None] = mapped_column()


class RecoveryCode(Model):
    """A one-time code that stands in for the authenticator once; stored only as its SHA-256 digest."""

    __tablename__ = "console_recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("admin_accounts.id", ondelete="CASCADE"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
