"""One-time codes and access tokens: only their SHA-256 digests are stored."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from console.extensions import Model
from console.models.types import UTCDateTime, utcnow

BIND_CODE = "bind_code"
LOGIN_CODE = "login_code"
BIND_TICKET = "bind_ticket"


class OneTimeCode(Model):
    """A bindCode, loginCode or bind ticket: redeemable once, before it expires, as its own kind only."""

    __tablename__ = "one_time_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    login_method_id: Mapped[int] = mapped_column(ForeignKey("login_methods.id", ondelete="CASCADE"), index=True)
    # login codes and tickets name a user; login codes also the binding they came through
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    binding_id: Mapped[int | None] = mapped_column(ForeignKey("wechat_bindings.id", ondelete="CASCADE"), index=True)
    # bind codes carry the WeChat identity until the user registers
    openid: Mapped[str | None] = mapped_column(String(128))
    unionid: Mapped[str | None] = mapped_column(String(128))
    session_key_ciphertext: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    login_method = relationship("LoginMethod")


class AccessToken(Model):
    """An opaque bearer token for the JSON API, revocable at any time."""

    __tablename__ = "access_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    login_method_id: Mapped[int | None] = mapped_column(ForeignKey("login_methods.id", ondelete="SET NULL"))
    # the binding the token was issued through: unbinding it revokes the token
    binding_id: Mapped[int | None] = mapped_column(ForeignKey("wechat_bindings.id", ondelete="SET NULL"), index=True)
    corp_id: Mapped[int | None] = mapped_column(ForeignKey("corps.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user = relationship("User")
    corp = relationship("Corp")
    login_method = relationship("LoginMethod")
