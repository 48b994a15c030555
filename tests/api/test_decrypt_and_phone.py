"""Decrypting the user's data with the stored session key, and phone numbers from the getPhoneNumber button."""

from __future__ import annotations

import threading

import pytest
import requests
from sqlalchemy import select

from console.extensions import db
from console.models import AuditEvent, User
from console.services.answers import DecryptAnswer, PhoneAnswer
from console.services.login_methods import find_login_method
from console.services.user_data import check_session_key

PROFILE = {"nickName": "Alice Wang", "avatarUrl": "https://thirdwx.qlogo.cn/alice.png", "gender": 2}


@pytest.fixture
def alice(harness):
    """A registered user of a login method, with a live access token."""
    method = harness.add_method()
    return method, harness.token(method, "alice")


def decrypt(harness, method, token, sealed, **fields):
    body = {"encryptedData": sealed["encryptedData"], "iv": sealed["iv"], **fields}
    return harness.post(f"/wechat-mini/{method.name}/decrypt", body, token=token)


def test_decrypt_opens_the_data_and_takes_the_nickname_and_avatar(harness, app, alice):
    method, token = alice
    sealed = harness.simulator.sealed(method.app_id, "alice", PROFILE)

    answer = decrypt(harness, method, token, sealed)

    assert answer.status_code == 200
    DecryptAnswer.model_validate(answer.json)
    assert answer.json["data"]["nickName"] == "Alice Wang"
    assert answer.json["data"]["watermark"]["appid"] == method.app_id
    user = harness.get("/me", token).json["user"]
    assert (user["name"], user["avatarUrl"]) == ("Alice Wang", "https://thirdwx.qlogo.cn/alice.png")
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "profile.update")).one()
        assert event.details["fields"] == ["name", "avatar_url"]


def test_a_signed_payload_is_checked_before_decrypting(harness, alice):
    method, token = alice
    sealed = harness.simulator.sealed(method.app_id, "alice", PROFILE)

    good = decrypt(harness, method, token, sealed, rawData=sealed["rawData"], signature=sealed["signature"])
    tampered = decrypt(
        harness,
        method,
        token,
        sealed,
        rawData=sealed["rawData"].replace("Alice", "Mallory"),
        signature=sealed["signature"],
    )
    half = decrypt(harness, method, token, sealed, rawData=sealed["rawData"])

    assert good.status_code == 200
    assert tampered.status_code == 400 and tampered.json["error"]["code"] == "invalid_signature"
    assert half.status_code == 400 and half.json["error"]["code"] == "invalid_request"


@pytest.mark.parametrize("signature", ["é" * 40, "签名", "\u00a0", ""])
def test_a_signature_in_any_characters_is_invalid_signature_not_a_500(harness, alice, unchanged, signature):
    method, token = alice
    sealed = harness.simulator.sealed(method.app_id, "alice", PROFILE)
    with unchanged():
        answer = decrypt(harness, method, token, sealed, rawData=sealed["rawData"], signature=signature)
    assert answer.status_code == 400 and answer.json["error"]["code"] in ("invalid_signature", "invalid_request")


def test_data_sealed_under_a_newer_session_key_is_session_key_stale(harness, alice, simulator, unchanged):
    method, token = alice
    # the phone called wx.login again but never logged in here: WeChat's key moved on, ours did not
    code = harness.code(method, "alice")
    requests.get(
        f"{simulator.url}/sns/jscode2session",
        timeout=5,
        params={"appid": method.app_id, "secret": method.secret, "js_code": code, "grant_type": "authorization_code"},
    )
    sealed = harness.simulator.sealed(method.app_id, "alice", PROFILE)

    with unchanged():
        answer = decrypt(harness, method, token, sealed)

    assert answer.status_code == 409 and answer.json["error"]["code"] == "session_key_stale"
    harness.login(method, "alice")  # logging in again stores the new key
    assert decrypt(harness, method, token, harness.simulator.sealed(method.app_id, "alice", PROFILE)).status_code == 200


