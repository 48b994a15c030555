"""A WeChat simulator: a blueprint that speaks WeChat's own HTTP contract, for demos and tests.

Mounted at /_wechat only with WECHAT_SIMULATOR=1 (and then WECHAT_API_BASE points at it), or served
alone by `create_simulator_app()`. It keeps its own registry of apps, so a wrong appSecret gets 40125
as from WeChat. Simulated users are plain names: each gets a stable openid per app, a unionid where
the app belongs to an Open Platform account, and a fresh session_key at every login.

WeChat's endpoints: GET /sns/jscode2session, POST /cgi-bin/stable_token, POST
/wxa/business/getuserphonenumber and GET /wxa/checksession.

Control endpoints (not WeChat's; ours, under /_wechat/sim/):
  PUT  /sim/apps/<appId>   {"appSecret", "openPlatform"?}  register or update a simulated app
  GET  /sim/apps                                          the registered appIds
  POST /sim/codes          {"appId", "user", "code"?, "errcode"?, "fault"?, "delay"?}
                           mint a wx.login() code for (app, user), random unless `code` is given;
                           `errcode` makes jscode2session answer that WeChat error, `fault` one of
                           FAULTS, `delay` sleeps that many seconds first.
  POST /sim/phone-codes    {"appId", "user", "phoneNumber"?, "countryCode"?, "errcode"?}
                           mint a getPhoneNumber button code
  POST /sim/encrypted-data {"appId", "user", "data"}  seal data (plus a watermark) under the user's
                           current session_key, as wx.getUserInfo and friends hand it to the client:
                           {"encryptedData", "iv", "rawData", "signature"}
  POST /sim/apps/<appId>/reset-token   invalidate the app's access token (as a force refresh elsewhere)
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, jsonify, request

from console.wechat.crypto import encrypt_user_data, raw_data_signature, session_signature

CODE_TTL = 300
TOKEN_TTL = 7200
FAULTS = ("http_500", "not_json", "no_openid")
ERRMSG = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40013: "invalid appid",
    40029: "invalid code",
    40125: "invalid appsecret",
    40163: "code been used",
    40226: "code blocked",
    41002: "appid missing",
    41004: "appsecret missing",
    41008: "missing code",
    45011: "api minute-quota reach limit mustslower retry next minute",
    87009: "invalid signature",
}

bp = Blueprint("wechat_simulator", __name__)


@dataclass
class MintedCode:
    """A wx.login() code the simulator handed out, and what exchanging it does."""

    app_id: str
    user: str
    expires_at: float
    errcode: int | None = None
    fault: str | None = None
    delay: float = 0.0
    used: bool = False


def _stable_id(*parts: str) -> str:
    """An openid-like identifier (28 characters) derived from its parts, so it never changes."""
    raw = hashlib.sha256(":".join(parts).encode()).digest()
    return "o" + base64.urlsafe_b64encode(raw).decode()[:27]


class SimulatorState:
    """The simulated WeChat's memory: its apps (saved to `state_path` when given), codes and session keys."""

    def __init__(self, state_path: str | None = None):
        self._lock = threading.Lock()
        self._path = Path(state_path) if state_path else None
        self.apps: dict[str, dict] = {}
        self.codes: dict[str, MintedCode] = {}
        self.session_keys: dict[tuple[str, str], str] = {}
        self.users_by_openid: dict[tuple[str, str], str] = {}
        self.access_tokens: dict[str, tuple[str, float]] = {}  # token -> (appId, expires at)
        self.current_tokens: dict[str, str] = {}  # appId -> its live token
        self.phone_codes: dict[str, dict] = {}
        if self._path and self._path.exists():
            self.apps = json.loads(self._path.read_text())

    def register_app(self, app_id: str, app_secret: str, open_platform: str | None = None) -> None:
        """Add or update an app; `open_platform` names the Open Platform account that gives unionids."""
        with self._lock:
            self.apps[app_id] = {"secret": app_secret, "openPlatform": open_platform}
            if self._path:
                self._path.parent.mkdir(parents=True, exist_ok=True)
                temporary = self._path.with_suffix(".tmp")
                fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w") as handle:
                    json.dump(self.apps, handle)
                temporary.replace(self._path)

    def identity(self, app_id: str, user: str) -> tuple[str, str | None]:
        """The (openid, unionid) of a simulated user in an app."""
        platform = self.apps[app_id]["openPlatform"]
        openid = _stable_id("openid", app_id, user)
        self.users_by_openid[(app_id, openid)] = user
        return openid, _stable_id("unionid", platform, user) if platform else None

    def mint_code(self, app_id: str, user: str, errcode=None, fault=None, delay=0.0, code=None) -> str:
        """A fresh wx.login() code for the user in the app (random unless `code` is given)."""
        code = code or secrets.token_hex(16)
        with self._lock:
            now = time.time()
            self.codes = {key: value for key, value in self.codes.items() if value.expires_at > now}
            self.codes[code] = MintedCode(app_id, user, now + CODE_TTL, errcode, fault, delay)
        return code

    def take_code(self, app_id: str, js_code: str) -> tuple[MintedCode | None, int | None]:
        """Consume a code for an app: (the code, None) or (None, WeChat's errcode)."""
        with self._lock:
            minted = self.codes.get(js_code)
            if minted is None or minted.app_id != app_id or minted.expires_at <= time.time():
                return None, 40029
            if minted.used:
                return None, 40163
            minted.used = True
            return minted, None

    def stable_token(self, app_id: str, force_refresh: bool = False) -> tuple[str, int]:
        """The app's live access token (a new one when there is none, it expired, or a refresh is forced)."""
        with self._lock:
            now = time.time()
            token = self.current_tokens.get(app_id)
            if force_refresh or token is None or self.access_tokens[token][1] <= now:
                token = secrets.token_urlsafe(48)
                self.access_tokens[token] = (app_id, now + TOKEN_TTL)
                self.current_tokens[app_id] = token
            return token, int(self.access_tokens[token][1] - now)

    def reset_token(self, app_id: str) -> None:
        """Invalidate the app's access token, as a force refresh by another system would."""
        with self._lock:
            token = self.current_tokens.pop(app_id, None)
            self.access_tokens.pop(token, None)

    def app_of_token(self, token: str) -> str | None:
        """The appId a live access token belongs to."""
        app_id, expires_at = self.access_tokens.get(token, (None, 0))
        return app_id if expires_at > time.time() else None

    def mint_phone_code(self, app_id: str, user: str, phone: str, country_code: str, errcode=None) -> str:
        """A getPhoneNumber button code for the user."""
        code = secrets.token_hex(32)
        with self._lock:
            self.phone_codes[code] = {"appId": app_id, "user": user, "phone": phone, "countryCode": country_code,
                                      "errcode": errcode, "expires": time.time() + CODE_TTL, "used": False}
        return code

    def take_phone_code(self, app_id: str, code: str) -> dict | None:
        """Consume a phone code of the app; None when unknown, expired, used or another app's."""
        with self._lock:
            minted = self.phone_codes.get(code)
            if minted is None or minted["appId"] != app_id or minted["used"] or minted["expires"] <= time.time():
                return None
            minted["used"] = True
            return minted

    def new_session_key(self, app_id: str, user: str) -> str:
        """Give the user a fresh session_key, as WeChat does at every login."""
        key = base64.b64encode(secrets.token_bytes(16)).decode()
        with self._lock:
            self.session_keys[(app_id, user)] = key
        return key


