"""WeChat's own endpoints, as WeChat answers them: jscode2session, stable_token, getuserphonenumber, checksession."""

from __future__ import annotations

import json
import secrets
import time

from flask import Blueprint, Response, jsonify, request

from console.wechat.crypto import session_signature
from console.wechat.simulator.state import ERRMSG, simulator_state

bp = Blueprint("wechat_simulator", __name__)


def _wechat_answer(body: dict) -> Response:
    # WeChat answers jscode2session as text/plain; the client must cope.
    return Response(json.dumps(body), status=200, mimetype="text/plain")


def _wechat_error(errcode: int) -> Response:
    return _wechat_answer(
        {"errcode": errcode, "errmsg": f"{ERRMSG.get(errcode, 'error')}, rid: sim-{secrets.token_hex(4)}"}
    )


@bp.get("/sns/jscode2session")
def jscode2session():
    """WeChat's code2Session: check the app's credentials, consume the code, answer the session."""
    state = simulator_state()
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
    refused = state.check_app(app_id, secret)  # compares digests in constant time
    if refused is not None:
        return _wechat_error(refused)
    minted, errcode = state.take_code(app_id, js_code)
    if minted is None:
        return _wechat_error(errcode or 40029)
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
    state, body = simulator_state(), _json_body()
    app_id, secret = body.get("appid") or "", body.get("secret") or ""
    if not app_id:
        return _wechat_error(41002)
    if not secret:
        return _wechat_error(41004)
    if body.get("grant_type") != "client_credential":
        return _wechat_error(40002)
    refused = state.check_app(app_id, secret)  # compares digests in constant time
    if refused is not None:
        return _wechat_error(refused)
    token, expires_in = state.stable_token(app_id, bool(body.get("force_refresh")))
    return jsonify({"access_token": token, "expires_in": expires_in})


@bp.post("/wxa/business/getuserphonenumber")
def getuserphonenumber():
    """WeChat's getPhoneNumber: a button code (and optionally its openid) for the user's phone."""
    state, body = simulator_state(), _json_body()
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
    return jsonify(
        {
            "errcode": 0,
            "errmsg": "ok",
            "phone_info": {
                "phoneNumber": number,
                "purePhoneNumber": minted["phone"],
                "countryCode": int(country),  # a number, as in WeChat's own example answer
                "watermark": {"timestamp": int(time.time()), "appid": app_id},
            },
        }
    )


@bp.get("/wxa/checksession")
def checksession():
    """WeChat's checkSessionKey: is this the HMAC of the user's current session_key?"""
    state = simulator_state()
    app_id = state.app_of_token(request.args.get("access_token", ""))
    if app_id is None:
        return _wechat_error(40001)
    if request.args.get("sig_method") != "hmac_sha256":
        return _wechat_error(87009)
    user = state.user_of_openid(app_id, request.args.get("openid", ""))
    key = state.session_key(app_id, user) if user else None
    if key is None or not secrets.compare_digest(session_signature(key), request.args.get("signature", "")):
        return _wechat_error(87009)
    return jsonify({"errcode": 0, "errmsg": "ok"})
