"""The shared cache's add() on Redis: one atomic SET NX EX."""

from __future__ import annotations

import pytest
import redis

from console.cache import RedisCacheAtomicAdd

REDIS_URL = "redis://127.0.0.1:6379/13"


@pytest.fixture
def client():
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.flushdb()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    yield client
    client.flushdb()


def test_add_stores_once_with_a_lifetime(client):
    cache = RedisCacheAtomicAdd(host=client, key_prefix="t:")
    assert cache.add("code", 1, timeout=300) is True
    assert cache.add("code", 2, timeout=300) is False
    assert cache.get("code") == 1
    assert 0 < client.ttl("t:code") <= 300


def test_add_without_a_lifetime_when_the_timeout_is_zero(client):
    cache = RedisCacheAtomicAdd(host=client, key_prefix="t:")
    assert cache.add("forever", 1, timeout=0) is True
    assert client.ttl("t:forever") == -1