def _state() -> SimulatorState:
    return current_app.extensions["wechat_simulator"]


def _wechat_answer(body: dict) -> Response:
    # WeChat answers jscode2session as text/plain; the client must cope.
    return Response(json.dumps(body), status=200, mimetype="text/plain")


def _wechat_error(errcode: int) -> Response:
    return _wechat_answer({"errcode": errcode, "errmsg": f"{ERRMSG.get(errcode, 'error')}, rid: sim-{secrets.token_hex(4)}"})


@bp.get("/sns/jscode2session")
def jscode2session():
    """WeChat's code2Session: check the app's credentials, consume the code, answer the session."""
    state = _state()
    app_id, secret = request.args.get("appid", ""), request.args.get("secret", "")
    js_code = request.args.get("js_code", "")
    if not app_id:
        return _wechat_error(41002)
    if not secret:
        return _wechat_error(41004)
    if not js_code:
        return _wechat_error(41008)
    if request.args.get("grant_type") != "authorization_code":
        return _wechat_error(40002)
    app = state.apps.get(app_id)
    if app is None:
        return _wechat_error(40013)
    if not secrets.compare_digest(app["secret"], secret):
        return _wechat_error(40125)
    minted, errcode = state.take_code(app_id, js_code)
    if minted is None:
        return _wechat_error(errcode)
    if minted.delay:
        time.sleep(minted.delay)
    if minted.errcode is not None:
        return _wechat_error(minted.errcode)
    if minted.fault == "http_500":
        return Response("<html>502 Bad Gateway</html>", status=502, mimetype="text/html")
    if minted.fault == "not_json":
        return Response("<html>system busy</html>", status=200, mimetype="text/html")
    openid, unionid = state.identity(app_id, minted.user)
    answer = {"session_key": state.new_session_key(app_id, minted.user), "openid": openid}
    if minted.fault == "no_openid":
        del answer["openid"]
    if unionid:
        answer["unionid"] = unionid
    return _wechat_answer(answer)


