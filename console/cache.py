"""The cache shared by every process: Redis when REDIS_URL is set, else this process's memory."""

from __future__ import annotations

import redis
from cachelib import BaseCache, RedisCache, SimpleCache
from flask import Flask, current_app


def init_cache(app: Flask) -> None:
    """Attach the shared cache named by REDIS_URL (or an in-process one) to the app."""
    url = app.config.get("REDIS_URL")
    if url:
        cache = RedisCache(host=redis.Redis.from_url(url), key_prefix="console:")
    else:
        cache = SimpleCache(threshold=100_000)
    app.extensions["shared_cache"] = cache


def shared_cache() -> BaseCache:
    """The current app's shared cache."""
    return current_app.extensions["shared_cache"]
