"""Walk the console in Chromium the way an admin would: from signing in to signing out."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from console.extensions import db
from console.models import AdminAccount
from tests.browser.watch import PageWatch
from tests.helpers import PASSWORD, cheap_hash

APP_ID = "wxb0b0b0b0b0b0b0b1"
APP_SECRET = "browser-secret-0123456789abcdef"


def seen_secrets(live_app) -> set[str]:
    """The appSecret and every session_key the in-process simulator handed out."""
    state = live_app.extensions["wechat_simulator"]
    return {APP_SECRET} | set(state.session_keys.values())


def assert_clean(page, live_app):
    """The page's HTML (form values included) holds no secret."""
    html = page.content()
    leaked = {secret for secret in seen_secrets(live_app) if secret in html}
    assert not leaked, f"{page.url} shows a secret"


def test_an_admin_configures_a_mini_program_and_support_work_happens_in_the_browser(page, live_app):
    with live_app.app_context():
        db.session.add(AdminAccount(username="boss", role="admin", password_hash=cheap_hash(PASSWORD)))
        db.session.commit()

    # anonymous -> sign-in; sign in
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/sign-in\?next=%2F$"))
    page.get_by_label("Username").fill("boss")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    assert_clean(page, live_app)

    # create a login method
    page.get_by_role("link", name="Login methods").click()
    page.get_by_role("link", name="New login method").click()
    page.get_by_label("Instance name").fill("shopLogin")
    page.get_by_label("Title").fill("Shop")
    page.get_by_label("appId").fill(APP_ID)
    page.get_by_label("appSecret").fill(APP_SECRET)
    page.get_by_label("Allow registration of new WeChat users").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved the login method shopLogin.")).to_be_visible()
    expect(page.get_by_text("****cdef")).to_be_visible()
    assert_clean(page, live_app)

    # the simulator learns the app on the server; a simulated user logs in, registers, gets a token
    page.get_by_role("link", name="Simulator").click()
    page.get_by_role("button", name="Register with simulator").click()
    expect(page.get_by_text("The simulator now knows Shop")).to_be_visible()
    page.get_by_label("Simulated WeChat user").fill("alice")
    page.get_by_label("Display name when registering").fill("Alice Liddell")
    page.get_by_role("button", name="1. Log in").click()
    expect(page.locator("[data-field=bindCode]")).not_to_have_text("—")
    page.get_by_role("button", name="2. Register").click()
    expect(page.locator("[data-field=loginCode]")).not_to_have_text("—")
    page.get_by_role("button", name="3. Get token").click()
    expect(page.locator("[data-field=accessToken]")).not_to_have_text("—")
    page.get_by_role("button", name="Me").click()
    expect(page.locator(".sim-entry").first).to_contain_text("Alice Liddell")
    expect(page.locator(".sim-entry .badge.text-bg-danger")).to_have_count(0)
    assert_clean(page, live_app)

    # support's work: find the user by openId, unbind with a reason
    openid, _ = live_app.extensions["wechat_simulator"].identity(APP_ID, "alice")
    page.get_by_role("link", name="Users").click()
    page.get_by_label("Search").fill(openid)
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Alice Liddell").click()
    expect(page.locator("code.ident", has_text=openid)).to_be_visible()
    assert_clean(page, live_app)
    page.get_by_role("link", name="Unbind…").click()
    expect(page.get_by_text("Remove the binding of Alice Liddell")).to_be_visible()
    page.get_by_label("Reason").fill("lost phone, ticket 7")
    page.get_by_role("button", name="Unbind").click()
    expect(page.get_by_text("Unbound Alice Liddell from Shop.")).to_be_visible()

    # the audit log shows it, with the actor and the reason
    page.get_by_role("link", name="Audit log").click()
    page.get_by_label("Action").select_option("unbind")
    page.get_by_role("button", name="Filter").click()
    row = page.locator("tbody tr").first
    expect(row.locator("td.actor")).to_contain_text("boss console")
    expect(row.locator("td.reason")).to_have_text("lost phone, ticket 7")

    # a bind ticket, shown once as text and QR code
    row.get_by_role("link", name="Alice Liddell").click()
    page.get_by_role("button", name="Issue bind ticket").click()
    expect(page.locator("#ticket")).to_have_text(re.compile(r"^[A-Za-z0-9_-]{40,}$"))
    expect(page.locator(".qr svg")).to_be_visible()
    assert_clean(page, live_app)

    # sign out: the console is closed again
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    page.goto("/users")
    expect(page).to_have_url(re.compile(r"/sign-in"))


def test_the_console_is_usable_on_a_phone(browser, live_app):
    with live_app.app_context():
        db.session.add(AdminAccount(username="boss", role="admin", password_hash=cheap_hash(PASSWORD)))
        db.session.commit()
    context = browser.new_context(base_url=live_app.live_url, viewport={"width": 390, "height": 844}, is_mobile=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    watch = PageWatch(page)
    try:
        page.goto("/sign-in")
        page.get_by_label("Username").fill("boss")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state("load")  # the menu opens once Bootstrap's script has run
        page.get_by_role("button", name="Menu").click()
        page.get_by_role("link", name="Users").click()
        expect(page.get_by_role("heading", name="Users")).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, "the page scrolls sideways on a phone"
        assert watch.errors == []
    finally:
        context.close()
