"""Two-factor sign-in in the console: the code after the password, recovery codes, wrong codes counted toward the
lockout, REQUIRE_2FA, one's own account page, an admin's reset; roles and CSRF."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from console.extensions import db
from console.models import AdminAccount, AuditEvent, ConsoleSession, RecoveryCode, SecondFactor, SignInFailure
from console.services import console_accounts as accounts
from console.services import two_factor
from console.services.console_accounts import CODE_REFUSED, REAUTH_REFUSED, SIGN_IN_REFUSED
from tests.helpers import PASSWORD, cheap_hash
from tests.totp import clock_fixture, code_at, enrol  # noqa: F401  (the clock fixture)

ATTACKER, OWNER = "203.0.113.9", "198.51.100.7"
STEP = two_factor.STEP_SECONDS


@pytest.fixture(autouse=True)
def many_attempts_allowed(app):
    """Lockout tests make many attempts from one address: the per-address rate limit has its own test."""
    app.config["RATELIMIT_SIGN_IN"] = "10000 per minute"


@pytest.fixture
def waits(monkeypatch):
    """The account-wide delays sign-in waited, recorded instead of waited."""
    seen: list[float] = []
    monkeypatch.setattr(accounts, "pause", seen.append)
    return seen


@pytest.fixture
def boss(app, make_account, clock):
    """The admin `boss` with two-factor sign-in on: (account id, secret, recovery codes)."""
    account_id = make_account("boss")
    secret, codes = enrol(app, account_id, clock)
    return account_id, secret, codes


def browser(app, address="127.0.0.1"):
    """A fresh browser at `address`."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def password_step(client, username="boss", password=PASSWORD, next_path=None):
    url = "/sign-in" + (f"?next={next_path}" if next_path else "")
    return client.post(url, data={"username": username, "password": password})


def code_step(client, code):
    return client.post("/sign-in/code", data={"code": code})


def signed_in(client) -> bool:
    return client.get("/account").status_code == 200


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_a_password_alone_does_not_sign_in_an_account_with_a_second_factor(app, boss):
    client = browser(app)

    response = password_step(client)

    assert response.status_code == 302 and response.headers["Location"] == "/sign-in/code"
    assert not signed_in(client)
    assert count(app, ConsoleSession) == 0 and "console.sign_in" not in actions(app)
    page = client.get("/sign-in/code").get_data(as_text=True)
    assert "Authentication code" in page and 'autocomplete="one-time-code"' in page


def test_the_code_signs_in_and_goes_where_next_says(app, boss, clock):
    _, secret, _ = boss
    client = browser(app)
    password_step(client, next_path="/users")

    response = code_step(client, code_at(secret, clock.now))

    assert response.status_code == 302 and response.headers["Location"] == "/users"
    assert signed_in(client)
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "console.sign_in"))
        assert (event.actor, event.details) == ("boss", {"secondFactor": "authenticator"})
        assert db.session.get(AdminAccount, boss[0]).last_sign_in_at is not None


def test_a_recovery_code_signs_in_once(app, boss):
    _, _, codes = boss
    first = browser(app)
    password_step(first)
    assert code_step(first, codes[3]).status_code == 302 and signed_in(first)

    second = browser(app)
    password_step(second)
    refused = code_step(second, codes[3])

    assert refused.status_code == 200 and CODE_REFUSED in refused.get_data(as_text=True)
    assert not signed_in(second)
    assert actions(app).count("console.recovery_code_use") == 1


@pytest.mark.parametrize("case", ["wrong", "replayed", "used recovery code", "another account's", "locked"])
def test_every_code_refusal_says_the_same_and_signs_nobody_in(app, make_account, boss, clock, case):
    _, secret, codes = boss
    code = code_at(secret, clock.now)
    if case == "wrong":
        code = "000000" if code != "000000" else "111111"
    elif case == "replayed":
        password_step(earlier := browser(app))
        assert code_step(earlier, code).status_code == 302
    elif case == "used recovery code":
        code = codes[0]
        password_step(earlier := browser(app))
        assert code_step(earlier, code).status_code == 302
    elif case == "another account's":
        other_secret, _ = enrol(app, make_account("other"), clock)
        code = code_at(other_secret, clock.now)
    client = browser(app)
    password_step(client)
    if case == "locked":
        for _ in range(10):
            code_step(client, "000000" if code != "000000" else "111111")

    refused = code_step(client, code)

    text = refused.get_data(as_text=True)
    assert refused.status_code == 200 and CODE_REFUSED in text
    assert not signed_in(client)