def test_data_of_another_app_is_watermark_mismatch(harness, alice, unchanged):
    method, token = alice
    sealed = harness.simulator.sealed(
        method.app_id, "alice", PROFILE, watermark={"appid": "wxsomeoneelse", "timestamp": 1}
    )

    with unchanged():
        answer = decrypt(harness, method, token, sealed)

    assert answer.status_code == 422 and answer.json["error"]["code"] == "watermark_mismatch"
    assert harness.get("/me", token).json["user"]["name"] == "WeChat user"


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"encryptedData": "***", "iv": "r7BXXKkLb8qrSNn05n0qiA=="}, "encryptedData"),
        ({"encryptedData": "AAAAAAAAAAAAAAAAAAAAAA==", "iv": "AAAA"}, "iv"),
        ({"encryptedData": "A" * 65537, "iv": "r7BXXKkLb8qrSNn05n0qiA=="}, "encryptedData"),
        ({"iv": "r7BXXKkLb8qrSNn05n0qiA=="}, "encryptedData"),
        ({"encryptedData": "AAAAAAAAAAAAAAAAAAAAAA==", "iv": 16}, "iv"),
    ],
)
def test_malformed_decrypt_bodies_are_invalid_request(harness, alice, unchanged, fields, message):
    method, token = alice
    with unchanged():
        answer = harness.post(f"/wechat-mini/{method.name}/decrypt", fields, token=token)
    assert answer.status_code == 400 and answer.json["error"]["code"] == "invalid_request"
    assert message in answer.json["error"]["message"]


def test_decrypt_needs_a_binding_on_that_mini_program_and_a_token(harness, alice):
    method, token = alice
    other = harness.add_method(name="otherLogin")
    sealed = harness.simulator.sealed(method.app_id, "alice", PROFILE)
    assert decrypt(harness, other, token, sealed).json["error"]["code"] == "not_bound"
    assert decrypt(harness, method, None, sealed).status_code == 401


def test_phone_number_is_fetched_saved_and_answered_with_a_string_country_code(harness, app, alice):
    method, token = alice

    answer = harness.post(
        f"/wechat-mini/{method.name}/phone", {"code": harness.simulator.phone_code(method.app_id, "alice")}, token=token
    )

    assert answer.status_code == 200
    PhoneAnswer.model_validate(answer.json)
    assert answer.json == {"phoneNumber": "13800138000", "purePhoneNumber": "13800138000", "countryCode": "86"}
    assert harness.get("/me", token).json["user"]["phone"] == "13800138000"
    with app.app_context():
        assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.action == "phone.update"))


def test_a_foreign_number_keeps_its_country_code(harness, alice):
    method, token = alice
    code = harness.simulator.phone_code(method.app_id, "alice", phoneNumber="2025550143", countryCode="1")
    answer = harness.post(f"/wechat-mini/{method.name}/phone", {"code": code}, token=token)
    assert answer.json == {"phoneNumber": "+12025550143", "purePhoneNumber": "2025550143", "countryCode": "1"}


def test_two_phone_calls_fetch_one_access_token(harness, alice, simulator):
    method, token = alice
    for _ in range(2):
        code = harness.simulator.phone_code(method.app_id, "alice")
        assert harness.post(f"/wechat-mini/{method.name}/phone", {"code": code}, token=token).status_code == 200
    assert simulator.state.token_fetches[method.app_id] == 1


