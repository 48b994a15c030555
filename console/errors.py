"""The service's refusals: Refused for the console's rules, LoginError (a Refused) with the contract's codes."""

from __future__ import annotations

# code -> (HTTP status, the default sentence a developer can act on)
ERRORS: dict[str, tuple[int, str]] = {
    "invalid_request": (400, "The request is malformed."),
    "login_method_not_found": (404, "No login method has that name."),
    "login_method_disabled": (403, "This login method is switched off; ask an admin to enable it."),
    "registration_closed": (403, "This WeChat user has no account and this login method does not allow registration."),
    "invalid_code": (400, "WeChat rejected the code: it is wrong, expired or for another app; call wx.login() again."),
    "code_used": (400, "This wx.login() code was already used; call wx.login() again."),
    "user_blocked": (403, "WeChat's risk control blocked this user from logging in."),
    "wechat_rate_limited": (429, "WeChat rate-limited this app; try again in a minute."),
    "wechat_misconfigured": (502, "WeChat rejected this login method's appId or appSecret; an admin must correct them."),
    "wechat_unavailable": (503, "WeChat could not be reached or gave an unreadable answer; try again shortly."),
    "invalid_bind_code": (400, "The bindCode is unknown, expired, already used or for another login method; log in again."),
    "already_registered": (409, "This WeChat user was registered meanwhile; log in again to get a loginCode."),
    "invalid_login_code": (400, "The loginCode is unknown, expired or already used; log in again."),
    "invalid_ticket": (400, "The bind ticket is unknown, expired, already used or for another login method."),
    "not_a_member": (403, "The user is not a member of that corp."),
    "unauthorized": (401, "A valid bearer access token is required."),
    "account_disabled": (403, "This account is disabled."),
    "user_not_found": (404, "No user has that id."),
    "wechat_already_bound": (409, "This WeChat user is already bound to another account on this login method."),
    "user_already_bound": (409, "This account already has a WeChat binding on this login method; unbind it first."),
    "not_bound": (404, "This account has no WeChat binding on this login method."),
    "last_login_method": (409, "This is the account's only way to sign in; bind another login method first."),
    "session_key_stale": (409, "The stored session key does not open the data; call wx.login() and log in again."),
    "watermark_mismatch": (422, "The decrypted data belongs to another appId."),
    "invalid_signature": (400, "The signature is not sha1(rawData + session_key); the data may have been altered."),
    "rate_limited": (429, "Too many requests; try again after the number of seconds in Retry-After."),
    "not_found": (404, "There is no such endpoint."),
    "method_not_allowed": (405, "This endpoint does not accept that HTTP method."),
    "internal_error": (500, "Something went wrong on our side; it has been logged."),
}


class Refused(Exception):
    """A console action that a business rule refuses; the message is for the person, `field` names the input at fault."""

    def __init__(self, message: str, field: str | None = None):
        self.message = message
        self.field = field
        super().__init__(message)


class LoginError(Refused):
    """A failure the caller can act on; `code` is one of the contract's error codes."""

    def __init__(self, code: str, message: str | None = None, *, wechat_errcode: int | None = None):
        status, default_message = ERRORS[code]
        super().__init__(message or default_message)
        self.code = code
        self.status = status
        self.wechat_errcode = wechat_errcode
        self.args = (f"{code}: {self.message}",)

    def to_dict(self) -> dict:
        """The body of the JSON error answer."""
        error = {"code": self.code, "message": self.message}
        if self.wechat_errcode is not None:
            error["wechatErrcode"] = self.wechat_errcode
        return {"error": error}
