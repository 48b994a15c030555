"""Rate limits hold across gunicorn workers (Redis storage) and key on the client behind a proxy."""

from __future__ import annotations

import secrets
from collections import Counter

import pytest
import requests

from console import create_app
from tests.production.conftest import REDIS_BASE, redis_answers, start_deployment, stop_deployment


@pytest.fixture(scope="module")
def limited(simulator, tmp_path_factory):
    """4 gunicorn workers allowing 10 API calls a minute per address, counted in Redis."""
    if not redis_answers():
        pytest.skip("Redis does not answer on 127.0.0.1:6379: shared rate limits need it")
    deployment = start_deployment(
        simulator,
        tmp_path_factory.mktemp("limited"),
        RATELIMIT_STORAGE_URI=f"{REDIS_BASE}/11",
        REDIS_URL=f"{REDIS_BASE}/11",
        RATELIMIT_API_PER_ADDRESS="10 per minute",
        PROXY_COUNT="1",
    )
    yield deployment
    stop_deployment(deployment, simulator)


def client_address(index: int = 0) -> str:
    """A client address no other run of the suite uses: runs sharing this Redis must not share budgets."""
    return f"2001:db8:{RUN}::{index:x}"


RUN = secrets.token_hex(2)


def test_the_limit_is_shared_by_all_workers(limited):
    session = requests.Session()
    answers = [
        session.post(
            f"{limited.url}/api/v1/auth/token",
            json={"loginCode": "x" * 43},
            headers={"X-Forwarded-For": client_address(), "Connection": "close"},
            timeout=10,
        )
        for _ in range(30)
    ]

    assert Counter(answer.status_code for answer in answers) == {400: 10, 429: 20}
    refused = answers[-1]
    assert refused.json()["error"]["code"] == "rate_limited"
    assert 0 < int(refused.headers["Retry-After"]) <= 60


def test_behind_a_proxy_each_client_address_has_its_own_budget(limited):
    statuses = [
        requests.post(
            f"{limited.url}/api/v1/auth/token",
            json={"loginCode": "x" * 43},
            headers={"X-Forwarded-For": client_address(index + 1)},
            timeout=10,
        ).status_code
        for index in range(12)
    ]
    assert statuses == [400] * 12


def test_without_proxy_fix_forwarded_for_is_ignored(environ):
    app = create_app({"TESTING": True}, environ={**environ, "RATELIMIT_API_PER_ADDRESS": "2 per minute"})
    client = app.test_client()
    statuses = [
        client.post("/api/v1/auth/token", json={}, headers={"X-Forwarded-For": f"198.51.100.{index}"}).status_code
        for index in range(3)
    ]
    assert statuses == [400, 400, 429]  # a client cannot pick its own address by sending the header
