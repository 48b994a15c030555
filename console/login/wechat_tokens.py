"""WeChat's own access tokens (cgi-bin/stable_token), cached per appId and shared by every process.

A token is kept until 5 minutes before it expires, sealed with the key ring, and fetched by one caller
at a time (a shared lock), so N workers do not fetch N tokens.
"""

from __future__ import annotations

from flask import current_app

from console.cache import shared_cache, shared_lock
from console.errors import LoginError
from console.security.keyring import KeyRingError, keyring
from console.wechat.client import wechat_client

REFRESH_MARGIN = 300  # seconds before expiry when a cached token stops being handed out


def _cache_key(app_id: str) -> str:
    return f"wxtoken:{app_id}"


def _cached_token(app_id: str) -> str | None:
    sealed = shared_cache().get(_cache_key(app_id))
    if not sealed:
        return None
    try:
        return keyring().decrypt(sealed)
    except KeyRingError:  # sealed under a key since removed: fetch a fresh one
        return None


def wechat_access_token(app_id: str, app_secret: str, refused: str | None = None) -> str:
    """A live access token for the app; `refused` is one WeChat just rejected (40001), never handed out again."""
    token = _cached_token(app_id)
    if token and token != refused:
        return token
    try:
        with shared_lock(_cache_key(app_id), timeout=current_app.config["WECHAT_TIMEOUT"] * 2 + 1):
            token = _cached_token(app_id)
            if token and token != refused:
                return token  # another caller fetched it while we waited
            token, expires_in = wechat_client().stable_token(app_id, app_secret)
            if expires_in > REFRESH_MARGIN:
                shared_cache().set(_cache_key(app_id), keyring().encrypt(token), timeout=expires_in - REFRESH_MARGIN)
            else:
                shared_cache().delete(_cache_key(app_id))
            return token
    except TimeoutError:
        raise LoginError("wechat_unavailable", "WeChat's access token is being fetched by another request; try again.") from None
