"""The lockout an attacker cannot turn on the owner: wrong passwords lock an account for the address they came
from only; the account as a whole is only slowed; every refusal is alike; an admin unlocks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

import console.models.admin_account as admin_account_model
from console.extensions import db
from console.models import AdminAccount, AuditEvent, SignInFailure, utcnow
from console.services import console_accounts as accounts
from console.services.console_accounts import ACCOUNT_DELAY_MAX, SIGN_IN_REFUSED
from tests.helpers import PASSWORD

ATTACKER, OWNER = "203.0.113.9", "198.51.100.7"


@pytest.fixture(autouse=True)
def many_attempts_allowed(app):
    """These tests make many attempts from one address: the per-address rate limit is another test's."""
    app.config["RATELIMIT_SIGN_IN"] = "10000 per minute"


@pytest.fixture
def waits(monkeypatch):
    """The account-wide delays sign-in waited, recorded instead of waited."""
    seen: list[float] = []
    monkeypatch.setattr(accounts, "pause", seen.append)
    return seen


def attempt(app, username, password, address):
    """One sign-in from a fresh browser at `address`: True when it got in."""
    response = app.test_client().post(
        "/sign-in", data={"username": username, "password": password}, environ_base={"REMOTE_ADDR": address}
    )
    if response.status_code != 302:
        assert response.status_code == 200 and SIGN_IN_REFUSED in response.get_data(as_text=True)
    return response.status_code == 302


def add_failures(app, username, count, addresses=1, ago=timedelta(minutes=1)):
    """`count` failures of `username` spread over `addresses` addresses, `ago` ago, none of them locking."""
    with app.app_context():
        for n in range(count):
            db.session.add(
                SignInFailure(username=username, address=f"192.0.2.{n % addresses}", failed_at=utcnow() - ago)
            )
        db.session.commit()


def age(app, by):
    """Move every failure and lock `by` into the past, as if that much time went by."""
    with app.app_context():
        for failure in db.session.scalars(select(SignInFailure)):
            failure.failed_at -= by
            if failure.locked_until is not None:
                failure.locked_until -= by
        db.session.commit()


def failures(app, **where):
    with app.app_context():
        conditions = [getattr(SignInFailure, column) == value for column, value in where.items()]
        return db.session.scalar(select(func.count()).select_from(SignInFailure).where(*conditions))


def test_ten_failures_from_one_address_do_not_keep_the_owner_out(app, make_account, waits):
    make_account("admin")
    for _ in range(10):
        assert not attempt(app, "admin", "wrong password", ATTACKER)

    assert not attempt(app, "admin", PASSWORD, ATTACKER)  # locked for the attacker's address, right password or not
    assert attempt(app, "admin", PASSWORD, OWNER)
    assert waits == []


def test_forty_failures_an_hour_never_keep_the_owner_out_only_slow_them(app, make_account, waits):
    make_account("admin")
    owner_waits = []
    for _ in range(4):  # an hour: ten failures, the lock's 15 minutes, again and again
        for _ in range(10):
            attempt(app, "admin", "wrong password", ATTACKER)
        for _ in range(20):  # knocking on while locked out: neither counted nor extending the lock
            attempt(app, "admin", "wrong password", ATTACKER)
        waits.clear()
        assert attempt(app, "admin", PASSWORD, OWNER)
        owner_waits.append(sum(waits))
        age(app, timedelta(minutes=15))

    # 10, 20, 30, 40 failures within the hour: the first 20 are free, each further one adds 0.1 s
    assert owner_waits == pytest.approx([0, 0, 1.0, 2.0])
    assert failures(app, username="admin") == 40


def test_the_account_as_a_whole_is_slowed_up_to_a_cap_and_never_locked(app, make_account, waits):
    make_account("admin")
    add_failures(app, "admin", 300, addresses=60)  # a botnet: 5 each, so no address is locked

    assert attempt(app, "admin", PASSWORD, OWNER)
    assert waits == [ACCOUNT_DELAY_MAX]


def test_failures_older_than_an_hour_no_longer_slow_the_account(app, make_account, waits):
    make_account("admin")
    add_failures(app, "admin", 300, addresses=60, ago=timedelta(minutes=61))

    assert attempt(app, "admin", PASSWORD, OWNER)
    assert waits == []


@pytest.mark.parametrize(
    "username, password, active",
    [("boss", PASSWORD, True), ("boss", "wrong password", True), ("boss", PASSWORD, False), ("ghost", PASSWORD, True)],
    ids=["right password", "wrong password", "disabled", "a name nobody has"],
)
def test_the_delay_is_the_same_whatever_the_password_and_whoever_the_name(
    app, make_account, waits, username, password, active
):
    make_account("boss", active=active)
    add_failures(app, username, 30, addresses=10)

    attempt(app, username, password, OWNER)

    assert waits == pytest.approx([1.0])


@pytest.mark.parametrize(
    "username, password, active, locked, gets_in",
    [
        ("boss", "wrong password", True, False, False),
        ("ghost", PASSWORD, True, False, False),
        ("boss", PASSWORD, False, False, False),
        ("boss", PASSWORD, True, True, False),
        ("boss", PASSWORD, True, False, True),
    ],
    ids=["wrong password", "a name nobody has", "disabled", "locked for the address", "success"],
)
def test_every_attempt_checks_exactly_one_password_hash(
    app, make_account, monkeypatch, username, password, active, locked, gets_in
):
    make_account("boss", active=active)
    if locked:
        add_failures(app, "boss", 9, ago=timedelta(0))
        attempt(app, "boss", "wrong password", "192.0.2.0")  # the tenth from there: now locked
    checked = []
    for module in (accounts, admin_account_model):
        original = module.check_password_hash
        monkeypatch.setattr(
            module, "check_password_hash", lambda *args, original=original: checked.append(1) or original(*args)
        )

    assert attempt(app, username, password, "192.0.2.0") is gets_in
    assert checked == [1]


