"""Two-factor sign-in in Chromium, the way people meet it: setting it up, signing in with a code or a recovery
code, a replayed code refused, an admin resetting a lost second factor, and REQUIRE_2FA's set-up at sign-in.

Codes are computed with pyotp from the key the page shows, at the clock the test holds (tests/totp.py)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from console.extensions import db
from console.models import AdminAccount
from console.services.console_accounts import CODE_REFUSED
from console.services.two_factor import STEP_SECONDS
from tests.browser.watch import PageWatch
from tests.helpers import PASSWORD, cheap_hash
from tests.totp import clock_fixture, code_at  # noqa: F401  (the clock fixture)


@pytest.fixture
def accounts(live_app):
    """The admins `boss` and `chief`."""
    with live_app.app_context():
        for name in ("boss", "chief"):
            db.session.add(AdminAccount(username=name, role="admin", password_hash=cheap_hash(PASSWORD)))
        db.session.commit()


def new_page(browser, live_app):
    """Another browser (its own cookies), watched for errors like the `page` fixture's."""
    context = browser.new_context(base_url=live_app.live_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.watch = PageWatch(page)
    return page


def enter_password(page, username="boss"):
    page.goto("/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def enter_code(page, code):
    expect(page.get_by_role("heading", name="Two-factor sign-in")).to_be_visible()
    page.get_by_label("Authentication code").fill(code)
    page.get_by_role("button", name="Verify").click()


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()


def read_key_and_confirm(page, clock) -> tuple[str, list[str]]:
    """On a set-up page: read the key, type the app's code; then read the recovery codes shown once."""
    expect(page.get_by_role("img", name="QR code to scan with an authenticator app")).to_be_visible()
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    page.get_by_label("Code from the app").fill(code_at(secret, clock.now))
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    codes = page.locator("#recovery-codes code").all_inner_texts()
    assert len(codes) == 10 and secret not in page.content()
    clock.advance(STEP_SECONDS)  # the set-up's code is spent: the app shows the next one
    return secret, codes


def enrol_from_account_page(page, clock) -> tuple[str, list[str]]:
    """Sign in as boss with the password and set up two-factor sign-in from the account page."""
    enter_password(page)
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    page.get_by_role("link", name="boss").click()  # the menu's link to one's own account
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    page.get_by_role("link", name="Set up two-factor sign-in").click()
    secret, codes = read_key_and_confirm(page, clock)
    page.get_by_role("link", name="I have saved them: continue").click()
    expect(page.get_by_text("10 of 10 recovery codes left")).to_be_visible()
    return secret, codes


def test_enrol_from_the_account_page(page, live_app, accounts, clock):
    secret, _ = enrol_from_account_page(page, clock)

    expect(page.locator(".badge", has_text="on")).to_be_visible()
    assert secret not in page.content()
    page.goto("/account/two-factor")
    expect(page).to_have_url(re.compile(r"/account$"))  # set up once: the key is never shown again
    assert secret not in page.content()


def test_sign_in_with_a_code(page, live_app, accounts, clock):
    secret, _ = enrol_from_account_page(page, clock)
    sign_out(page)

    page.goto("/users")
    enter_password(page)
    page.goto("/users")  # between the steps nothing is open yet
    expect(page).to_have_url(re.compile(r"/sign-in\?next="))
    enter_password(page)
    enter_code(page, code_at(secret, clock.now))

    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def test_sign_in_with_a_recovery_code_once(page, live_app, accounts, clock):
    _, codes = enrol_from_account_page(page, clock)
    sign_out(page)

    enter_password(page)
    enter_code(page, codes[4])
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    page.get_by_role("link", name="boss").click()
    expect(page.get_by_text("9 of 10 recovery codes left")).to_be_visible()
    sign_out(page)

    enter_password(page)
    enter_code(page, codes[4])
    expect(page.get_by_text(CODE_REFUSED)).to_be_visible()
    expect(page.get_by_role("heading", name="Two-factor sign-in")).to_be_visible()


def test_a_replayed_code_is_refused(page, live_app, accounts, clock, browser):
    secret, _ = enrol_from_account_page(page, clock)
    sign_out(page)
    code = code_at(secret, clock.now)
    enter_password(page)
    enter_code(page, code)
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

    # someone who saw the code types it in another browser within its window
    other = new_page(browser, live_app)
    try:
        enter_password(other)
        enter_code(other, code)
        expect(other.get_by_text(CODE_REFUSED)).to_be_visible()
        clock.advance(STEP_SECONDS)
        enter_code(other, code)  # still within the drift a step later: refused all the same
        expect(other.get_by_text(CODE_REFUSED)).to_be_visible()
        enter_code(other, code_at(secret, clock.now))  # the app's next code works
        expect(other.get_by_role("heading", name="Dashboard")).to_be_visible()
        assert other.watch.errors == []
    finally:
        other.context.close()


def test_an_admin_resets_a_lost_second_factor(page, live_app, accounts, clock, browser):
    enrol_from_account_page(page, clock)  # boss, still signed in here; then the phone is lost
    chief = new_page(browser, live_app)
    try:
        enter_password(chief, "chief")
        chief.get_by_role("link", name="Accounts").click()
        row = chief.locator("tbody tr", has_text="boss")
        expect(row.locator(".badge", has_text="2FA")).to_be_visible()
        row.get_by_role("button", name="Reset 2FA").click()  # confirmed in the dialog
        expect(chief.get_by_text("Reset the second factor of boss")).to_be_visible()
        expect(chief.locator("tbody tr", has_text="boss").locator(".badge", has_text="2FA")).to_have_count(0)
        chief.get_by_role("link", name="Audit log").click()
        expect(chief.locator("tbody tr").first).to_contain_text("admin.two_factor_reset")
        assert chief.watch.errors == []
    finally:
        chief.context.close()

    page.goto("/users")  # boss's open session ended
    expect(page).to_have_url(re.compile(r"/sign-in"))
    enter_password(page)  # the password alone, until boss sets up a new one
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def test_require_2fa_sets_up_a_second_factor_at_sign_in(page, live_app, accounts, clock):
    live_app.config["REQUIRE_2FA"] = True

    enter_password(page)
    expect(page.get_by_text("This console requires two-factor sign-in")).to_be_visible()
    read_key_and_confirm(page, clock)
    page.get_by_role("link", name="I have saved them: continue").click()

    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
