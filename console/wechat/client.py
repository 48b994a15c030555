"""The WeChat server API over HTTP. Failures raise this module's own errors: WeChatRefused carries
WeChat's errcode, WeChatUnavailable says WeChat could not be reached or read (services map both to
the contract's codes).

The appSecret travels in jscode2session's query string (WeChat's design), so no URL of this module
is ever logged or put into an exception, and no requests exception is chained into ours.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import requests

log = logging.getLogger(__name__)

INVALID_SIGNATURE = 87009
INVALID_CODE = 40029


class WeChatError(Exception):
    """WeChat's server API failed; the message never holds a URL, a secret or a code."""


class WeChatRefused(WeChatError):
    """WeChat answered an errcode."""

    def __init__(self, errcode: int, errmsg: str):
        super().__init__(f"WeChat answered errcode {errcode} ({errmsg[:80]})")
        self.errcode = errcode
        self.errmsg = errmsg[:80]


class WeChatUnavailable(WeChatError):
    """WeChat could not be reached in time, answered an HTTP error, or answered something unreadable."""


# What jscode2session answers a code that cannot exist: 40029 once the appId and appSecret passed.
PROBE_CODE = "console-credentials-check"
WRONG_CREDENTIALS_ERRCODES = {40013, 40125, 41002, 41004}


@dataclass(frozen=True)
class CredentialsVerdict:
    """WeChat's judgement of an appId and appSecret: right True/False, or None when WeChat could not tell."""

    right: bool | None
    errcode: int | None
    problem: str | None = None


@dataclass(frozen=True, repr=False)
class WeChatSession:
    """What jscode2session answers for one wx.login() code."""

    openid: str
    session_key: str
    unionid: str | None

    def __repr__(self) -> str:  # the session_key must not reach a log line through a repr
        return f"WeChatSession(openid={self.openid!r}, unionid={self.unionid!r})"


class WeChatClient:
    """Calls WeChat's server API at `base_url`, each call bounded by `timeout` seconds, never retried."""

    def __init__(self, base_url: str, timeout: float, http: requests.Session | None = None):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.http = http or requests.Session()

    def code_to_session(self, app_id: str, app_secret: str, js_code: str) -> WeChatSession:
        """Exchange a wx.login() code for openid, session_key and unionid (jscode2session)."""
        params = {"appid": app_id, "secret": app_secret, "js_code": js_code, "grant_type": "authorization_code"}
        answer = self._call("GET", "/sns/jscode2session", params=params)
        openid, session_key = answer.get("openid"), answer.get("session_key")
        if not isinstance(openid, str) or not openid or not isinstance(session_key, str) or not session_key:
            raise WeChatUnavailable("WeChat's answer to jscode2session had no openid or session_key")
        unionid = answer.get("unionid")
        return WeChatSession(
            openid=openid, session_key=session_key, unionid=unionid if isinstance(unionid, str) and unionid else None
        )

    def check_credentials(self, app_id: str, app_secret: str) -> CredentialsVerdict:
        """Ask jscode2session whether an appId and appSecret are right, spending a code that cannot exist."""
        params = {"appid": app_id, "secret": app_secret, "js_code": PROBE_CODE, "grant_type": "authorization_code"}
        try:
            self._call("GET", "/sns/jscode2session", params=params)
        except WeChatRefused as error:
            if error.errcode == INVALID_CODE:
                return CredentialsVerdict(True, error.errcode)  # the code was judged, so the credentials passed
            if error.errcode in WRONG_CREDENTIALS_ERRCODES:
                return CredentialsVerdict(False, error.errcode)
            return CredentialsVerdict(None, error.errcode, str(error))
        except WeChatUnavailable as error:
            return CredentialsVerdict(None, None, str(error))
        return CredentialsVerdict(True, None)

    def stable_token(self, app_id: str, app_secret: str) -> tuple[str, int]:
        """A stable access token and its lifetime in seconds (cgi-bin/stable_token, normal mode)."""
        body = {"grant_type": "client_credential", "appid": app_id, "secret": app_secret, "force_refresh": False}
        answer = self._call("POST", "/cgi-bin/stable_token", body=body)
        token, expires_in = answer.get("access_token"), answer.get("expires_in")
        if not isinstance(token, str) or not token or not isinstance(expires_in, int):
            raise WeChatUnavailable("WeChat's answer to stable_token had no access_token")
        return token, expires_in

    def phone_number(self, access_token: str, code: str, openid: str | None = None) -> dict:
        """Exchange a getPhoneNumber button code for {phoneNumber, purePhoneNumber, countryCode, watermark}."""
        body = {"code": code, **({"openid": openid} if openid else {})}
        answer = self._call(
            "POST", "/wxa/business/getuserphonenumber", params={"access_token": access_token}, body=body
        )
        info = answer.get("phone_info")
        if not isinstance(info, dict) or not isinstance(info.get("phoneNumber"), str):
            raise WeChatUnavailable("WeChat's answer to getuserphonenumber had no phone_info")
        return info

    def check_session(self, access_token: str, openid: str, signature: str) -> bool:
        """Whether WeChat still holds the session_key that made `signature` (wxa/checksession)."""
        params = {"access_token": access_token, "openid": openid, "signature": signature, "sig_method": "hmac_sha256"}
        try:
            self._call("GET", "/wxa/checksession", params=params)
        except WeChatRefused as error:
            if error.errcode == INVALID_SIGNATURE:
                return False
            raise
        return True

    def _call(self, method: str, path: str, params: dict | None = None, body: dict | None = None) -> dict:
        """Call a WeChat endpoint and return its JSON object; raise WeChatRefused or WeChatUnavailable."""
        failure = None
        try:
            response = self.http.request(method, self.base_url + path, params=params, json=body, timeout=self.timeout)
        except requests.Timeout:
            failure = f"WeChat did not answer {path} within {self.timeout:g} s"
        except requests.RequestException as exc:
            failure = f"WeChat could not be reached for {path} ({type(exc).__name__})"
        if failure:
            # Raised outside the except block: requests' exception (which quotes the URL) is not chained.
            log.warning("wechat call failed: %s", failure)
            raise WeChatUnavailable(failure)
        if response.status_code != 200:
            log.warning("wechat call failed: %s answered HTTP %s", path, response.status_code)
            raise WeChatUnavailable(f"WeChat answered {path} with HTTP {response.status_code}")
        # WeChat sends JSON as text/plain at times: parse the body whatever the Content-Type says.
        try:
            answer = json.loads(response.text)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            log.warning("wechat call failed: %s answered something that is not a JSON object", path)
            raise WeChatUnavailable(f"WeChat's answer to {path} was not readable")
        errcode = answer.get("errcode", 0)
        if errcode not in (0, None):
            errmsg = str(answer.get("errmsg", ""))
            log.info("wechat %s answered errcode %s", path, errcode)
            if not isinstance(errcode, int):
                raise WeChatUnavailable(f"WeChat's answer to {path} had an unreadable errcode")
            raise WeChatRefused(errcode, errmsg)
        return answer


def init_wechat_client(app) -> None:
    """Attach a WeChat client built from WECHAT_API_BASE and WECHAT_TIMEOUT to the app."""
    app.extensions["wechat_client"] = WeChatClient(app.config["WECHAT_API_BASE"], app.config["WECHAT_TIMEOUT"])
