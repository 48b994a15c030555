"""Secrets at rest: a ring of Fernet keys where the first encrypts and every one decrypts."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app


class KeyRingError(Exception):
    """ENCRYPTION_KEYS is unreadable, or no key opens a stored value."""


class KeyRing:
    """MultiFernet over ENCRYPTION_KEYS: encrypt with the first key, decrypt with any (rotation)."""

    def __init__(self, keys: str):
        parts = [part.strip() for part in keys.split(",") if part.strip()]
        if not parts:
            raise KeyRingError("ENCRYPTION_KEYS holds no key")
        try:
            self._fernet = MultiFernet([Fernet(part) for part in parts])
        except (ValueError, TypeError):
            raise KeyRingError(
                "ENCRYPTION_KEYS must be comma-separated Fernet keys (32 url-safe base64-encoded bytes each)"
            ) from None

    def encrypt(self, plaintext: str) -> str:
        """Encrypt text with the first key."""
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str, ttl: int | None = None) -> str:
        """Decrypt text sealed with any key of the ring (and, with `ttl`, at most that many seconds ago)."""
        try:
            return self._fernet.decrypt(ciphertext.encode(), ttl=ttl).decode()
        except InvalidToken:
            raise KeyRingError("no key of ENCRYPTION_KEYS opens this value") from None

    def rotate(self, ciphertext: str) -> str:
        """Re-encrypt a value with the first key."""
        try:
            return self._fernet.rotate(ciphertext.encode()).decode()
        except InvalidToken:
            raise KeyRingError("no key of ENCRYPTION_KEYS opens this value") from None


def keyring() -> KeyRing:
    """The current app's key ring."""
    return current_app.extensions["keyring"]
