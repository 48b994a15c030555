"""The answers of the services as models: the JSON API serves them, the seed's API dumps them to dicts,
and the OpenAPI document names them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, overload

from pydantic import BaseModel, ConfigDict, Field

from console.models import User


@overload
def iso(moment: datetime) -> str: ...
@overload
def iso(moment: None) -> None: ...
def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, or None."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UserOut(Answer):
    """{"userId", "name", "avatarUrl", "phone", "createdAt"}"""

    userId: int
    name: str
    avatarUrl: str | None
    phone: str | None
    createdAt: str = Field(description="ISO 8601, UTC")

    @classmethod
    def of(cls, user: User) -> UserOut:
        """The answer shape of a user."""
        return cls(
            userId=user.id, name=user.name, avatarUrl=user.avatar_url, phone=user.phone, createdAt=iso(user.created_at)
        )


class CorpOut(Answer):
    corpId: str
    name: str


class LoginCodeAnswer(Answer):
    """A registered WeChat user: exchange loginCode at /auth/token within expiresIn seconds."""

    loginCode: str
    expiresIn: int
    corpList: list[CorpOut]


class BindCodeAnswer(Answer):
    """A WeChat user new to this login method: register with bindCode within expiresIn seconds."""

    bindCode: str
    expiresIn: int


class RegisterAnswer(Answer):
    user: UserOut
    loginCode: str
    expiresIn: int
    corpList: list[CorpOut]


class TokenAnswer(Answer):
    accessToken: str
    tokenType: Literal["Bearer"]
    expiresIn: int
    corpId: str | None
    user: UserOut


class BindingOut(Answer):
    loginMethod: str
    appId: str
    openId: str
    unionId: str | None
    boundAt: str


class MeAnswer(Answer):
    user: UserOut
    corpId: str | None
    corpList: list[CorpOut]
    bindings: list[BindingOut]


class BindAnswer(Answer):
    bound: Literal[True]
    userId: int
    loginMethod: str
    openId: str


class UnbindAnswer(Answer):
    unbound: Literal[True]
    userId: int
    loginMethod: str


class DecryptAnswer(Answer):
    data: dict = Field(description="The decrypted JSON, its watermark.appid checked against the login method's appId.")


class PhoneAnswer(Answer):
    phoneNumber: str = Field(description="With the country code for numbers outside China.")
    purePhoneNumber: str
    countryCode: str


class LogoutAnswer(Answer):
    loggedOut: Literal[True]


class ErrorBody(Answer):
    code: str = Field(description="One of the error codes of the contract.")
    message: str = Field(description="A sentence a developer can act on.")
    wechatErrcode: int | None = Field(default=None, description="WeChat's errcode, when WeChat refused.")


class ErrorAnswer(Answer):
    error: ErrorBody