def test_ten_wrong_codes_lock_the_address_out_like_wrong_passwords(app, boss, clock, waits):
    _, secret, _ = boss
    attacker = browser(app, ATTACKER)
    assert password_step(attacker).status_code == 302  # the attacker knows the password
    for _ in range(10):
        assert code_step(attacker, "000000" if code_at(secret, clock.now) != "000000" else "111111").status_code == 200

    assert count(app, SignInFailure, SignInFailure.username == "boss", SignInFailure.address == ATTACKER) == 10
    assert count(app, SignInFailure, SignInFailure.locked_until.is_not(None)) == 1
    assert "console.lock" in actions(app)
    # locked: the right code is refused all the same, and is not spent
    right = code_at(secret, clock.now)
    assert CODE_REFUSED in code_step(attacker, right).get_data(as_text=True) and not signed_in(attacker)
    again = password_step(browser(app, ATTACKER))
    assert again.status_code == 200 and SIGN_IN_REFUSED in again.get_data(as_text=True)
    # the owner, from elsewhere, signs in with that very code
    owner = browser(app, OWNER)
    password_step(owner)
    assert code_step(owner, right).status_code == 302 and signed_in(owner)
    assert waits == []


def test_wrong_passwords_and_wrong_codes_add_up(app, boss, clock):
    _, secret, _ = boss
    attacker = browser(app, ATTACKER)
    for _ in range(5):
        password_step(attacker, password="wrong password")
    password_step(attacker)  # right: it forgives nothing while a code is still to come
    assert count(app, SignInFailure) == 5
    for _ in range(5):
        code_step(attacker, "000000" if code_at(secret, clock.now) != "000000" else "111111")

    assert count(app, SignInFailure, SignInFailure.locked_until.is_not(None)) == 1
    assert CODE_REFUSED in code_step(attacker, code_at(secret, clock.now)).get_data(as_text=True)


def test_the_right_code_forgives_this_address_its_failures(app, boss, clock):
    _, secret, _ = boss
    client = browser(app)
    password_step(client, password="wrong password")
    password_step(client)
    code_step(client, "000000" if code_at(secret, clock.now) != "000000" else "111111")
    assert count(app, SignInFailure) == 2

    assert code_step(client, code_at(secret, clock.now)).status_code == 302
    assert count(app, SignInFailure) == 0


def test_code_guesses_slow_the_account_for_everyone(app, boss, clock, waits):
    _, secret, _ = boss
    for address in range(6):  # 30 wrong codes from six addresses: none is locked, the account is slowed
        client = browser(app, f"192.0.2.{address}")
        password_step(client)
        for _ in range(5):
            code_step(client, "000000" if code_at(secret, clock.now) != "000000" else "111111")
    waits.clear()

    owner = browser(app, OWNER)
    password_step(owner)
    assert code_step(owner, code_at(secret, clock.now)).status_code == 302
    assert waits == pytest.approx([1.0, 1.0])  # the password step and the code step each wait


def test_the_second_step_expires_after_five_minutes(app, boss, clock):
    _, secret, _ = boss
    client = browser(app)
    password_step(client)
    clock.advance(5 * 60 + 1)

    response = code_step(client, code_at(secret, clock.now))

    assert response.status_code == 302 and response.headers["Location"] == "/sign-in"
    assert "Sign in again" in client.get("/sign-in").get_data(as_text=True)
    assert not signed_in(client) and count(app, ConsoleSession) == 0
    assert client.get("/sign-in/code").headers["Location"] == "/sign-in"  # the state is gone


