"""The simulator's own control API (not WeChat's), under /sim/: register apps, mint codes, seal user data.

Bodies are validated by pydantic models; a bad one answers 400 `invalid_request` naming the field.
"""

from __future__ import annotations

import json
import time
from typing import Annotated, Literal, TypeVar

from flask import Blueprint, jsonify, request
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints, ValidationError

from console.wechat.crypto import encrypt_user_data, raw_data_signature
from console.wechat.simulator.state import CODE_TTL, simulator_state

bp = Blueprint("wechat_simulator_control", __name__)

Text = Annotated[str, StringConstraints(min_length=1, max_length=128)]
UserName = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"\S")]
Digits = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,20}$")]


class Body(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")


class AppBody(Body):
    """PUT /sim/apps/<appId>"""

    appSecret: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    openPlatform: Text | None = None


class UserBody(Body):
    """What every request that mints something for a simulated user carries."""

    appId: Text
    user: UserName
    errcode: StrictInt | None = None


class CodeBody(UserBody):
    """POST /sim/codes"""

    code: Text | None = None
    fault: Literal["http_500", "not_json", "no_openid"] | None = None
    delay: Annotated[float, Field(ge=0, le=30)] = Field(default=0.0, strict=False)


class PhoneCodeBody(UserBody):
    """POST /sim/phone-codes"""

    phoneNumber: Digits = "13800138000"
    countryCode: Digits = "86"


class SealBody(UserBody):
    """POST /sim/encrypted-data"""

    data: dict = Field(default_factory=dict)
    watermark: dict | None = None


BodyModel = TypeVar("BodyModel", bound=Body)


class BadBody(Exception):
    """A control request the simulator cannot take; the message says what is wrong."""


def _bad_request(message: str):
    return jsonify({"error": {"code": "invalid_request", "message": message}}), 400


@bp.errorhandler(BadBody)
def answer_bad_body(error: BadBody):
    """The simulator's own 400 answer, in the contract's error shape."""
    return _bad_request(str(error))


def _body(model: type[BodyModel]) -> BodyModel:
    """The JSON body validated against `model`; a registered appId where the model names one."""
    try:
        body = model.model_validate(request.get_json(force=True, silent=True) or {})
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        field = ".".join(str(part) for part in first["loc"]) or "body"
        raise BadBody(f"{field}: {first['msg']}") from None
    if isinstance(body, UserBody) and not simulator_state().has_app(body.appId):
        raise BadBody("appId must name a registered simulated app (PUT /_wechat/sim/apps/<appId>)")
    return body


@bp.put("/apps/<app_id>")
def register_app(app_id: str):
    """Register (or update) a simulated mini program with its appSecret."""
    body = _body(AppBody)
    simulator_state().register_app(app_id, body.appSecret, body.openPlatform)
    return jsonify({"appId": app_id, "openPlatform": body.openPlatform})


@bp.get("/apps")
def list_apps():
    """The simulated apps, without their secrets."""
    apps = simulator_state().apps
    return jsonify({"apps": [{"appId": key, "openPlatform": value["openPlatform"]} for key, value in apps.items()]})


@bp.post("/apps/<app_id>/reset-token")
def reset_token(app_id: str):
    """Invalidate the app's access token, so the next call with it gets 40001."""
    simulator_state().reset_token(app_id)
    return jsonify({"appId": app_id, "reset": True})


@bp.post("/codes")
def mint_code():
    """Mint a wx.login() code for a simulated user of a simulated app."""
    body = _body(CodeBody)
    state = simulator_state()
    code = state.mint_code(body.appId, body.user, body.errcode, body.fault, body.delay, body.code)
    openid, unionid = state.identity(body.appId, body.user)
    return jsonify({"code": code, "openid": openid, "unionid": unionid, "expiresIn": CODE_TTL})


@bp.post("/phone-codes")
def mint_phone_code():
    """Mint a getPhoneNumber button code for a simulated user."""
    body = _body(PhoneCodeBody)
    code = simulator_state().mint_phone_code(body.appId, body.user, body.phoneNumber, body.countryCode, body.errcode)
    return jsonify({"code": code, "expiresIn": CODE_TTL})


@bp.post("/encrypted-data")
def encrypted_data():
    """Seal data for a simulated user under their current session_key, with rawData and its signature."""
    body = _body(SealBody)
    key = simulator_state().session_key(body.appId, body.user)
    if key is None:
        raise BadBody("this user has no session_key yet: log in first")
    raw_data = json.dumps(body.data, ensure_ascii=False, separators=(",", ":"))
    watermark = body.watermark or {"timestamp": int(time.time()), "appid": body.appId}
    sealed, iv = encrypt_user_data(key, {**body.data, "watermark": watermark})
    signature = raw_data_signature(raw_data, key)
    return jsonify({"encryptedData": sealed, "iv": iv, "rawData": raw_data, "signature": signature})
