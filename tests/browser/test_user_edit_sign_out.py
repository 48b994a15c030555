"""Support edits a user's profile and signs them out everywhere, in Chromium, and the mini program's token stops."""

from __future__ import annotations

import re
from datetime import timedelta

import requests
from playwright.sync_api import expect

from console.extensions import db
from console.models import AccessToken, AdminAccount, User, utcnow
from console.security.codes import digest, new_secret_value
from tests.helpers import PASSWORD, cheap_hash


def test_support_edits_a_user_and_signs_them_out_everywhere(page, live_app):
    token = new_secret_value()
    with live_app.app_context():
        db.session.add(AdminAccount(username="helper", role="support", password_hash=cheap_hash(PASSWORD)))
        user = User(name="Alice", phone="13800138000")
        db.session.add(user)
        db.session.flush()
        db.session.add(AccessToken(digest=digest(token), user_id=user.id, expires_at=utcnow() + timedelta(hours=1)))
        db.session.commit()
        user_id = user.id

    def me() -> int:
        url = f"{live_app.live_url}/api/v1/me"
        return requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code

    assert me() == 200

    page.goto("/sign-in")
    page.get_by_label("Username").fill("helper")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"/users/{user_id}")

    # a wrong phone is refused next to the field, and what was typed stays
    page.get_by_role("link", name="Edit", exact=True).click()
    page.get_by_label("Name").fill("Alice Liddell")
    page.get_by_label("Phone").fill("12345")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("The phone must be a mobile number")).to_be_visible()
    expect(page.get_by_label("Name")).to_have_value("Alice Liddell")

    page.get_by_label("Phone").fill("+86 139 1234 5678")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved Alice Liddell's name and phone.")).to_be_visible()
    expect(page.get_by_role("heading", name="Alice Liddell")).to_be_visible()
    expect(page.get_by_text("13912345678", exact=True)).to_be_visible()  # the profile's phone

    # sign out everywhere: the page asks first (the watch accepts the dialog), then the token is dead
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    page.get_by_role("button", name="Sign out everywhere").click()
    expect(page.get_by_text("Signed Alice Liddell out everywhere: 1 access token(s) revoked.")).to_be_visible()
    assert dialogs and dialogs[0].startswith("Sign Alice Liddell out everywhere?")
    expect(page.get_by_text("No active access token.")).to_be_visible()
    assert me() == 401

    # the audit log holds both, by the support account
    page.goto(f"/audit?user_id={user_id}")
    rows = page.locator("tbody tr")
    expect(rows.filter(has_text="user.sign_out_everywhere")).to_contain_text(
        "helper console"
    )  # the actor: the account, then its kind
    expect(rows.filter(has_text="user.update")).to_contain_text(re.compile(r"Alice Liddell"))