@pytest.mark.parametrize("change", ["new password", "disabled", "second factor reset"])
def test_a_change_to_the_account_voids_a_second_step_under_way(app, boss, clock, change):
    _, secret, codes = boss
    client = browser(app)
    password_step(client)
    with app.app_context():
        account = db.session.get(AdminAccount, boss[0])
        if change == "new password":
            account.password_hash = cheap_hash("another long password")
            db.session.commit()
        elif change == "disabled":
            account.active = False
            db.session.commit()
        else:
            accounts.reset_second_factor(account)

    code_step(client, codes[0])
    code_step(client, code_at(secret, clock.now))

    assert not signed_in(client) and count(app, ConsoleSession) == 0


@pytest.mark.parametrize("path", ["/sign-in/code", "/sign-in/enrol"])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_the_second_steps_without_a_password_go_back_to_sign_in(app, boss, path, method):
    client = browser(app)
    response = client.open(path, method=method, data={"code": boss[2][0]})
    assert response.status_code == 302 and response.headers["Location"] == "/sign-in"
    assert not signed_in(client) and count(app, ConsoleSession) == 0


def test_a_code_step_cannot_be_used_as_the_set_up_step(app, boss, clock):
    app.config["REQUIRE_2FA"] = True
    client = browser(app)
    password_step(client)
    assert client.get("/sign-in/enrol").headers["Location"] == "/sign-in"


def test_the_code_step_is_rate_limited_per_address(app, boss):
    app.config["RATELIMIT_SIGN_IN"] = "3 per minute"
    client = browser(app)
    password_step(client)
    answers = [code_step(client, "000000").status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]


# --- REQUIRE_2FA ---------------------------------------------------------------------------------------------


def secret_on(page: str) -> str:
    """The key an enrolment page shows as text."""
    match = re.search(r'<code id="totp-secret"[^>]*>([A-Z2-7 ]+)</code>', page)
    assert match, "no key on the page"
    return match.group(1).replace(" ", "")


def test_require_2fa_makes_an_account_set_up_a_second_factor_before_any_page(app, make_account, clock):
    app.config["REQUIRE_2FA"] = True
    make_account("boss")
    client = browser(app)

    response = password_step(client, next_path="/users")
    assert response.headers["Location"] == "/sign-in/enrol"
    page = client.get("/sign-in/enrol").get_data(as_text=True)
    assert "requires two-factor sign-in" in page and 'src="data:image/svg+xml' in page
    secret = secret_on(page)
    assert client.get("/").headers["Location"].startswith("/sign-in")  # not signed in yet

    wrong = client.post("/sign-in/enrol", data={"code": code_at(secret, clock.now, 3)})
    assert wrong.status_code == 400 and two_factor.CODE_MISMATCH in wrong.get_data(as_text=True)
    assert secret_on(wrong.get_data(as_text=True)) == secret  # the same key: the app already holds it
    assert count(app, SignInFailure) == 0  # a set-up code guesses no secret: not a failed sign-in

    done = client.post("/sign-in/enrol", data={"code": code_at(secret, clock.now)})

    text = done.get_data(as_text=True)
    assert done.status_code == 200 and "only time they are shown" in text
    assert len(re.findall(r"<li class=\"col\"><code>[0-9a-f]{5}(?:-[0-9a-f]{5}){3}</code></li>", text)) == 10
    assert 'href="/users"' in text and secret not in text
    assert signed_in(client)
    assert actions(app) == ["console.two_factor_enrol", "console.sign_in"]
    # the next sign-in asks for a code
    later = browser(app)
    assert password_step(later).headers["Location"] == "/sign-in/code"


def test_require_2fa_sends_an_open_session_without_a_second_factor_to_set_one_up(app, admin, clock):
    app.config["REQUIRE_2FA"] = True

    for path in ("/", "/users", "/account", "/accounts"):
        response = admin.get(path)
        assert response.status_code == 302 and response.headers["Location"] == "/account/two-factor", path
    page = admin.get("/account/two-factor").get_data(as_text=True)
    secret = secret_on(page)
    assert admin.post("/account/two-factor", data={"code": code_at(secret, clock.now)}).status_code == 200

    assert admin.get("/").status_code == 200