def test_concurrent_phone_calls_fetch_one_access_token(harness, app, alice, simulator):
    method, token = alice
    codes = [harness.simulator.phone_code(method.app_id, "alice") for _ in range(6)]
    statuses = []

    def call(code):
        statuses.append(
            app.test_client()
            .post(
                f"/api/v1/wechat-mini/{method.name}/phone",
                json={"code": code},
                headers={"Authorization": f"Bearer {token}"},
            )
            .status_code
        )

    threads = [threading.Thread(target=call, args=(code,)) for code in codes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [200] * 6
    assert simulator.state.token_fetches[method.app_id] == 1


def test_a_refused_access_token_is_replaced_once_and_the_call_succeeds(harness, alice, simulator):
    method, token = alice
    harness.post(
        f"/wechat-mini/{method.name}/phone", {"code": harness.simulator.phone_code(method.app_id, "alice")}, token=token
    )
    simulator.control(f"apps/{method.app_id}/reset-token")  # another system force-refreshed the token

    answer = harness.post(
        f"/wechat-mini/{method.name}/phone", {"code": harness.simulator.phone_code(method.app_id, "alice")}, token=token
    )

    assert answer.status_code == 200
    assert simulator.state.token_fetches[method.app_id] == 2


def test_phone_codes_go_to_wechat_once_and_bad_ones_map_to_contract_errors(harness, alice, unchanged):
    method, token = alice
    code = harness.simulator.phone_code(method.app_id, "alice")
    assert harness.post(f"/wechat-mini/{method.name}/phone", {"code": code}, token=token).status_code == 200

    with unchanged():
        reused = harness.post(f"/wechat-mini/{method.name}/phone", {"code": code}, token=token)
        unknown = harness.post(f"/wechat-mini/{method.name}/phone", {"code": "f" * 64}, token=token)
        limited = harness.post(
            f"/wechat-mini/{method.name}/phone",
            {"code": harness.simulator.phone_code(method.app_id, "alice", errcode=45011)},
            token=token,
        )
        someone_elses = harness.post(
            f"/wechat-mini/{method.name}/phone",
            {"code": harness.simulator.phone_code(method.app_id, "mallory")},
            token=token,
        )

    assert reused.json["error"]["code"] == "code_used"
    assert unknown.json["error"]["code"] == "invalid_code"
    assert limited.status_code == 429 and limited.json["error"]["code"] == "wechat_rate_limited"
    assert someone_elses.json["error"]["code"] == "invalid_code"  # WeChat checks the code against our openid


def test_phone_needs_a_binding_on_that_mini_program(harness, alice):
    method, token = alice
    other = harness.add_method(name="otherLogin")
    answer = harness.post(
        f"/wechat-mini/{other.name}/phone", {"code": harness.simulator.phone_code(other.app_id, "alice")}, token=token
    )
    assert answer.status_code == 404 and answer.json["error"]["code"] == "not_bound"


def test_session_key_check_follows_wechat(harness, app, alice, simulator):
    method, _ = alice
    with app.app_context():
        user_id = db.session.scalar(select(User.id))
        fresh = check_session_key(find_login_method(method.name), user_id)
    code = harness.code(method, "alice")  # a wx.login that never reached us: WeChat's key moves on
    requests.get(
        f"{simulator.url}/sns/jscode2session",
        timeout=5,
        params={"appid": method.app_id, "secret": method.secret, "js_code": code, "grant_type": "authorization_code"},
    )
    with app.app_context():
        stale = check_session_key(find_login_method(method.name), user_id)

    assert fresh["valid"] is True and 0 <= fresh["sessionKeyAge"] < 60
    assert stale["valid"] is False


def test_the_access_token_is_shared_through_redis_by_two_processes(environ, simulator, harness, alice):
    import redis

    from console import create_app

    method, token = alice
    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/14").flushdb()
    except redis.exceptions.ConnectionError:
        pytest.skip("Redis does not answer on 127.0.0.1:6379: the shared-cache test needs it")
    shared = {**environ, "REDIS_URL": "redis://127.0.0.1:6379/14"}
    workers = [
        create_app(
            {
                "TESTING": True,
                "SQLALCHEMY_DATABASE_URI": harness.app.config["SQLALCHEMY_DATABASE_URI"],
                "ENCRYPTION_KEYS": harness.app.config["ENCRYPTION_KEYS"],
            },
            environ=shared,
        )
        for _ in range(2)
    ]
    for worker in workers:
        code = harness.simulator.phone_code(method.app_id, "alice")
        answer = worker.test_client().post(
            f"/api/v1/wechat-mini/{method.name}/phone",
            json={"code": code},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert answer.status_code == 200
    assert simulator.state.token_fetches[method.app_id] == 1
    redis.Redis.from_url("redis://127.0.0.1:6379/14").flushdb()
