"""WeChat's open-data cryptography, checked against WeChat's own published examples."""

from __future__ import annotations

import base64

import pytest

from console.services.gateway import as_refusal
from console.wechat.crypto import (
    MalformedUserData,
    UndecryptableUserData,
    decrypt_user_data,
    encrypt_user_data,
    raw_data_signature,
    raw_data_signature_matches,
    session_signature,
)

# WeChat's WXBizDataCrypt demo (open data decryption docs, appId wx4f4bc4dec97d474b)
DEMO_SESSION_KEY = "tiihtNczf5v6AKRyjwEUhQ=="
DEMO_IV = "r7BXXKkLb8qrSNn05n0qiA=="
DEMO_ENCRYPTED_DATA = (
    "CiyLU1Aw2KjvrjMdj8YKliAjtP4gsMZMQmRzooG2xrDcvSnxIMXFufNstNGTyaGS9uT5geRa0W4oTOb1WT7fJlAC+oNPdbB+3hVbJSRgv+4lGOETK"
    "UQz6OYStslQ142dNCuabNPGBzlooOmB231qMM85d2/fV6ChevvXvQP8Hkue1poOFtnEtpyxVLW1zAo6/1Xx1COxFvrc2d7UL/lmHInNlxuacJXwu"
    "0fjpXfz/YqYzBIBzD6WUfTIF9GRHpOn/Hz7saL8xz+W//FRAUid1OksQaQx4CMs8LOddcQhULW4ucetDf96JcR3g0gfRK4PC7E/r7Z6xNrXd2UIeo"
    "rGj5Ef7b1pJAYB6Y5anaHqZ9J6nKEBvB4DnNLIVWSgARns/8wR2SiRS7MNACwTyrGvt9ts8p12PKFdlqYTopNHR1Vf7XjfhQlVsAJdNiKdYmYVoKl"
    "aRv85IfVunYzO0IKXsyl7JCUjCpoG20f0a04COwfneQAGGwd5oa+T8yO5hzuyDb/XcxxmK01EpqOyuxINew=="
)
DEMO_DATA = {
    "openId": "oGZUI0egBJY1zhBYw2KhdUfwVJJE",
    "nickName": "Band",
    "gender": 1,
    "language": "zh_CN",
    "city": "Guangzhou",
    "province": "Guangdong",
    "country": "CN",
    "avatarUrl": "http://wx.qlogo.cn/mmopen/vi_32/aSKcBBPpibyKNicHNTMM0qJVh8Kjgiak2AHWr8MHM4WgMEm7GFhsf8OYrySdbvAMvTsw3mo8ibKicsnfN5pRjl1p8HQ/0",
    "unionId": "ocMvos6NjeKLIBqg5Mr9QjxrP1FA",
    "watermark": {"timestamp": 1477314187, "appid": "wx4f4bc4dec97d474b"},
}

# WeChat's rawData signature example (open data verification docs)
SIGNED_RAW_DATA = (
    '{"nickName":"Band","gender":1,"language":"zh_CN","city":"Guangzhou","province":"Guangdong","country":"CN",'
    '"avatarUrl":"http://wx.qlogo.cn/mmopen/vi_32/1vZvI39NWFQ9XM4LtQpFrQJ1xlgZxx3w7bQxKARol6503Iuswjjn6nIGBiaycAjAtpujxyzYsrztuuICqIM5ibXQ/0"}'
)
SIGNED_SESSION_KEY = "HyVFkGl5F5OQWJZZaNzBBg=="
SIGNATURE = "75e81ceda165f4ffa64f4068af58c64b8f54b88c"


def test_the_official_demo_decrypts_to_the_documented_json():
    assert decrypt_user_data(DEMO_SESSION_KEY, DEMO_ENCRYPTED_DATA, DEMO_IV) == DEMO_DATA


def test_a_wrong_key_is_session_key_stale_not_a_crash():
    other_key = base64.b64encode(b"0123456789abcdef").decode()
    with pytest.raises(UndecryptableUserData) as raised:
        decrypt_user_data(other_key, DEMO_ENCRYPTED_DATA, DEMO_IV)
    refusal = as_refusal(raised.value)
    assert refusal.code == "session_key_stale" and refusal.status == 409


def test_a_stored_key_that_is_no_aes_128_key_is_stale():
    with pytest.raises(UndecryptableUserData):
        decrypt_user_data("bm90IGEga2V5", DEMO_ENCRYPTED_DATA, DEMO_IV)


@pytest.mark.parametrize(
    "encrypted, iv, message",
    [
        ("not base64!!", DEMO_IV, "encryptedData' is not valid base64"),
        (DEMO_ENCRYPTED_DATA, "%%%", "iv' is not valid base64"),
        (DEMO_ENCRYPTED_DATA, base64.b64encode(b"short").decode(), "iv' must decode to 16 bytes"),
        (base64.b64encode(b"x" * 17).decode(), DEMO_IV, "whole 16-byte blocks"),
    ],
)
def test_malformed_input_is_invalid_request(encrypted, iv, message):
    with pytest.raises(MalformedUserData) as raised:
        decrypt_user_data(DEMO_SESSION_KEY, encrypted, iv)
    refusal = as_refusal(raised.value)
    assert refusal.code == "invalid_request" and message in refusal.message


def test_the_official_raw_data_signature_verifies_and_a_changed_byte_does_not():
    assert raw_data_signature(SIGNED_RAW_DATA, SIGNED_SESSION_KEY) == SIGNATURE
    assert raw_data_signature_matches(SIGNED_RAW_DATA, SIGNED_SESSION_KEY, SIGNATURE.upper())
    assert not raw_data_signature_matches(SIGNED_RAW_DATA.replace("Band", "Bond"), SIGNED_SESSION_KEY, SIGNATURE)


def test_the_official_login_state_signature_example():
    # WeChat's example: hmac_sha256('{"foo":"bar"}', 'o0q0otL8aEzpcZL/FT9WsQ==') keyed with the base64 text
    assert session_signature("o0q0otL8aEzpcZL/FT9WsQ==", '{"foo":"bar"}') == (
        "654571f79995b2ce1e149e53c0a33dc39c0a74090db514261454e8dbe432aa0b"
    )
    assert len(session_signature("o0q0otL8aEzpcZL/FT9WsQ==")) == 64  # GET: the empty string is signed


def test_sealing_and_opening_round_trip():
    sealed, iv = encrypt_user_data(DEMO_SESSION_KEY, {"nickName": "小明"})
    assert decrypt_user_data(DEMO_SESSION_KEY, sealed, iv) == {"nickName": "小明"}
