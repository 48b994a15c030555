"""The link between a user and their WeChat identity in one mini program."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from console.extensions import Model
from console.models.types import UTCDateTime, utcnow


class WeChatBinding(Model):
    """A user's openid in one login method, with the latest session_key (encrypted)."""

    __tablename__ = "wechat_bindings"
    __table_args__ = (
        UniqueConstraint("login_method_id", "openid"),
        UniqueConstraint("user_id", "login_method_id"),
        # The console's user search: an openId or unionId equal to a term or starting with it. On PostgreSQL
        # varchar_pattern_ops serves LIKE 'term%' and = whatever the collation; on SQLite they are plain indexes.
        Index("ix_wechat_bindings_openid", "openid", postgresql_ops={"openid": "varchar_pattern_ops"}),
        Index("ix_wechat_bindings_unionid", "unionid", postgresql_ops={"unionid": "varchar_pattern_ops"}),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    login_method_id: Mapped[int] = mapped_column(ForeignKey("login_methods.id", ondelete="CASCADE"), index=True)
    openid: Mapped[str] = mapped_column(String(128))
    unionid: Mapped[str | None] = mapped_column(String(128))
    session_key_ciphertext: Mapped[str | None] = mapped_column(Text)
    session_key_set_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    bound_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user = relationship("User", back_populates="bindings")
    login_method = relationship("LoginMethod")
