"""One-time codes under concurrent requests to 4 gunicorn workers: exactly one success, clean errors for the rest."""

from __future__ import annotations

import threading
from collections import Counter

import requests
from sqlalchemy import func, select

from console.extensions import db
from console.models import AccessToken, User, WeChatBinding
from console.services.bindings import issue_bind_ticket
from console.services.login_methods import find_login_method

RACERS = 20


def race(url: str, bodies: list[dict]) -> list[tuple[int, str | None]]:
    """POST every body at once (released together by a barrier); (status, error code) of each answer."""
    barrier = threading.Barrier(len(bodies))
    results: list[tuple[int, str | None]] = [None] * len(bodies)

    def post(index: int, body: dict):
        barrier.wait()
        answer = requests.post(url, json=body, timeout=30)
        results[index] = (answer.status_code, answer.json().get("error", {}).get("code"))

    threads = [threading.Thread(target=post, args=(index, body)) for index, body in enumerate(bodies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def count(harness, model) -> int:
    with harness.app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def live_login(deployment, method, user) -> dict:
    answer = requests.post(
        f"{deployment.url}/api/v1/wechat-mini/{method.name}/login",
        json={"code": deployment.harness.code(method, user)},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_twenty_concurrent_registrations_with_one_bind_code_make_one_user(deployment):
    method = deployment.harness.add_method(name="raceBindCode")
    bind_code = live_login(deployment, method, "alice")["bindCode"]
    users_before = count(deployment.harness, User)

    results = race(f"{deployment.url}/api/v1/wechat-mini/{method.name}/register", [{"bindCode": bind_code}] * RACERS)

    assert Counter(results) == {(201, None): 1, (400, "invalid_bind_code"): RACERS - 1}
    assert count(deployment.harness, User) == users_before + 1


def test_twenty_concurrent_redemptions_of_one_login_code_issue_one_token(deployment):
    method = deployment.harness.add_method(name="raceLoginCode")
    deployment.harness.register(method, "alice")
    login_code = live_login(deployment, method, "alice")["loginCode"]
    tokens_before = count(deployment.harness, AccessToken)

    results = race(f"{deployment.url}/api/v1/auth/token", [{"loginCode": login_code}] * RACERS)

    assert Counter(results) == {(200, None): 1, (400, "invalid_login_code"): RACERS - 1}
    assert count(deployment.harness, AccessToken) == tokens_before + 1


def test_twenty_concurrent_binds_with_one_ticket_bind_once(deployment):
    harness = deployment.harness
    shop, blog = harness.add_method(name="raceTicketShop"), harness.add_method(name="raceTicketBlog")
    user_id = harness.register(shop, "alice")["user"]["userId"]
    with harness.app.app_context():
        ticket = issue_bind_ticket(find_login_method(blog.name), user_id)
    bodies = [{"ticket": ticket, "code": harness.code(blog, "alice")} for _ in range(RACERS)]

    results = race(f"{deployment.url}/api/v1/wechat-mini/{blog.name}/bind", bodies)

    outcomes = Counter(results)
    assert outcomes[(200, None)] == 1
    assert set(outcomes) - {(200, None)} <= {(400, "invalid_ticket"), (409, "user_already_bound")}
    with harness.app.app_context():
        assert db.session.scalar(select(func.count()).where(WeChatBinding.user_id == user_id)) == 2


def test_two_bind_codes_of_one_wechat_user_registered_at_once_make_one_account(deployment):
    harness = deployment.harness
    method = harness.add_method(name="raceTwoCodes")
    for round_ in range(5):
        user = f"twin-{round_}"
        codes = [live_login(deployment, method, user)["bindCode"] for _ in range(2)]
        users_before = count(harness, User)

        results = race(
            f"{deployment.url}/api/v1/wechat-mini/{method.name}/register", [{"bindCode": code} for code in codes]
        )

        assert Counter(results) == {(201, None): 1, (409, "already_registered"): 1}
        assert count(harness, User) == users_before + 1


def test_parallel_first_logins_through_a_unionid_link_one_binding(deployment):
    harness = deployment.harness
    shop = harness.add_method(name="raceUnionShop", open_platform="race-platform")
    blog = harness.add_method(name="raceUnionBlog", open_platform="race-platform", allow_register=False)
    for round_ in range(4):
        user_id = harness.register(shop, f"carol-{round_}")["user"]["userId"]
        users_before = count(harness, User)
        bodies = [{"code": harness.code(blog, f"carol-{round_}")} for _ in range(8)]

        results = race(f"{deployment.url}/api/v1/wechat-mini/{blog.name}/login", bodies)

        assert Counter(results) == {(200, None): 8}
        assert count(harness, User) == users_before
        with harness.app.app_context():
            assert db.session.scalar(select(func.count()).where(WeChatBinding.user_id == user_id)) == 2
