"""Console sign-in: one message for every failure, lockout (tests/auth/test_lockout.py for its rule), revocable
sessions, safe `next`, CSRF, rate limit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from console.extensions import db
from console.models import AdminAccount, AuditEvent, SignInFailure, utcnow
from console.services import console_accounts as accounts
from console.services.console_accounts import SIGN_IN_REFUSED
from tests.helpers import PASSWORD


def post_sign_in(client, username, password, next_path=None):
    url = "/sign-in" + (f"?next={next_path}" if next_path else "")
    return client.post(url, data={"username": username, "password": password})


def account(app, username):
    with app.app_context():
        return db.session.scalar(select(AdminAccount).where(AdminAccount.username == username))


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/users?q=alice")
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in?next=%2Fusers%3Fq%3Dalice"
    page = client.get("/sign-in")
    assert page.status_code == 200 and 'name="password"' in page.get_data(as_text=True)


def test_signing_in_opens_the_console_and_is_audited(app, client, make_account):
    make_account("boss")

    response = post_sign_in(client, "boss", PASSWORD)

    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "Dashboard" in client.get("/").get_data(as_text=True)
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "console.sign_in"))
        assert (event.actor_type, event.actor, event.source_address) == ("console", "boss", "127.0.0.1")
    assert account(app, "boss").last_sign_in_at is not None


def lock_out(app, username, address="127.0.0.1", minutes=5):
    """A lock on `username` for `address` (the test client's by default), as ten failures leave it."""
    with app.app_context():
        now = utcnow()
        db.session.add(
            SignInFailure(
                username=username, address=address, failed_at=now, locked_until=now + timedelta(minutes=minutes)
            )
        )
        db.session.commit()


@pytest.mark.parametrize(
    "username, password, fields, locked",
    [
        ("boss", "wrong password", {}, False),
        ("nobody", PASSWORD, {}, False),
        ("boss", PASSWORD, {"active": False}, False),
        ("boss", PASSWORD, {}, True),
        ("", "", {}, False),
    ],
    ids=["wrong password", "unknown user", "disabled", "locked", "blank"],
)
def test_every_failure_says_the_same_and_signs_nobody_in(app, client, make_account, username, password, fields, locked):
    make_account("boss", **fields)
    if locked:
        lock_out(app, "boss")

    response = post_sign_in(client, username, password)

    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert SIGN_IN_REFUSED in text or "This field is required." in text
    assert client.get("/").status_code == 302


def test_an_unknown_username_costs_a_password_check_too(client, monkeypatch):
    checked = []
    original = accounts.check_password_hash
    monkeypatch.setattr(accounts, "check_password_hash", lambda *args: checked.append(args) or original(*args))

    post_sign_in(client, "nobody", "whatever")

    assert len(checked) == 1


def test_ten_failures_lock_the_account_for_that_address_for_15_minutes_with_the_same_message(app, client, make_account):
    make_account("boss")
    for _ in range(10):
        assert SIGN_IN_REFUSED in post_sign_in(client, "boss", "wrong password").get_data(as_text=True)

    refused = post_sign_in(client, "boss", PASSWORD)

    assert SIGN_IN_REFUSED in refused.get_data(as_text=True) and client.get("/").status_code == 302
    with app.app_context():
        lock = db.session.scalar(select(SignInFailure).where(SignInFailure.locked_until.is_not(None)))
        assert lock.address == "127.0.0.1"
        assert timedelta(minutes=14) < lock.locked_until - utcnow() <= timedelta(minutes=15)
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "console.lock"))
        assert event.details == {"username": "boss", "address": "127.0.0.1", "minutes": 15}
        assert event.source_address == "127.0.0.1"
        lock.locked_until = utcnow() - timedelta(seconds=1)  # the 15 minutes are over
        db.session.commit()
    assert post_sign_in(client, "boss", PASSWORD).status_code == 302


def test_nine_failures_then_success_reset_the_count(app, client, make_account):
    make_account("boss")
    for _ in range(9):
        post_sign_in(client, "boss", "wrong password")
    assert post_sign_in(client, "boss", PASSWORD).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(SignInFailure)) == 0


def test_sign_out_kills_the_session_on_the_server_so_a_copied_cookie_fails(app, make_account, sign_in):
    make_account("boss")
    browser = sign_in("boss")
    thief = app.test_client()
    cookie = browser.get_cookie("session")
    thief.set_cookie("session", cookie.value)
    assert thief.get("/").status_code == 200

    signed_out = browser.post("/sign-out")

    assert signed_out.status_code == 302 and signed_out.headers["Location"] == "/sign-in"
    assert browser.get("/").status_code == 302
    assert thief.get("/").status_code == 302


def test_disabling_an_account_signs_it_out_at_its_next_request(app, make_account, sign_in):
    make_account("boss")
    client = sign_in("boss")
    with app.app_context():
        db.session.scalar(select(AdminAccount)).active = False
        db.session.commit()
    assert client.get("/").status_code == 302


def test_a_console_session_ends_after_twelve_hours(app, make_account, sign_in):
    from datetime import timedelta

    from sqlalchemy import update

    from console.models import ConsoleSession, utcnow

    make_account("boss")
    client = sign_in("boss")
    assert client.get("/").status_code == 200
    with app.app_context():
        db.session.execute(update(ConsoleSession).values(created_at=utcnow() - timedelta(hours=12, seconds=1)))
        db.session.commit()
    assert client.get("/").status_code == 302


@pytest.mark.parametrize(
    "target, expected",
    [
        ("/users", "/users"),
        ("/users?q=a", "/users?q=a"),
        ("//evil.com", "/"),
        ("http://evil.com", "/"),
        ("https://evil.com/users", "/"),
        ("/\\evil.com", "/"),
        ("evil.com", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_next_goes_only_to_local_paths(client, make_account, target, expected):
    make_account("boss")
    response = client.post("/sign-in", query_string={"next": target}, data={"username": "boss", "password": PASSWORD})
    assert response.headers["Location"] == expected


def test_csrf_is_required_when_it_is_on(app, client, make_account):
    app.config["WTF_CSRF_ENABLED"] = True
    make_account("boss")

    refused = post_sign_in(client, "boss", PASSWORD)
    page = client.get("/sign-in").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    accepted = client.post("/sign-in", data={"username": "boss", "password": PASSWORD, "csrf_token": token})
    sign_out_without_token = client.post("/sign-out")

    assert refused.status_code == 400
    assert accepted.status_code == 302
    assert sign_out_without_token.status_code == 400 and client.get("/").status_code == 200


def test_sign_in_is_rate_limited_per_address(app, client, make_account):
    app.config["RATELIMIT_SIGN_IN"] = "3 per minute"
    make_account("boss")
    answers = [post_sign_in(client, "boss", "wrong password").status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    assert client.get("/sign-in").status_code == 200  # only attempts are limited


def test_session_cookies_are_httponly_lax_and_secure_outside_the_demo(app, client, make_account):
    app.config["SESSION_COOKIE_SECURE"] = True  # the production default (console tests run over http)
    make_account("boss")
    cookie = post_sign_in(client, "boss", PASSWORD).headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie


def test_a_signed_in_visitor_is_sent_from_sign_in_to_the_dashboard(admin):
    assert admin.get("/sign-in").headers["Location"] == "/"
