"""The cache and locks shared by every process: Redis when REDIS_URL is set, else this process's memory."""

from __future__ import annotations

import threading
from contextlib import contextmanager, suppress

import redis
from cachelib import BaseCache, RedisCache, SimpleCache
from flask import Flask, current_app


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
            with suppress(redis.exceptions.LockError):  # it expired meanwhile; another holder may own it now
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
        client = redis.Redis.from_url(url)
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