def test_require_2fa_still_asks_an_enrolled_account_for_its_code(app, boss):
    app.config["REQUIRE_2FA"] = True
    assert password_step(browser(app)).headers["Location"] == "/sign-in/code"


# --- one's own account -----------------------------------------------------------------------------------------


def test_every_role_sets_up_its_own_second_factor_from_its_account_page(app, make_account, sign_in, clock):
    make_account("helper", "support")
    client = sign_in("helper")
    other_browser = sign_in("helper")

    account_page = client.get("/account").get_data(as_text=True)
    assert "Set up two-factor sign-in" in account_page
    assert 'href="/account"' in client.get("/").get_data(as_text=True)  # the menu links to it
    page = client.get("/account/two-factor")
    assert page.status_code == 200 and 'autocomplete="one-time-code"' in page.get_data(as_text=True)
    secret = secret_on(page.get_data(as_text=True))
    assert client.post("/account/two-factor", data={"code": "123"}).status_code == 400

    done = client.post("/account/two-factor", data={"code": code_at(secret, clock.now)})

    assert done.status_code == 200 and "only time they are shown" in done.get_data(as_text=True)
    assert signed_in(client) and not signed_in(other_browser)  # the sessions begun without it end
    after = client.get("/account").get_data(as_text=True)
    assert "10 of 10 recovery codes left" in after
    assert client.get("/account/two-factor").headers["Location"] == "/account"
    for path in ("/account", "/account/two-factor", "/"):
        assert secret not in client.get(path, follow_redirects=True).get_data(as_text=True)


def test_the_secret_is_never_in_a_log_line(app, make_account, sign_in, clock, caplog):
    make_account("boss")
    client = sign_in("boss")
    secret = secret_on(client.get("/account/two-factor").get_data(as_text=True))
    client.post("/account/two-factor", data={"code": code_at(secret, clock.now)})
    clock.advance(STEP)
    password_step(again := browser(app))
    code_step(again, code_at(secret, clock.now))

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "/sign-in/code" in logged and secret not in logged and code_at(secret, clock.now) not in logged


def test_turning_ones_own_second_factor_off_takes_the_password_and_a_code(app, boss, clock, sign_in):
    _, secret, codes = boss
    client = browser(app)
    password_step(client)
    code_step(client, codes[0])
    clock.advance(STEP)

    for password, code in (("wrong password", code_at(secret, clock.now)), (PASSWORD, "000000")):
        refused = client.post("/account/two-factor/disable", data={"disable-password": password, "disable-code": code})
        assert refused.status_code == 400 and REAUTH_REFUSED in refused.get_data(as_text=True)
    assert count(app, SignInFailure) == 2  # each counts as a failed sign-in
    assert count(app, SecondFactor) == 1

    turned_off = client.post(
        "/account/two-factor/disable", data={"disable-password": PASSWORD, "disable-code": code_at(secret, clock.now)}
    )

    assert turned_off.status_code == 302
    assert "Two-factor sign-in is off." in client.get("/account").get_data(as_text=True)
    assert count(app, SecondFactor) == 0 and "console.two_factor_disable" in actions(app)
    assert password_step(browser(app)).headers["Location"] == "/"  # the password alone again


def test_where_2fa_is_required_nobody_turns_their_own_off(app, boss, clock):
    _, secret, codes = boss
    app.config["REQUIRE_2FA"] = True
    client = browser(app)
    password_step(client)
    code_step(client, codes[0])
    assert "requires two-factor sign-in" in client.get("/account").get_data(as_text=True)

    refused = client.post("/account/two-factor/disable", data={"disable-password": PASSWORD, "disable-code": codes[1]})

    assert refused.status_code == 400 and count(app, SecondFactor) == 1