def _json_body() -> dict:
    body = request.get_json(force=True, silent=True)
    return body if isinstance(body, dict) else {}


@bp.post("/cgi-bin/stable_token")
def stable_token():
    """WeChat's getStableAccessToken: the same token until it expires, unless force_refresh."""
    state, body = _state(), _json_body()
    app_id, secret = body.get("appid") or "", body.get("secret") or ""
    if not app_id:
        return _wechat_error(41002)
    if not secret:
        return _wechat_error(41004)
    if body.get("grant_type") != "client_credential":
        return _wechat_error(40002)
    app = state.apps.get(app_id)
    if app is None:
        return _wechat_error(40013)
    if not secrets.compare_digest(app["secret"], secret):
        return _wechat_error(40125)
    token, expires_in = state.stable_token(app_id, bool(body.get("force_refresh")))
    return jsonify({"access_token": token, "expires_in": expires_in})


@bp.post("/wxa/business/getuserphonenumber")
def getuserphonenumber():
    """WeChat's getPhoneNumber: a button code (and optionally its openid) for the user's phone."""
    state, body = _state(), _json_body()
    app_id = state.app_of_token(request.args.get("access_token", ""))
    if app_id is None:
        return _wechat_error(40001)
    minted = state.take_phone_code(app_id, str(body.get("code", "")))
    if minted is None:
        return _wechat_error(40029)
    if body.get("openid") and body["openid"] != state.identity(app_id, minted["user"])[0]:
        return _wechat_error(40029)
    if minted["errcode"] is not None:
        return _wechat_error(minted["errcode"])
    country = minted["countryCode"]
    number = minted["phone"] if country == "86" else f"+{country}{minted['phone']}"
    return jsonify({"errcode": 0, "errmsg": "ok", "phone_info": {
        "phoneNumber": number, "purePhoneNumber": minted["phone"],
        "countryCode": int(country),  # a number, as in WeChat's own example answer
        "watermark": {"timestamp": int(time.time()), "appid": app_id},
    }})


@bp.get("/wxa/checksession")
def checksession():
    """WeChat's checkSessionKey: is this the HMAC of the user's current session_key?"""
    state = _state()
    app_id = state.app_of_token(request.args.get("access_token", ""))
    if app_id is None:
        return _wechat_error(40001)
    if request.args.get("sig_method") != "hmac_sha256":
        return _wechat_error(87009)
    user = state.users_by_openid.get((app_id, request.args.get("openid", "")))
    key = state.session_keys.get((app_id, user)) if user else None
    if key is None or not secrets.compare_digest(session_signature(key), request.args.get("signature", "")):
        return _wechat_error(87009)
    return jsonify({"errcode": 0, "errmsg": "ok"})


def _bad_request(message: str):
    return jsonify({"error": {"code": "invalid_request", "message": message}}), 400


@bp.put("/sim/apps/<app_id>")
def register_app(app_id: str):
    """Register (or update) a simulated mini program with its appSecret."""
    body = request.get_json(silent=True) or {}
    secret, platform = body.get("appSecret"), body.get("openPlatform")
    if not isinstance(secret, str) or not secret:
        return _bad_request("appSecret is required")
    if platform is not None and not isinstance(platform, str):
        return _bad_request("openPlatform must be a string")
    _state().register_app(app_id, secret, platform or None)
    return jsonify({"appId": app_id, "openPlatform": platform or None})


