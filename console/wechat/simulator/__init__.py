"""A WeChat simulator: blueprints that speak WeChat's own HTTP contract, for demos and tests.

Mounted at /_wechat only with WECHAT_SIMULATOR=1, or served alone by `create_simulator_app()` (the tests'
WeChat). Outside CONSOLE_DEMO the console must be told where it is served (WECHAT_API_BASE) and the control
endpoints below are not mounted (404); in the demo the console calls it in-process (`in_process.py`). Its
state (`state.py`) is one SQLite file shared by every process that serves it. It keeps its own registry
of apps (digests of their appSecrets), so a wrong appSecret gets 40125 as from WeChat. Simulated users
are plain names: each gets a stable openid per app, a unionid where the app belongs to an Open Platform
account, and a fresh session_key at every login.

WeChat's endpoints: GET /sns/jscode2session, POST /cgi-bin/stable_token, POST
/wxa/business/getuserphonenumber and GET /wxa/checksession.

Control endpoints (not WeChat's; ours, under /_wechat/sim/; in the demo and the stand-alone app only):
  PUT  /sim/apps/<appId>   {"appSecret", "openPlatform"?}  register or update a simulated app
  GET  /sim/apps                                          the registered appIds
  POST /sim/codes          {"appId", "user", "code"?, "errcode"?, "fault"?, "delay"?}
                           mint a wx.login() code for (app, user), random unless `code` is given;
                           `errcode` makes jscode2session answer that WeChat error, `fault` one of
                           http_500, not_json, no_openid; `delay` sleeps that many seconds first.
  POST /sim/phone-codes    {"appId", "user", "phoneNumber"?, "countryCode"?, "errcode"?}
                           mint a getPhoneNumber button code
  POST /sim/encrypted-data {"appId", "user", "data"}  seal data (plus a watermark) under the user's
                           current session_key, as wx.getUserInfo and friends hand it to the client:
                           {"encryptedData", "iv", "rawData", "signature"}
  POST /sim/apps/<appId>/reset-token   invalidate the app's access token (as a force refresh elsewhere)
"""

from __future__ import annotations

from flask import Flask

from console.wechat.simulator import control_routes, wechat_routes
from console.wechat.simulator.state import SimulatorState

BLUEPRINTS = (wechat_routes.bp, control_routes.bp)


def init_simulator(
    app: Flask, url_prefix: str = "/_wechat", state: SimulatorState | None = None, control: bool = True
) -> None:
    """Mount the simulator on an app, its state where WECHAT_SIMULATOR_STATE says; the control API if `control`."""
    # Mounted on the console, session keys and tokens in the shared file are sealed with its key ring.
    sealer = app.extensions.get("keyring")
    app.extensions["wechat_simulator"] = state or SimulatorState(app.config.get("WECHAT_SIMULATOR_STATE"), sealer)
    app.register_blueprint(wechat_routes.bp, url_prefix=url_prefix)
    if control:  # anyone who can mint codes can log in as anyone: left unmounted, every /sim/ route is a 404
        app.register_blueprint(control_routes.bp, url_prefix=url_prefix + "/sim")


def create_simulator_app(state_path: str | None = None, state: SimulatorState | None = None) -> Flask:
    """A stand-alone WeChat simulator, as WeChat itself would be: its own process or port."""
    from console.logs import install_redaction

    install_redaction()
    app = Flask(__name__)
    app.config["WECHAT_SIMULATOR_STATE"] = state_path
    init_simulator(app, url_prefix="", state=state)
    return app