def test_new_recovery_codes_from_the_account_page(app, boss, clock):
    _, secret, codes = boss
    client = browser(app)
    password_step(client)
    code_step(client, codes[0])
    clock.advance(STEP)

    assert client.post("/account/recovery-codes", data={"renew-code": codes[1]}).status_code == 400
    renewed = client.post("/account/recovery-codes", data={"renew-code": code_at(secret, clock.now)})

    assert renewed.status_code == 200
    new = re.findall(r"<code>([0-9a-f-]{23})</code>", renewed.get_data(as_text=True))
    assert len(new) == 10 and set(new).isdisjoint(codes)


# --- an admin's reset ------------------------------------------------------------------------------------------


def test_an_admin_resets_a_lost_second_factor_ending_its_sessions_and_locks(app, boss, clock, sign_in, make_account):
    _, secret, codes = boss
    owner = browser(app)
    password_step(owner)
    code_step(owner, codes[0])
    for _ in range(10):  # and someone guessed codes from there
        password_step(attacker := browser(app, ATTACKER))
        code_step(attacker, "000000" if code_at(secret, clock.now) != "000000" else "111111")
    make_account("chief")
    chief = sign_in("chief")
    accounts_page = chief.get("/accounts").get_data(as_text=True)
    assert "2FA" in accounts_page and f"/accounts/{boss[0]}/two-factor/reset" in accounts_page
    assert re.search(rf'<form[^>]*action="/accounts/{boss[0]}/two-factor/reset" data-confirm="Reset', accounts_page)

    response = chief.post(f"/accounts/{boss[0]}/two-factor/reset")

    assert response.status_code == 302
    assert "Reset the second factor of boss" in chief.get("/accounts").get_data(as_text=True)
    assert not signed_in(owner)
    assert count(app, SecondFactor) == 0 and count(app, SignInFailure) == 0
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "admin.two_factor_reset"))
        assert (event.actor, event.details) == ("chief", {"username": "boss"})
    assert password_step(browser(app, ATTACKER)).headers["Location"] == "/"


def test_an_admin_cannot_reset_their_own_or_a_missing_second_factor(app, boss, clock, make_account, sign_in):
    _, _, codes = boss
    client = browser(app)
    password_step(client)
    code_step(client, codes[0])
    own = client.post(f"/accounts/{boss[0]}/two-factor/reset", follow_redirects=True).get_data(as_text=True)
    assert "on your account page" in own and count(app, SecondFactor) == 1

    other = make_account("other")
    missing = client.post(f"/accounts/{other}/two-factor/reset", follow_redirects=True).get_data(as_text=True)
    assert "other has no second factor." in missing
    assert "admin.two_factor_reset" not in actions(app)


def test_support_cannot_reset_a_second_factor(app, boss, support):
    assert support.post(f"/accounts/{boss[0]}/two-factor/reset").status_code == 403
    assert count(app, SecondFactor) == 1


# --- CSRF --------------------------------------------------------------------------------------------------------


def csrf_token(page: str) -> str:
    return page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]


def test_the_two_factor_forms_need_their_csrf_token(app, make_account, clock):
    app.config["WTF_CSRF_ENABLED"] = True
    account_id = make_account("boss")
    secret, codes = enrol(app, account_id, clock)
    client = browser(app)
    client.post(
        "/sign-in",
        data={
            "username": "boss",
            "password": PASSWORD,
            "csrf_token": csrf_token(client.get("/sign-in").get_data(as_text=True)),
        },
    )

    assert code_step(client, code_at(secret, clock.now)).status_code == 400
    token = csrf_token(client.get("/sign-in/code").get_data(as_text=True))
    assert client.post("/sign-in/code", data={"code": codes[0], "csrf_token": token}).status_code == 302
    assert signed_in(client)

    for path, data in (
        ("/account/two-factor/disable", {"disable-password": PASSWORD, "disable-code": codes[1]}),
        ("/account/recovery-codes", {"renew-code": code_at(secret, clock.now)}),
        (f"/accounts/{account_id}/two-factor/reset", {}),
    ):
        assert client.post(path, data=data).status_code == 400, path
    assert count(app, SecondFactor) == 1
    assert count(app, RecoveryCode, RecoveryCode.used_at.is_(None)) == two_factor.RECOVERY_CODES - 1
