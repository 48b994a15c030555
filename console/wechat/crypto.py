"""WeChat's open-data cryptography: AES-128-CBC user data, rawData signatures, login-state signatures."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK_BYTES = 16


class MalformedUserData(ValueError):
    """A field of the user's data is not what WeChat sends (bad base64, a wrong length); `field` names it."""

    def __init__(self, field: str, problem: str):
        super().__init__(f"Field '{field}' {problem}.")
        self.field = field


class UndecryptableUserData(ValueError):
    """The session key does not open the data: the user logged in again elsewhere, or the key is unusable."""


def _decode(value: str, field: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedUserData(field, "is not valid base64") from None


def decrypt_user_data(session_key: str, encrypted_data: str, iv: str) -> dict:
    """Open encryptedData with the session_key (AES-128-CBC, PKCS#7) and parse its JSON.

    Malformed input raises MalformedUserData; a key that does not open the data (bad padding, no JSON)
    raises UndecryptableUserData: the user logged in again elsewhere and the client must call wx.login.
    """
    ciphertext, vector = _decode(encrypted_data, "encryptedData"), _decode(iv, "iv")
    if len(vector) != BLOCK_BYTES:
        raise MalformedUserData("iv", "must decode to 16 bytes")
    if not ciphertext or len(ciphertext) % BLOCK_BYTES:
        raise MalformedUserData("encryptedData", "must decode to whole 16-byte blocks")
    try:
        key = base64.b64decode(session_key, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != BLOCK_BYTES:
        raise UndecryptableUserData()
    decryptor = Cipher(algorithms.AES(key), modes.CBC(vector)).decryptor()
    unpadder = padding.PKCS7(BLOCK_BYTES * 8).unpadder()
    try:
        plaintext = unpadder.update(decryptor.update(ciphertext) + decryptor.finalize()) + unpadder.finalize()
        data = json.loads(plaintext.decode("utf-8"))
    except ValueError:  # bad padding, bad UTF-8 and bad JSON all mean: not this key
        raise UndecryptableUserData() from None
    if not isinstance(data, dict):
        raise UndecryptableUserData()
    return data


def encrypt_user_data(session_key: str, data: dict) -> tuple[str, str]:
    """Seal data as WeChat does for the client: (encryptedData, iv), both base64. Used by the simulator."""
    vector = os.urandom(BLOCK_BYTES)
    padder = padding.PKCS7(BLOCK_BYTES * 8).padder()
    plaintext = padder.update(json.dumps(data, ensure_ascii=False).encode()) + padder.finalize()
    encryptor = Cipher(algorithms.AES(base64.b64decode(session_key)), modes.CBC(vector)).encryptor()
    ciphertext = encryptor.update(plaintext) + encryptor.finalize()
    return base64.b64encode(ciphertext).decode(), base64.b64encode(vector).decode()


def raw_data_signature(raw_data: str, session_key: str) -> str:
    """sha1(rawData + session_key) as hex: the signature wx.getUserInfo returns beside rawData."""
    return hashlib.sha1((raw_data + session_key).encode()).hexdigest()


def raw_data_signature_matches(raw_data: str, session_key: str, signature: str) -> bool:
    """Compare a rawData signature in constant time (as bytes: compare_digest refuses str beyond ASCII)."""
    expected = raw_data_signature(raw_data, session_key).encode()
    return hmac.compare_digest(expected, signature.lower().encode("utf-8", "surrogatepass"))


def session_signature(session_key: str, payload: str = "") -> str:
    """The user login-state signature: HMAC-SHA256 of the payload keyed with the session_key's base64 TEXT."""
    return hmac.new(session_key.encode(), payload.encode(), hashlib.sha256).hexdigest()
