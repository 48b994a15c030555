"""Corps (admins create and rename) and console accounts (admin only; nobody disables or demotes themselves)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from console.errors import Refused
from console.extensions import db
from console.models import AdminAccount, AuditEvent, ConsoleSession, Corp, SignInFailure, utcnow
from console.services import console_accounts as accounts


def test_corps_list_create_and_rename(app, admin, harness):
    assert "No corp yet" in admin.get("/corps").get_data(as_text=True)

    created = admin.post("/corps", data={"slug": "acme", "name": "Acme"})
    with app.app_context():
        corp_id = db.session.scalar(select(Corp.id))
    renamed = admin.post(f"/corps/{corp_id}/rename", data={"name": "Acme Ltd"})

    assert created.status_code == 302 and renamed.status_code == 302
    page = admin.get("/corps").get_data(as_text=True)
    assert "Acme Ltd" in page and "acme" in page
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("corp.%"))).all()
        assert actions == ["corp.create", "corp.rename"]


@pytest.mark.parametrize(
    "data, message",
    [
        ({"slug": "", "name": "Acme"}, "This field is required."),
        ({"slug": "ac me", "name": "Acme"}, "A corpId is 1 to 64 letters"),
        ({"slug": "-acme", "name": "Acme"}, "A corpId is 1 to 64 letters"),
        ({"slug": "taken", "name": "Acme"}, "A corp with the corpId &#39;taken&#39; already exists."),
        ({"slug": "acme", "name": ""}, "This field is required."),
        ({"slug": "acme", "name": "   "}, "A corp name is a text of 1 to 128 characters."),
        ({"slug": "acme", "name": "x" * 129}, "Field cannot be longer than 128 characters."),
    ],
)
def test_a_bad_corp_is_refused_next_to_its_field(admin, harness, data, message):
    harness.add_corp("taken", "Taken")
    before = harness.counts()
    response = admin.post("/corps", data=data)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert harness.counts() == before


def test_a_corp_rename_to_blank_is_refused(admin, harness):
    corp_id = harness.add_corp("acme", "Acme")
    response = admin.post(f"/corps/{corp_id}/rename", data={"name": "  "})
    assert "A corp name is a text of 1 to 128 characters." in response.get_data(as_text=True)


def test_support_sees_corps_without_the_admin_forms(support, harness):
    harness.add_corp("acme", "Acme")
    page = support.get("/corps").get_data(as_text=True)
    assert "Acme" in page and "New corp" not in page and "Rename" not in page


def account_row(app, username) -> AdminAccount:
    with app.app_context():
        return db.session.scalar(select(AdminAccount).where(AdminAccount.username == username))


def test_create_an_account(app, admin, sign_in):
    response = admin.post(
        "/accounts",
        data={"username": "helper", "role": "support", "password": "long enough pw", "confirm": "long enough pw"},
    )
    assert response.status_code == 302
    assert account_row(app, "helper").role == "support"
    assert "helper" in admin.get("/accounts").get_data(as_text=True)
    assert sign_in("helper", "long enough pw").get("/accounts").status_code == 403


@pytest.mark.parametrize(
    "data, message",
    [
        ({"username": "x"}, "A username must be 3 to 64 letters"),
        ({"username": "boss"}, "A console account called &#39;boss&#39; already exists (usernames ignore case)"),
        ({"username": "BOSS"}, "The console account &#39;boss&#39; already has this name (usernames ignore case)"),
        ({"username": ""}, "This field is required."),
        ({"password": "short", "confirm": "short"}, "A password must have at least 10 characters."),
        ({"confirm": "something else"}, "The passwords differ."),
        ({"role": "root"}, "Not a valid choice."),
    ],
)
def test_a_bad_account_is_refused_next_to_its_field(admin, harness, data, message):
    before = harness.counts()
    form = {"username": "helper", "role": "support", "password": "long enough pw", "confirm": "long enough pw", **data}
    response = admin.post("/accounts", data=form)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert harness.counts() == before


USERNAME_RULE = "A username must be 3 to 64 letters, digits or . _ @ -"
PASSWORD_RULE = "A password must have at least 10 characters."
ROLE_RULE = "The role is one of admin, support."


@pytest.mark.parametrize(
    "username, role, password, message, field",
    [
        ("ab", "admin", "long enough pw", USERNAME_RULE, "username"),
        ("a" * 65, "admin", "long enough pw", USERNAME_RULE, "username"),
        ("help er", "admin", "long enough pw", USERNAME_RULE, "username"),
        ("helper\n", "admin", "long enough pw", USERNAME_RULE, "username"),  # $ no longer lets a final newline through
        (None, "admin", "long enough pw", USERNAME_RULE, "username"),
        ("helper", "root", "long enough pw", ROLE_RULE, "role"),
        ("helper", None, "long enough pw", ROLE_RULE, "role"),
        ("helper", "admin", "nine char", PASSWORD_RULE, "password"),
        ("helper", "admin", None, PASSWORD_RULE, "password"),
        ("ab", "root", "short", USERNAME_RULE, "username"),  # the first field's refusal
    ],
)
def test_each_rule_of_a_new_account_refuses_with_its_sentence_and_field(
    app, harness, username, role, password, message, field
):
    before = harness.counts()
    with app.app_context(), pytest.raises(Refused) as refused:
        accounts.create_account(username, role, password)
    assert (refused.value.message, refused.value.field) == (message, field)
    assert harness.counts() == before


def test_a_password_reset_and_a_role_change_follow_the_same_rules(app, make_account):
    helper_id = make_account("helper", "support")
    with app.app_context():
        helper = db.session.get(AdminAccount, helper_id)
        with pytest.raises(Refused) as short:
            accounts.reset_password(helper, "nine char")
        with pytest.raises(Refused) as root:
            accounts.change_role(helper, "root", AdminAccount(id=0))
    assert (short.value.message, short.value.field) == (PASSWORD_RULE, "password")
    assert (root.value.message, root.value.field) == (ROLE_RULE, "role")
    assert account_row(app, "helper").role == "support"


def test_disable_signs_the_account_out_and_enable_lets_it_back(app, admin, make_account, sign_in):
    helper_id = make_account("helper", "support")
    helper = sign_in("helper")

    admin.post(f"/accounts/{helper_id}/disable")
    assert helper.get("/").status_code == 302
    with app.app_context():
        assert (
            db.session.scalar(select(ConsoleSession).where(ConsoleSession.account_id == helper_id)).revoked_at
            is not None
        )

    admin.post(f"/accounts/{helper_id}/enable")
    assert sign_in("helper").get("/").status_code == 200


def test_nobody_disables_or_demotes_themselves(app, admin, harness):
    boss = account_row(app, "boss")
    before = harness.counts()

    disabled = admin.post(f"/accounts/{boss.id}/disable", follow_redirects=True)
    demoted = admin.post(f"/accounts/{boss.id}/role", data={"role": "support"}, follow_redirects=True)

    assert "You cannot disable your own account." in disabled.get_data(as_text=True)
    assert "You cannot change your own role." in demoted.get_data(as_text=True)
    assert harness.counts() == before
    assert (account_row(app, "boss").active, account_row(app, "boss").role) == (True, "admin")


def test_change_the_role_of_another_account(app, admin, make_account, sign_in):
    helper_id = make_account("helper", "support")
    admin.post(f"/accounts/{helper_id}/role", data={"role": "admin"})
    assert account_row(app, "helper").role == "admin"
    assert sign_in("helper").get("/accounts").status_code == 200
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "admin.role"))
        assert (
            event.details == {"username": "helper", "role": "admin", "previousRole": "support"}
            and event.actor == "boss"
        )


def test_reset_password_ends_sessions_and_lifts_a_lock(app, admin, make_account, sign_in):
    helper_id = make_account("helper", "support")
    helper = sign_in("helper")
    with app.app_context():  # locked out from the address every test client signs in from
        now = utcnow()
        db.session.add(
            SignInFailure(
                username="helper", address="127.0.0.1", failed_at=now, locked_until=now + timedelta(minutes=10)
            )
        )
        db.session.commit()

    short = admin.post(f"/accounts/{helper_id}/password", data={"password": "short", "confirm": "short"})
    done = admin.post(
        f"/accounts/{helper_id}/password", data={"password": "a new long password", "confirm": "a new long password"}
    )

    assert "A password must have at least 10 characters." in short.get_data(as_text=True)
    assert done.status_code == 302 and helper.get("/").status_code == 302
    assert sign_in("helper", "a new long password").get("/").status_code == 200
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "admin.password_reset"))
        assert event.details == {"username": "helper"}