def test_a_name_nobody_has_is_counted_and_locked_like_a_real_one_without_flooding_the_audit_log(app):
    for _ in range(10):
        attempt(app, "ghost", "whatever", ATTACKER)

    with app.app_context():
        lock = db.session.scalar(select(SignInFailure).where(SignInFailure.locked_until.is_not(None)))
        assert (lock.username, lock.address) == ("ghost", ATTACKER)
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_a_name_outside_the_username_rule_is_refused_without_a_trace(app):
    for name in ("a", "x" * 65, "bad name", "nul\x00byte"):
        accounts_before = failures(app)
        with app.app_context(), pytest.raises(accounts.SignInRefused):
            accounts.sign_in(name, PASSWORD, ATTACKER)
        assert failures(app) == accounts_before == 0


def test_failures_during_a_lock_neither_count_nor_extend_it(app, make_account):
    make_account("boss")
    for _ in range(10):
        attempt(app, "boss", "wrong password", ATTACKER)
    with app.app_context():
        locked_until = db.session.scalar(
            select(SignInFailure.locked_until).where(SignInFailure.locked_until.is_not(None))
        )

    for _ in range(15):
        attempt(app, "boss", "wrong password", ATTACKER)

    assert failures(app) == 10
    with app.app_context():
        assert db.session.scalars(
            select(SignInFailure.locked_until).where(SignInFailure.locked_until.is_not(None))
        ).all() == [locked_until]


def test_the_failures_that_caused_a_lock_do_not_lock_again_when_it_ends(app, make_account):
    make_account("boss")
    for _ in range(10):
        attempt(app, "boss", "wrong password", ATTACKER)
    age(app, timedelta(minutes=15, seconds=1))

    assert not attempt(app, "boss", "wrong password", ATTACKER)  # a fresh count begins: one failure, no lock
    assert attempt(app, "boss", PASSWORD, ATTACKER)


def test_failures_spread_wider_than_the_window_do_not_lock(app, make_account):
    make_account("boss")
    for _ in range(9):
        attempt(app, "boss", "wrong password", ATTACKER)
    age(app, timedelta(minutes=16))
    attempt(app, "boss", "wrong password", ATTACKER)

    assert attempt(app, "boss", PASSWORD, ATTACKER)


def test_signing_in_forgets_the_failures_of_its_own_address_only(app, make_account):
    make_account("boss")
    for address in (ATTACKER, OWNER):
        for _ in range(3):
            attempt(app, "boss", "wrong password", address)

    assert attempt(app, "boss", PASSWORD, OWNER)
    assert failures(app, address=OWNER) == 0 and failures(app, address=ATTACKER) == 3


def test_an_admin_sees_a_lock_and_lifts_it_from_the_accounts_page(app, admin, make_account, waits):
    helper_id = make_account("helper", "support")
    add_failures(app, "helper", 25, addresses=5)
    for _ in range(10):
        attempt(app, "helper", "wrong password", ATTACKER)
    assert not attempt(app, "helper", PASSWORD, ATTACKER)

    page = admin.get("/accounts").get_data(as_text=True)
    unlocked = admin.post(f"/accounts/{helper_id}/unlock", follow_redirects=True)

    assert "locked from 1 address" in page and "slowed 1.5 s" in page
    assert f'action="/accounts/{helper_id}/unlock"' in page
    assert "Unlocked helper." in unlocked.get_data(as_text=True)
    assert f'action="/accounts/{helper_id}/unlock"' not in unlocked.get_data(as_text=True)
    assert failures(app, username="helper") == 0
    assert attempt(app, "helper", PASSWORD, ATTACKER)
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "admin.unlock"))
        assert (event.actor_type, event.actor, event.details) == (
            "console",
            "boss",
            {"username": "helper", "failures": 35},
        )


def test_unlocking_leaves_other_accounts_locked(app, admin, make_account):
    helper_id = make_account("helper", "support")
    make_account("other", "support")
    for username in ("helper", "other"):
        for _ in range(10):
            attempt(app, username, "wrong password", ATTACKER)

    admin.post(f"/accounts/{helper_id}/unlock")

    assert failures(app, username="helper") == 0 and failures(app, username="other") == 10
    assert not attempt(app, "other", PASSWORD, ATTACKER)


def test_support_cannot_unlock(app, support, make_account):
    boss_id = make_account("boss", "admin")
    for _ in range(10):
        attempt(app, "boss", "wrong password", ATTACKER)

    assert support.post(f"/accounts/{boss_id}/unlock").status_code == 403
    assert failures(app, username="boss") == 10


def test_an_unknown_account_cannot_be_unlocked(admin):
    assert admin.post("/accounts/999/unlock").status_code == 404


def test_a_password_reset_lifts_the_locks_too(app, admin, make_account):
    helper_id = make_account("helper", "support")
    for _ in range(10):
        attempt(app, "helper", "wrong password", ATTACKER)

    admin.post(
        f"/accounts/{helper_id}/password", data={"password": "a new long password", "confirm": "a new long password"}
    )

    assert attempt(app, "helper", "a new long password", ATTACKER)
    with app.app_context():
        assert db.session.scalar(select(AdminAccount.id).where(AdminAccount.username == "helper")) == helper_id
