"""The user's data behind their session key: decrypt what the mini program received, the phone number,
and whether WeChat still holds the stored session key."""

from __future__ import annotations

from console.database import transaction
from console.errors import LoginError
from console.extensions import db
from console.models import LoginMethod, User, WeChatBinding, utcnow
from console.security.keyring import KeyRingError, keyring
from console.services import bindings, gateway, login_events, login_methods
from console.services.answers import DecryptAnswer, PhoneAnswer
from console.services.audit import record
from console.services.users import active_user
from console.wechat.crypto import (
    MalformedUserData,
    UndecryptableUserData,
    decrypt_user_data,
    raw_data_signature_matches,
    session_signature,
)

NAME_LENGTH = 64
AVATAR_LENGTH = 512


def decrypt(
    method: LoginMethod,
    user_id: int,
    encrypted_data: str,
    iv: str,
    raw_data: str | None = None,
    signature: str | None = None,
) -> DecryptAnswer:
    """Open the user's encryptedData with their stored session key, watermark checked.

    A nickname and avatar found in the data update the user's profile.
    """
    if (raw_data is None) != (signature is None):
        raise LoginError("invalid_request", "Fields 'rawData' and 'signature' come together or not at all.")
    login_methods.ensure_enabled(method)
    active_user(user_id)
    binding = bindings.bound(method, user_id)
    login_events.note(openid=binding.openid)
    session_key = _session_key(binding)
    if (
        raw_data is not None
        and signature is not None
        and not raw_data_signature_matches(raw_data, session_key, signature)
    ):
        raise LoginError("invalid_signature")
    try:
        data = decrypt_user_data(session_key, encrypted_data, iv)
    except (MalformedUserData, UndecryptableUserData) as error:
        raise gateway.as_refusal(error) from None
    watermark = data.get("watermark")
    if not isinstance(watermark, dict) or watermark.get("appid") != method.app_id:
        raise LoginError("watermark_mismatch")
    _update_profile(method, user_id, data)
    return DecryptAnswer(data=data)


def phone_number(method: LoginMethod, user_id: int, code: str) -> PhoneAnswer:
    """Exchange a getPhoneNumber button code for the user's phone and save it on the user."""
    login_methods.ensure_enabled(method)
    active_user(user_id)
    openid = bindings.bound(method, user_id).openid
    login_events.note(openid=openid)
    gateway.mark_presented(method, "phone", code)
    info = gateway.call_with_access_token(
        method, lambda token: gateway.wechat_client().phone_number(token, code, openid)
    )
    watermark = info.get("watermark")
    if isinstance(watermark, dict) and watermark.get("appid") not in (None, method.app_id):
        raise LoginError("watermark_mismatch")
    phone = PhoneAnswer(
        phoneNumber=str(info["phoneNumber"]),
        purePhoneNumber=str(info.get("purePhoneNumber") or info["phoneNumber"]),
        countryCode=str(info.get("countryCode") or ""),  # WeChat sends a number at times
    )
    with transaction():
        user = db.session.get(User, user_id)
        if user is not None:
            user.phone = phone.phoneNumber[:32]
        record("phone.update", user_id=user_id, method=method)
        login_events.record_success(user_id=user_id)
    return phone


def check_session_key(method: LoginMethod, user_id: int) -> dict:
    """Ask WeChat whether the stored session key of the user's binding is still valid: {"valid", "sessionKeyAge"}."""
    binding = bindings.bound(method, user_id)
    age = int((utcnow() - binding.session_key_set_at).total_seconds()) if binding.session_key_set_at else None
    try:
        session_key = _session_key(binding)
    except LoginError:
        return {"valid": False, "sessionKeyAge": age}
    openid, signature = binding.openid, session_signature(session_key)
    valid = gateway.call_with_access_token(
        method, lambda token: gateway.wechat_client().check_session(token, openid, signature)
    )
    return {"valid": valid, "sessionKeyAge": age}


def _session_key(binding: WeChatBinding) -> str:
    """The binding's session key in clear; session_key_stale when none is stored or no key opens it."""
    if not binding.session_key_ciphertext:
        raise LoginError("session_key_stale")
    try:
        return keyring().decrypt(binding.session_key_ciphertext)
    except KeyRingError:
        raise LoginError("session_key_stale") from None


def _update_profile(method: LoginMethod, user_id: int, data: dict) -> None:
    """Take the nickname and avatar WeChat's data carries, when they are usable and new."""
    changes = {}
    nickname, avatar = data.get("nickName"), data.get("avatarUrl")
    if isinstance(nickname, str) and nickname.strip():
        changes["name"] = nickname.strip()[:NAME_LENGTH]
    if isinstance(avatar, str) and avatar.startswith(("https://", "http://")) and len(avatar) <= AVATAR_LENGTH:
        changes["avatar_url"] = avatar
    with transaction():
        user = db.session.get(User, user_id)
        changed = [field for field, value in changes.items() if getattr(user, field) != value]
        for field in changed:
            setattr(user, field, changes[field])
        if changed:
            record("profile.update", user_id=user_id, method=method, fields=changed)
        login_events.record_success(user_id=user_id)
