"""A WeChat simulator: a blueprint that speaks WeChat's own HTTP contract, for demos and tests.

Mounted at /_wechat only with WECHAT_SIMULATOR=1 (and then WECHAT_API_BASE points at it), or served
alone by `create_simulator_app()`. It keeps its own registry of apps, so a wrong appSecret gets 40125
as from WeChat. Simulated users are plain names: each gets a stable openid per app, a unionid where
the app belongs to an Open Platform account, and a fresh session_key at every login.

Control endpoints (not WeChat's; ours, under /_wechat/sim/):
  PUT  /sim/apps/<appId>   {"appSecret", "openPlatform"?}  register or update a simulated app
  GET  /sim/apps                                          the registered appIds
  POST /sim/codes          {"appId", "user", "code"?, "errcode"?, "fault"?, "delay"?}
                           mint a wx.login() code for (app, user), random unless `code` is given;
                           `errcode` makes jscode2session answer that WeChat error, `fault` one of
                           FAULTS, `delay` sleeps that many seconds first.
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

CODE_TTL = 300
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
        return _stable_id("openid", app_id, user), _stable_id("unionid", platform, user) if platform else None

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
    body = request.get_json(silent=True) or {}
    app_id, user = body.get("appId"), body.get("user")
    errcode, fault, delay = body.get("errcode"), body.get("fault"), body.get("delay", 0)
    wanted = body.get("code")
    state = _state()
    if not isinstance(app_id, str) or app_id not in state.apps:
        return _bad_request("appId must name a registered simulated app (PUT /_wechat/sim/apps/<appId>)")
    if not isinstance(user, str) or not user.strip() or len(user) > 64:
        return _bad_request("user must be a name of 1 to 64 characters")
    if errcode is not None and not isinstance(errcode, int):
        return _bad_request("errcode must be an integer")
    if fault is not None and fault not in FAULTS:
        return _bad_request(f"fault must be one of {', '.join(FAULTS)}")
    if not isinstance(delay, (int, float)) or not 0 <= delay <= 30:
        return _bad_request("delay must be a number of seconds from 0 to 30")
    if wanted is not None and (not isinstance(wanted, str) or not 1 <= len(wanted) <= 128):
        return _bad_request("code must be a text of 1 to 128 characters")
    code = state.mint_code(app_id, user, errcode, fault, float(delay), wanted)
    openid, unionid = state.identity(app_id, user)
    return jsonify({"code": code, "openid": openid, "unionid": unionid, "expiresIn": CODE_TTL})


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
