"""The cache and locks shared by every process: Redis when REDIS_URL is set, else this process's memory.

When Redis cannot be reached, every operation raises ServiceUnavailable("redis") (503 service_unavailable): what
the cache holds is shared on purpose (a wx.login() code marked as presented, WeChat's access token and its lock),
and keeping it in one process's memory instead would let a code reach WeChat twice (docs/dependencies.md).
"""

from __future__ import annotations

import threading
from contextlib import contextmanager, suppress
from typing import Any

import redis
from cachelib import BaseCache, RedisCache, SimpleCache
from flask import Flask, current_app
from redis.backoff import NoBackoff
from redis.retry import Retry

from console.errors import REDIS_UNREACHABLE, ServiceUnavailable

# Every Redis client of the app (the shared cache, the rate limits' storage, /readyz): a refused or silent Redis
# fails a call within about a second, and one immediate retry on a fresh connection rides over a connection that
# Redis dropped (a restart). redis-py's default (10 retries with backoff) would hold each request for seconds.
REDIS_OPTIONS: dict[str, Any] = {
    "socket_connect_timeout": 1,
    "socket_timeout": 1,
    "retry": Retry(NoBackoff(), 1),
}


class SharedRedis(redis.Redis):
    """The shared cache's Redis client: a command that cannot reach Redis raises ServiceUnavailable("redis"), so the
    API answers 503 and the seed's Python API raises its one LoginError, whichever cache call or lock met it."""

    def execute_command(self, *args, **options):
        try:
            return super().execute_command(*args, **options)
        except REDIS_UNREACHABLE as error:
            raise ServiceUnavailable("redis") from error


def redis_client(url: str) -> SharedRedis:
    """The shared cache's client with REDIS_OPTIONS (options in the URL's query string still win)."""
    return SharedRedis(connection_pool=redis.ConnectionPool.from_url(url, **REDIS_OPTIONS))


class LocalLocks:
    """Named locks for one process: enough while a single process serves (the default)."""

    def __init__(self):
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}

    @contextmanager
    def hold(self, name: str, timeout: float):
        with self._guard:
            lock = self._locks.setdefault(name, threading.Lock())
        if not lock.acquire(timeout=timeout):
            raise TimeoutError(f"lock {name} is busy")
        try:
            yield
        finally:
            lock.release()


class RedisLocks:
    """Named locks shared by every process and host through Redis."""

    def __init__(self, client: redis.Redis):
        self._client = client

    @contextmanager
    def hold(self, name: str, timeout: float):
        # The lock expires on its own after `timeout`, so a crashed holder cannot block the others forever.
        lock = self._client.lock(f"console:lock:{name}", timeout=timeout, blocking_timeout=timeout)
        if not lock.acquire():
            raise TimeoutError(f"lock {name} is busy")
        try:
            yield
        finally:
            # LockError: it expired meanwhile, another holder may own it now; Redis gone: it expires on its own
            with suppress(redis.exceptions.LockError, ServiceUnavailable):
                lock.release()


class RedisCacheAtomicAdd(RedisCache):
    """cachelib's RedisCache whose add() is one atomic SET NX EX instead of SETNX then EXPIRE.

    One round trip instead of two on every login (a wx.login() code is marked presented with add()), and
    no key left without a lifetime should the process die between the two.
    """

    def add(self, key: str, value, timeout=None) -> bool:
        timeout = self._normalize_timeout(timeout)
        return bool(
            self._write_client.set(
                name=f"{self._get_prefix()}{key}",
                value=self.serializer.dumps(value),
                ex=timeout if timeout != -1 else None,
                nx=True,
            )
        )


def init_cache(app: Flask) -> None:
    """Attach the shared cache and locks named by REDIS_URL (or in-process ones) to the app."""
    url = app.config.get("REDIS_URL")
    if url:
        client = redis_client(url)
        app.extensions["shared_redis"] = client
        app.extensions["shared_cache"] = RedisCacheAtomicAdd(host=client, key_prefix="console:")
        app.extensions["shared_locks"] = RedisLocks(client)
    else:
        app.extensions["shared_cache"] = SimpleCache(threshold=100_000)
        app.extensions["shared_locks"] = LocalLocks()


def shared_cache() -> BaseCache:
    """The current app's shared cache."""
    return current_app.extensions["shared_cache"]


def shared_lock(name: str, timeout: float):
    """Hold the named lock (shared by all processes with Redis) for at most `timeout` seconds."""
    return current_app.extensions["shared_locks"].hold(name, timeout)
