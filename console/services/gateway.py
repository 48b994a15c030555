"""The one way to WeChat: every call of a service to WeChat's server API goes through here.

It marks each WeChat one-time code as presented before WeChat sees it (a code goes to WeChat once,
ever), opens the stored appSecret, gives the database connection back before the slow call, keeps
WeChat's access tokens (cached per appId, shared by every process, fetched by one caller at a time,
dropped and fetched again once when WeChat refuses one), tells the call's login event the openId WeChat
answered, and maps every error of `console.wechat` to the contract's codes, in one table.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import current_app

from console.cache import shared_cache, shared_lock
from console.database import end_read
from console.errors import ERRORS, LoginError
from console.models import LoginMethod
from console.security.codes import digest
from console.security.keyring import KeyRingError, keyring
from console.services import login_events
from console.wechat.client import (
    CredentialsVerdict,
    WeChatClient,
    WeChatError,
    WeChatRefused,
    WeChatSession,
    WeChatUnavailable,
)
from console.wechat.crypto import MalformedUserData, UndecryptableUserData

Answer = TypeVar("Answer")

WECHAT_CODE_LIFETIME = 300  # seconds a wx.login() code lives at WeChat
TOKEN_REFRESH_MARGIN = 300  # seconds before expiry when a cached access token stops being handed out
INVALID_ACCESS_TOKEN = 40001

# WeChat's errcode -> the contract's code. Any errcode not listed is wechat_unavailable.
ERRCODE_TO_CODE: dict[int, str] = {
    40029: "invalid_code",
    40163: "code_used",
    40226: "user_blocked",
    45011: "wechat_rate_limited",
    -1: "wechat_unavailable",
    # the app's credentials (or its setup) are wrong, not the user's code
    **dict.fromkeys((40001, 40002, 40013, 40125, 40164, 41002, 41004, 42001, 48001, 61024), "wechat_misconfigured"),
}
# The contract's codes for WeChat's refusals, in the order a dashboard lists them.
WECHAT_ERROR_CODES = (
    "invalid_code",
    "code_used",
    "user_blocked",
    "wechat_rate_limited",
    "wechat_misconfigured",
    "wechat_unavailable",
)


def as_refusal(error: WeChatError | MalformedUserData | UndecryptableUserData) -> LoginError:
    """The contract's refusal for an error of `console.wechat`."""
    if isinstance(error, WeChatRefused):
        code = ERRCODE_TO_CODE.get(error.errcode, "wechat_unavailable")
        message = None
        if code in ("wechat_misconfigured", "wechat_unavailable"):
            message = f"{ERRORS[code][1]} {error}."
        return LoginError(code, message, wechat_errcode=error.errcode)
    if isinstance(error, MalformedUserData):
        return LoginError("invalid_request", str(error))
    if isinstance(error, UndecryptableUserData):
        return LoginError("session_key_stale")
    return LoginError("wechat_unavailable", f"{error}; try again shortly.")


def wechat_client() -> WeChatClient:
    """The current app's WeChat client."""
    return current_app.extensions["wechat_client"]


def app_secret(method: LoginMethod) -> str:
    """The method's appSecret in clear (never log it)."""
    return keyring().decrypt(method.app_secret_ciphertext)


def mark_presented(method: LoginMethod, kind: str, code: str) -> None:
    """A WeChat one-time code goes to WeChat once, ever: presented before, it is code_used."""
    key = f"wx{kind}:{digest(method.app_id + ':' + code)}"
    if not shared_cache().add(key, 1, timeout=WECHAT_CODE_LIFETIME):
        raise LoginError("code_used")


def exchange_code(method: LoginMethod, code: str) -> WeChatSession:
    """Exchange a wx.login() code with WeChat (jscode2session) for the user's WeChat session; never retried."""
    mark_presented(method, "code", code)
    app_id, secret = method.app_id, app_secret(method)
    end_read()
    try:
        session = wechat_client().code_to_session(app_id, secret, code)
    except WeChatError as error:
        raise as_refusal(error) from None
    login_events.note(openid=session.openid)  # from here on, the call's login event knows who called
    return session


def call_with_access_token(method: LoginMethod, call: Callable[[str], Answer]) -> Answer:
    """Run call(access_token) against WeChat; a token WeChat refuses (40001) is dropped and replaced once."""
    app_id, secret = method.app_id, app_secret(method)
    end_read()
    try:
        token = _access_token(app_id, secret)
        try:
            return call(token)
        except WeChatRefused as error:
            if error.errcode != INVALID_ACCESS_TOKEN:
                raise
        return call(_access_token(app_id, secret, refused=token))
    except WeChatError as error:
        raise as_refusal(error) from None


def check_credentials(app_id: str, secret: str) -> CredentialsVerdict:
    """Ask WeChat whether an appId and appSecret are right (a console check, not a counted refusal)."""
    end_read()
    return wechat_client().check_credentials(app_id, secret)


# -- WeChat's access tokens (cgi-bin/stable_token), sealed with the key ring in the shared cache ----------


def _token_key(app_id: str) -> str:
    return f"wxtoken:{app_id}"


def _cached_token(app_id: str) -> str | None:
    sealed = shared_cache().get(_token_key(app_id))
    if not sealed:
        return None
    try:
        return keyring().decrypt(sealed)
    except KeyRingError:  # sealed under a key since removed: fetch a fresh one
        return None


def _access_token(app_id: str, secret: str, refused: str | None = None) -> str:
    """A live access token for the app; `refused` is one WeChat just rejected (40001), never handed out again."""
    token = _cached_token(app_id)
    if token and token != refused:
        return token
    try:
        with shared_lock(_token_key(app_id), timeout=current_app.config["WECHAT_TIMEOUT"] * 2 + 1):
            token = _cached_token(app_id)
            if token and token != refused:
                return token  # another caller fetched it while we waited
            token, expires_in = wechat_client().stable_token(app_id, secret)
            if expires_in > TOKEN_REFRESH_MARGIN:
                sealed = keyring().encrypt(token)
                shared_cache().set(_token_key(app_id), sealed, timeout=expires_in - TOKEN_REFRESH_MARGIN)
            else:
                shared_cache().delete(_token_key(app_id))
            return token
    except TimeoutError:
        raise WeChatUnavailable("WeChat's access token is being fetched by another request") from None
