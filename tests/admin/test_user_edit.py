"""Support edits a user's name and phone (audited before and after), and signs a user out everywhere."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from console.extensions import db
from console.models import AccessToken, AuditEvent, OneTimeCode, User


@pytest.fixture
def method(harness):
    return harness.add_method(name="shopLogin")


@pytest.fixture
def alice(app, harness, method) -> int:
    """Alice, registered through shopLogin, with a phone."""
    user_id = harness.register(method, "alice", name="Alice")["user"]["userId"]
    with app.app_context():
        db.session.get(User, user_id).phone = "13800138000"
        db.session.commit()
    return user_id


def profile(app, user_id: int) -> tuple[str, str | None]:
    with app.app_context():
        user = db.session.get(User, user_id)
        return user.name, user.phone


def audit_events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def test_the_edit_form_shows_the_current_values_and_the_user_page_links_to_it(support, alice):
    assert f'href="/users/{alice}/edit"' in support.get(f"/users/{alice}").get_data(as_text=True)
    page = support.get(f"/users/{alice}/edit").get_data(as_text=True)
    assert 'name="name"' in page and 'value="Alice"' in page and 'value="13800138000"' in page


def test_support_edits_name_and_phone_audited_before_and_after(app, support, harness, method, alice):
    response = support.post(f"/users/{alice}/edit", data={"name": "  Alice Liddell ", "phone": "+1 (415) 555-0123"})

    assert response.status_code == 302 and response.headers["Location"] == f"/users/{alice}"
    assert profile(app, alice) == ("Alice Liddell", "+14155550123")
    [event] = audit_events(app, "user.update")
    assert (event.actor_type, event.actor, event.user_id) == ("console", "helper", alice)
    assert event.details == {
        "changed": ["name", "phone"],
        "before": {"name": "Alice", "phone": "13800138000"},
        "after": {"name": "Alice Liddell", "phone": "+14155550123"},
    }
    page = support.get(f"/users/{alice}").get_data(as_text=True)
    assert "Saved Alice Liddell&#39;s name and phone." in page
    me = harness.get("/me", token=harness.token(method, "alice"))
    assert me.json["user"]["name"] == "Alice Liddell" and me.json["user"]["phone"] == "+14155550123"


@pytest.mark.parametrize(
    "typed, stored",
    [
        ("139 1234 5678", "13912345678"),
        ("+86 139-1234-5678", "13912345678"),  # as WeChat's getPhoneNumber stores a Chinese number
        ("+8613912345678", "13912345678"),
        ("+44 20 7946 0958", "+442079460958"),
        ("", None),  # removed
        ("   ", None),
    ],
)
def test_phone_numbers_are_stored_as_wechat_stores_them(app, support, alice, typed, stored):
    support.post(f"/users/{alice}/edit", data={"name": "Alice", "phone": typed})
    assert profile(app, alice) == ("Alice", stored)
    [event] = audit_events(app, "user.update")
    assert event.details == {"changed": ["phone"], "before": {"phone": "13800138000"}, "after": {"phone": stored}}


def test_saving_unchanged_values_writes_no_audit_event(app, support, alice, unchanged):
    with unchanged():
        response = support.post(f"/users/{alice}/edit", data={"name": "Alice", "phone": "138 0013 8000"})
    assert response.status_code == 302 and audit_events(app, "user.update") == []
    assert "Nothing changed." in support.get(f"/users/{alice}").get_data(as_text=True)


@pytest.mark.parametrize(
    "data, message",
    [
        ({"name": "", "phone": ""}, "This field is required."),
        ({"name": "   ", "phone": ""}, "The name is required (a text of at most 64 characters)"),
        ({"name": "x" * 65, "phone": ""}, "Field cannot be longer than 64 characters."),
        ({"phone": "13800138000"}, "This field is required."),
        ({"name": "Alice", "phone": "12345"}, "The phone must be a mobile number"),
        ({"name": "Alice", "phone": "abc"}, "The phone must be a mobile number"),
        ({"name": "Alice", "phone": "12800138000"}, "The phone must be a mobile number"),  # no Chinese mobile
        ({"name": "Alice", "phone": "138001380001"}, "The phone must be a mobile number"),  # 12 digits
        ({"name": "Alice", "phone": "+0123456789"}, "The phone must be a mobile number"),
        ({"name": "Alice", "phone": "+1234567890123456"}, "The phone must be a mobile number"),  # past E.164
        ({"name": "Alice", "phone": "=1+1"}, "The phone must be a mobile number"),
        ({"name": "Alice", "phone": "1" * 33}, "Field cannot be longer than 32 characters."),
    ],
)
def test_invalid_input_is_shown_on_the_form_naming_the_field_and_changes_nothing(
    app, support, alice, unchanged, data, message
):
    with unchanged():
        response = support.post(f"/users/{alice}/edit", data=data)
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert "is-invalid" in response.get_data(as_text=True)
    assert profile(app, alice) == ("Alice", "13800138000")


def test_a_nul_in_the_name_is_refused_at_the_edge(app, support, alice, unchanged):
    with unchanged():
        response = support.post(f"/users/{alice}/edit", data={"name": "Al\x00ice", "phone": ""})
    assert response.status_code == 400 and profile(app, alice) == ("Alice", "13800138000")


def test_the_edit_needs_its_csrf_token(app, support, alice, unchanged):
    app.config["WTF_CSRF_ENABLED"] = True
    with unchanged():
        response = support.post(f"/users/{alice}/edit", data={"name": "Mallory", "phone": ""})
    assert response.status_code == 400 and profile(app, alice) == ("Alice", "13800138000")


def test_editing_a_missing_user_is_404(support):
    assert support.get("/users/999/edit").status_code == 404
    assert support.post("/users/999/edit", data={"name": "x"}).status_code == 404


def test_admin_edits_too_and_anonymous_visitors_are_sent_to_sign_in(app, admin, alice, unchanged):
    with unchanged():
        anonymous = app.test_client().post(f"/users/{alice}/edit", data={"name": "Mallory"})
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/sign-in")
    assert admin.post(f"/users/{alice}/edit", data={"name": "Alicia", "phone": ""}).status_code == 302
    assert profile(app, alice) == ("Alicia", None)
    assert audit_events(app, "user.update")[0].actor == "boss"


# --- sign out everywhere --------------------------------------------------------------------------------


def test_sign_out_everywhere_stops_every_token_and_pending_login_code(app, support, harness, method, alice):
    phone_token, tablet_token = harness.token(method, "alice"), harness.token(method, "alice")
    pending = harness.login(method, "alice").json["loginCode"]
    bob_token = harness.token(method, "bob")
    assert harness.get("/me", token=phone_token).status_code == 200

    response = support.post(f"/users/{alice}/sign-out-everywhere")

    assert response.status_code == 302 and response.headers["Location"] == f"/users/{alice}"
    assert harness.get("/me", token=phone_token).status_code == 401
    assert harness.get("/me", token=tablet_token).status_code == 401
    assert harness.post("/auth/token", {"loginCode": pending}).json["error"]["code"] == "invalid_login_code"
    assert harness.get("/me", token=bob_token).status_code == 200  # nobody else's
    [event] = audit_events(app, "user.sign_out_everywhere")
    # two loginCodes were pending: the one registering answered, and `pending`
    assert (event.actor, event.user_id, event.details) == ("helper", alice, {"revokedTokens": 2, "voidedCodes": 2})
    page = support.get(f"/users/{alice}").get_data(as_text=True)
    assert "Signed Alice out everywhere: 2 access token(s) revoked." in page and "No active access token." in page
    # not disabled: the next login works
    assert harness.get("/me", token=harness.token(method, "alice")).status_code == 200


def test_the_user_page_asks_before_signing_out_everywhere(support, alice):
    page = support.get(f"/users/{alice}").get_data(as_text=True)
    assert f'action="/users/{alice}/sign-out-everywhere" data-confirm="Sign Alice out everywhere?' in page


def test_sign_out_everywhere_with_nothing_to_revoke_is_still_audited(app, support, harness, method, alice):
    with app.app_context():
        assert db.session.scalar(select(AccessToken).where(AccessToken.user_id == alice)) is None
        db.session.execute(OneTimeCode.__table__.update().values(used_at=OneTimeCode.created_at))
        db.session.commit()
    support.post(f"/users/{alice}/sign-out-everywhere")
    [event] = audit_events(app, "user.sign_out_everywhere")
    assert event.details == {"revokedTokens": 0, "voidedCodes": 0}


def test_sign_out_everywhere_is_a_post_of_a_signed_in_account(app, admin, harness, method, alice, unchanged):
    token = harness.token(method, "alice")
    with unchanged():
        assert app.test_client().post(f"/users/{alice}/sign-out-everywhere").status_code == 302
        assert admin.get(f"/users/{alice}/sign-out-everywhere").status_code == 405
        assert admin.post("/users/999/sign-out-everywhere").status_code == 404
    assert harness.get("/me", token=token).status_code == 200
    assert admin.post(f"/users/{alice}/sign-out-everywhere").status_code == 302
    assert harness.get("/me", token=token).status_code == 401
    assert audit_events(app, "user.sign_out_everywhere")[0].actor == "boss"
