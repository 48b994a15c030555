"""Login events: one row per call of the mini program's API that logs in, registers, binds, unbinds, exchanges a
code, reads the phone or decrypts, with its outcome. Never a secret, a code or a token."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from console.extensions import Model
from console.models.types import UTCDateTime, utcnow

OUTCOME_OK = "ok"

# A bigint: at a thousand calls a second an integer id runs out within a month, purge or not. SQLite's rowid is
# 64 bits already, and only an INTEGER primary key is that rowid.
EventId = BigInteger().with_variant(Integer(), "sqlite")


class LoginEvent(Model):
    """One API call's outcome: the contract's error code (or "ok"), WeChat's errcode, and who, where and when.

    The login method is kept by name (an instance name never changes) and the user by id, not as foreign keys:
    the events outlive a deleted login method or user, as the audit log does.
    """

    __tablename__ = "login_events"
    __table_args__ = (
        # Every index is one more write on the login hot path: each one serves a filter that a scan newest-first
        # would answer slowly. Failures are few, so their indexes are partial and a successful call never writes them.
        Index("ix_login_events_user_id", "user_id", "id"),
        Index("ix_login_events_openid", "openid", "id"),
        Index("ix_login_events_login_method", "login_method", "id"),
        Index(
            "ix_login_events_failures",
            "outcome",
            "id",
            postgresql_where=text("outcome <> 'ok'"),
            sqlite_where=text("outcome <> 'ok'"),
        ),
        Index(
            "ix_login_events_wechat_errcode",
            "wechat_errcode",
            "id",
            postgresql_where=text("wechat_errcode IS NOT NULL"),
            sqlite_where=text("wechat_errcode IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(EventId, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)  # time filters, purge
    call: Mapped[str] = mapped_column(String(16))  # login, register, token, bind, unbind, phone, decrypt
    login_method: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(32))
    wechat_errcode: Mapped[int | None] = mapped_column(Integer)
    openid: Mapped[str | None] = mapped_column(String(128))
    user_id: Mapped[int | None] = mapped_column(Integer)
    address: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))

    @property
    def ok(self) -> bool:
        """Whether the call succeeded."""
        return self.outcome == OUTCOME_OK
