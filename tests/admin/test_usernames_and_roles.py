"""A new console account is support unless said otherwise; usernames ignore case, for creating and signing in.

Before: the Accounts page proposed admin, `ADMIN` could be created beside `admin`, and `ADMIN` could not sign in
as `admin`.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from console.errors import Refused
from console.extensions import db
from console.models import AdminAccount, SignInFailure
from console.services import console_accounts as accounts
from tests.helpers import PASSWORD, cheap_hash

NEW = {"username": "helper", "password": "long enough pw", "confirm": "long enough pw"}


def account_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AdminAccount))


def test_the_new_account_form_proposes_support(admin):
    page = admin.get("/accounts").get_data(as_text=True)
    form = page.split('action="/accounts"')[1]
    assert re.search(r'<option selected value="support">support</option>', form)
    assert '<option selected value="admin">' not in form


def test_an_account_created_without_a_role_is_support(app, admin):
    response = admin.post("/accounts", data=NEW)
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(AdminAccount.role).where(AdminAccount.username == "helper")) == "support"


@pytest.mark.parametrize("username", ["BOSS", "Boss", "bOsS"])
def test_a_name_that_differs_only_in_case_cannot_be_created_in_the_console(app, admin, harness, username):
    before = harness.counts()
    response = admin.post("/accounts", data={**NEW, "username": username})
    text = response.get_data(as_text=True)
    assert response.status_code == 400 and "The console account &#39;boss&#39; already has this name" in text
    assert harness.counts() == before


def test_nor_on_the_command_line(app, make_account):
    make_account("admin")
    result = app.test_cli_runner().invoke(args=["create-admin", "ADMIN", "--password-stdin"], input="long enough pw\n")
    assert result.exit_code == 1 and "The console account 'admin' already has this name" in result.output
    assert account_count(app) == 1


def test_the_database_refuses_it_too(app, make_account):
    make_account("admin")
    with app.app_context(), pytest.raises(IntegrityError):
        db.session.add(AdminAccount(username="Admin", role="support", password_hash=cheap_hash(PASSWORD)))
        db.session.commit()


def test_a_parallel_creation_that_wins_the_race_is_a_refusal_not_a_500(app, make_account, monkeypatch):
    make_account("admin")
    monkeypatch.setattr(accounts, "_named", lambda username: None)  # the check ran before the other insert
    with app.app_context(), pytest.raises(Refused) as refused:
        accounts.create_account("ADMIN", "support", "long enough pw")
    assert "already exists (usernames ignore case)" in refused.value.message
    assert account_count(app) == 1


@pytest.mark.parametrize("typed", ["BOSS", "Boss", "boss"])
def test_sign_in_ignores_the_case_of_the_username(app, make_account, typed):
    make_account("Boss")
    response = app.test_client().post("/sign-in", data={"username": typed, "password": PASSWORD})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(AdminAccount.last_sign_in_at)) is not None


def test_failures_typed_in_any_case_count_for_one_account(app, make_account):
    """Ten wrong passwords lock the address whatever the case: cases are no way around the lockout."""
    make_account("ops")
    app.config["RATELIMIT_SIGN_IN"] = "10000 per minute"
    client = app.test_client()
    for n in range(10):
        typed = "OPS" if n % 2 else "Ops"
        client.post("/sign-in", data={"username": typed, "password": "wrong"})
    right = client.post("/sign-in", data={"username": "ops", "password": PASSWORD})
    assert right.status_code == 200  # locked for this address
    with app.app_context():
        assert set(db.session.scalars(select(SignInFailure.username))) == {"ops"}
        assert accounts.locked_for_address("OPS", "127.0.0.1")


def test_the_accounts_page_shows_the_lock_of_a_mixed_case_name(app, admin, make_account):
    make_account("OpsTeam", "support")
    with app.app_context():
        assert accounts.lock_states(["OpsTeam"]) == {}
        db.session.add_all(SignInFailure(username="opsteam", address="192.0.2.1") for _ in range(3))
        db.session.commit()
        assert accounts.lock_states(["OpsTeam"])["OpsTeam"].recent_failures == 3


@pytest.mark.parametrize("command", ["reset-password", "unlock"])
def test_recovery_on_the_command_line_finds_the_account_in_any_case(app, make_account, command):
    make_account("admin")
    result = app.test_cli_runner().invoke(
        args=[command, "ADMIN", "--password-stdin"][: 2 + (command != "unlock")], input="a brand new password\n"
    )
    assert result.exit_code == 0, result.output