@bp.get("/sim/apps")
def list_apps():
    """The simulated apps, without their secrets."""
    return jsonify({"apps": [{"appId": key, "openPlatform": value["openPlatform"]} for key, value in _state().apps.items()]})


@bp.post("/sim/codes")
def mint_code():
    """Mint a wx.login() code for a simulated user of a simulated app."""
    body, known = _control_request()
    if body is None:
        return known
    errcode, fault, delay, wanted = body.get("errcode"), body.get("fault"), body.get("delay", 0), body.get("code")
    if fault is not None and fault not in FAULTS:
        return _bad_request(f"fault must be one of {', '.join(FAULTS)}")
    if not isinstance(delay, (int, float)) or not 0 <= delay <= 30:
        return _bad_request("delay must be a number of seconds from 0 to 30")
    if wanted is not None and (not isinstance(wanted, str) or not 1 <= len(wanted) <= 128):
        return _bad_request("code must be a text of 1 to 128 characters")
    state = _state()
    code = state.mint_code(*known, errcode, fault, float(delay), wanted)
    openid, unionid = state.identity(*known)
    return jsonify({"code": code, "openid": openid, "unionid": unionid, "expiresIn": CODE_TTL})


@bp.post("/sim/apps/<app_id>/reset-token")
def reset_token(app_id: str):
    """Invalidate the app's access token, so the next call with it gets 40001."""
    _state().reset_token(app_id)
    return jsonify({"appId": app_id, "reset": True})


def _control_request():
    """(body, (appId, user)) of a request to mint something for a simulated user, or (None, an error answer).

    Checks what every such request carries: a registered appId, a user name and, when given, an integer errcode.
    """
    body, state = _json_body(), _state()
    app_id, user, errcode = body.get("appId"), body.get("user"), body.get("errcode")
    if not isinstance(app_id, str) or app_id not in state.apps:
        return None, _bad_request("appId must name a registered simulated app (PUT /_wechat/sim/apps/<appId>)")
    if not isinstance(user, str) or not user.strip() or len(user) > 64:
        return None, _bad_request("user must be a name of 1 to 64 characters")
    if errcode is not None and not isinstance(errcode, int):
        return None, _bad_request("errcode must be an integer")
    return body, (app_id, user)


@bp.post("/sim/phone-codes")
def mint_phone_code():
    """Mint a getPhoneNumber button code for a simulated user."""
    body, known = _control_request()
    if body is None:
        return known
    phone, country, errcode = body.get("phoneNumber", "13800138000"), body.get("countryCode", "86"), body.get("errcode")
    if not isinstance(phone, str) or not phone.isdigit() or not isinstance(country, str) or not country.isdigit():
        return _bad_request("phoneNumber and countryCode must be digits")
    return jsonify({"code": _state().mint_phone_code(*known, phone, country, errcode), "expiresIn": CODE_TTL})


@bp.post("/sim/encrypted-data")
def encrypted_data():
    """Seal data for a simulated user under their current session_key, with rawData and its signature."""
    body, known = _control_request()
    if body is None:
        return known
    data = body.get("data", {})
    if not isinstance(data, dict):
        return _bad_request("data must be a JSON object")
    key = _state().session_keys.get(known)
    if key is None:
        return _bad_request("this user has no session_key yet: log in first")
    app_id = known[0]
    raw_data = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    sealed, iv = encrypt_user_data(key, {**data, "watermark": body.get("watermark") or {"timestamp": int(time.time()), "appid": app_id}})
    return jsonify({"encryptedData": sealed, "iv": iv, "rawData": raw_data, "signature": raw_data_signature(raw_data, key)})


def init_simulator(app: Flask, url_prefix: str = "/_wechat", state: SimulatorState | None = None) -> None:
    """Mount the simulator on an app, with its apps saved where WECHAT_SIMULATOR_STATE says."""
    app.extensions["wechat_simulator"] = state or SimulatorState(app.config.get("WECHAT_SIMULATOR_STATE"))
    app.register_blueprint(bp, url_prefix=url_prefix)


def create_simulator_app(state_path: str | None = None, state: SimulatorState | None = None) -> Flask:
    """A stand-alone WeChat simulator, as WeChat itself would be: its own process or port."""
    from console.logs import install_redaction

    install_redaction()
    app = Flask(__name__)
    app.config["WECHAT_SIMULATOR_STATE"] = state_path
    init_simulator(app, url_prefix="", state=state)
    return app
