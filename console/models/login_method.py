"""A login method: one instance of a login Type, i.e. one mini program."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from console.extensions import Model
from console.models.types import UTCDateTime, utcnow

WECHAT_MINI_TYPE = "auths.loginTypes.WeChatMiniType"


class LoginMethod(Model):
    """The instance `auths.loginTypes.<name>`: appId, encrypted appSecret and the rules of sign-up."""

    __tablename__ = "login_methods"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(128))
    type_name: Mapped[str] = mapped_column(String(128), default=WECHAT_MINI_TYPE)
    app_id: Mapped[str] = mapped_column(String(64), unique=True)
    app_secret_ciphertext: Mapped[str] = mapped_column(Text)
    # The last four characters, so the console can say which secret is stored without decrypting it.
    app_secret_hint: Mapped[str] = mapped_column(String(4))
    allow_register: Mapped[bool] = mapped_column(default=False)
    enabled: Mapped[bool] = mapped_column(default=True)
    link_by_unionid: Mapped[bool] = mapped_column(default=True)
    default_corp_id: Mapped[int | None] = mapped_column(ForeignKey("corps.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    default_corp = relationship("Corp")

    @property
    def full_name(self) -> str:
        """The element name the seed's getElement takes."""
        return f"auths.loginTypes.{self.name}"

    def __repr__(self) -> str:
        return f"<LoginMethod {self.name} {self.app_id}>"
