"""The official Type auths.loginTypes.WeChatMiniType: the seed's camelCase API over the services.

Each method validates its arguments with the same models as the JSON API, calls one service and
answers plain dicts, as the seed document shows. The JSON API calls through this class too, so a
project's subclass (registered with `register_type` and named in e.json) serves the API as well.
"""

from __future__ import annotations

from typing import Any

from console.models import WECHAT_MINI_TYPE, LoginMethod
from console.seed.registry import RowData, register_type
from console.services import bindings, gateway, login, user_data
from console.services.inputs import (
    BindInput,
    DecryptInput,
    LoginInput,
    PhoneInput,
    RegisterInput,
    UserIdInput,
    validated,
)


def _user_id(value: Any) -> int:
    return validated(UserIdInput, {"userId": value}).userId


@register_type(WECHAT_MINI_TYPE)
class WeChatMiniType:
    """A WeChat Mini Program login method (one instance per mini program), with the seed's API."""

    typeName = WECHAT_MINI_TYPE

    def __init__(self, method: LoginMethod):
        self.method = method

    @property
    def name(self) -> str:
        """The instance name, e.g. myWeChatMiniLogin."""
        return self.method.name

    @property
    def title(self) -> str:
        """The display name of the login method."""
        return self.method.title

    @property
    def allowRegister(self) -> int:
        """1 when unknown WeChat users may register, else 0."""
        return 1 if self.method.allow_register else 0

    @property
    def authConfig(self) -> dict:
        """{"appId", "appSecret"}: the mini program's credentials (the secret decrypted: never log it)."""
        return {"appId": self.method.app_id, "appSecret": gateway.app_secret(self.method)}

    def getLoginCode(self, code: str) -> dict:
        """Log a WeChat user in: {"loginCode", "expiresIn", "corpList"} if known, else {"bindCode", "expiresIn"}."""
        args = validated(LoginInput, {"code": code})
        return login.log_in(self.method, args.code).model_dump()

    def register(self, bindCode: str, name: str | None = None, avatarUrl: str | None = None) -> RowData:
        """Create the user a bindCode stands for; return the new user as RowData (userId, name, ...)."""
        return RowData(self.registerAndLogin(bindCode, name, avatarUrl)["user"])

    def registerAndLogin(self, bindCode: str, name: str | None = None, avatarUrl: str | None = None) -> dict:
        """Register with a bindCode and log the new user in: {"user", "loginCode", "expiresIn", "corpList"}."""
        args = validated(RegisterInput, {"bindCode": bindCode, "name": name, "avatarUrl": avatarUrl})
        return login.register(self.method, args.bindCode, args.name, args.avatarUrl).model_dump()

    def bind(self, userId: int, code: str) -> dict:
        """Bind an existing account to the WeChat user of a wx.login() code."""
        user_id, args = _user_id(userId), validated(LoginInput, {"code": code})
        return bindings.bind(self.method, user_id, args.code).model_dump()

    def bindWithTicket(self, ticket: str, code: str) -> dict:
        """Bind the account a console-issued ticket names to the WeChat user of a wx.login() code."""
        args = validated(BindInput, {"ticket": ticket, "code": code})
        return bindings.bind_with_ticket(self.method, args.ticket or "", args.code).model_dump()

    def unbind(self, userId: int) -> dict:
        """Remove an account's binding to this mini program, unless it is the account's only way in."""
        return bindings.unbind(self.method, _user_id(userId)).model_dump()

    def decryptData(
        self, userId: int, encryptedData: str, iv: str, rawData: str | None = None, signature: str | None = None
    ) -> dict:
        """Open the user's encryptedData with their stored session key: {"data": {...}}, watermark checked."""
        user_id = _user_id(userId)
        fields = {"encryptedData": encryptedData, "iv": iv, "rawData": rawData, "signature": signature}
        args = validated(DecryptInput, fields)
        answer = user_data.decrypt(self.method, user_id, args.encryptedData, args.iv, args.rawData, args.signature)
        return answer.model_dump()

    def getPhoneNumber(self, userId: int, code: str) -> dict:
        """Exchange a getPhoneNumber button code for the user's phone and save it on the user."""
        user_id, args = _user_id(userId), validated(PhoneInput, {"code": code})
        return user_data.phone_number(self.method, user_id, args.code).model_dump()
