"""Support's journey in Chromium: a WeChat user cannot log in (registration closed, a used code, a WeChat block);
support finds them on the Activity page and on their user page, reads why in words, fixes it, and sees the next login
succeed. The mini program is played over HTTP against the live console and its in-process WeChat simulator."""

from __future__ import annotations

import os
import re

import requests
from playwright.sync_api import expect

from console.extensions import db
from console.models import AdminAccount, LoginMethod
from console.services.login_methods import set_app_secret
from tests.helpers import PASSWORD, cheap_hash

REGISTRATION_CLOSED = (
    "This login method does not allow new users; turn on registration or bind the WeChat to an existing"
)
CODE_USED = "The wx.login() code was already used"
BLOCKED = "WeChat blocked this user (errcode 40226"
BAD_REQUEST_NOTE = "console: Failed to load resource: the server responded with a status of 400 (BAD REQUEST)"


class MiniProgram:
    """A phone running the mini program: wx.login() from the simulator's control API, then the console's API."""

    def __init__(self, base_url: str, app_id: str, user: str):
        self.base_url, self.app_id, self.user = base_url, app_id, user

    def wx_login(self, **options) -> str:
        minted = requests.post(
            f"{self.base_url}/_wechat/sim/codes", json={"appId": self.app_id, "user": self.user, **options}, timeout=10
        )
        minted.raise_for_status()
        return minted.json()["code"]

    def call(self, path: str, body: dict, token: str | None = None) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.post(f"{self.base_url}/api/v1{path}", json=body, headers=headers, timeout=10)

    def login(self, method: str, code: str | None = None) -> requests.Response:
        return self.call(f"/wechat-mini/{method}/login", {"code": code or self.wx_login()})


def add_method(live_app, name: str, title: str, app_id: str, allow_register: bool) -> None:
    """A login method the simulator serves (no open platform: a WeChat user is new to each mini program)."""
    secret = f"{name}-secret-0123456789abcdef"
    with live_app.app_context():
        method = LoginMethod(name=name, title=title, app_id=app_id, allow_register=allow_register)
        set_app_secret(method, secret)
        db.session.add(method)
        db.session.commit()
    live_app.extensions["wechat_simulator"].register_app(app_id, secret, None)


def sign_in(page, username: str) -> None:
    page.goto("/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def shoot(page, name: str) -> None:
    """A screenshot for the docs, only when SCREENSHOT_DIR asks for one (never kept by the suite)."""
    directory = os.environ.get("SCREENSHOT_DIR")
    if directory:
        page.screenshot(path=os.path.join(directory, f"{name}.png"), full_page=True)


def event_rows(page):
    return page.locator("ul.login-events > li")


def test_support_finds_why_a_user_cannot_log_in_fixes_it_and_sees_the_next_login_succeed(page, browser, live_app):
    with live_app.app_context():
        db.session.add(AdminAccount(username="helper", role="support", password_hash=cheap_hash(PASSWORD)))
        db.session.add(AdminAccount(username="boss", role="admin", password_hash=cheap_hash(PASSWORD)))
        db.session.commit()
    add_method(live_app, "shopLogin", "Shop", "wx00000000000a0001", allow_register=True)
    add_method(live_app, "blogLogin", "Blog", "wx00000000000a0002", allow_register=False)
    url = live_app.live_url

    # Bob has an account through the shop; on the blog he is a WeChat user the blog has never seen.
    bob_at_shop = MiniProgram(url, "wx00000000000a0001", "bob")
    bind_code = bob_at_shop.login("shopLogin").json()["bindCode"]
    registered = bob_at_shop.call("/wechat-mini/shopLogin/register", {"bindCode": bind_code, "name": "Bob Builder"})
    assert registered.status_code == 201, registered.text
    bob = MiniProgram(url, "wx00000000000a0002", "bob")
    bob_openid = live_app.extensions["wechat_simulator"].identity("wx00000000000a0002", "bob")[0]

    # 1. Bob cannot log in to the blog, three ways.
    code = bob.wx_login()
    closed = bob.login("blogLogin", code)
    replayed = bob.login("blogLogin", code)  # the mini program retries with the code it already sent
    blocked = bob.login("blogLogin", bob.wx_login(errcode=40226))  # WeChat's risk control blocks him
    assert [answer.json()["error"]["code"] for answer in (closed, replayed, blocked)] == [
        "registration_closed",
        "code_used",
        "user_blocked",
    ]

    # 2. Support reads why on the Activity page.
    sign_in(page, "helper")
    page.get_by_role("link", name="Activity").click()
    page.get_by_label("Login method").fill("blogLogin")
    page.get_by_label("Outcome").select_option("failed")
    page.get_by_role("button", name="Filter").click()
    expect(event_rows(page)).to_have_count(3)
    expect(event_rows(page).nth(0)).to_contain_text(BLOCKED)
    expect(event_rows(page).nth(1)).to_contain_text(CODE_USED)
    expect(event_rows(page).nth(2)).to_contain_text(REGISTRATION_CLOSED)
    expect(event_rows(page).nth(2)).to_contain_text(bob_openid)
    shoot(page, "activity")

    # an invalid filter is said on the form, never a blank page
    page.get_by_label("From (UTC)").fill("2026-03-02")
    page.get_by_label("To (UTC)").fill("2026-03-01 23:00")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("The end is before the start: swap the two, or clear one.")).to_be_visible()
    expect(page.get_by_label("To (UTC)")).to_have_class(re.compile(r"\bis-invalid\b"))
    # the page answers 400 (the filter is refused), which Chromium notes on its console: that note and no other
    assert page.watch.errors == [BAD_REQUEST_NOTE]
    page.watch.errors.clear()
    page.get_by_role("link", name="Clear").click()

    # 3. Support finds Bob and gives him a way in: a bind ticket for the blog.
    page.get_by_role("link", name="Users").click()
    page.get_by_label("Search").fill("Bob")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Bob Builder").click()
    bob_page = page.url
    expect(page.locator("#activity").get_by_text("Registered a new account and logged in.")).to_be_visible()
    page.get_by_label("Mini program").select_option(label="Blog")
    page.get_by_role("button", name="Issue bind ticket").click()
    ticket = page.locator("#ticket").inner_text()

    # Bob binds with it, but WeChat still blocks him: his own page now says so.
    still_blocked = bob.call("/wechat-mini/blogLogin/bind", {"code": bob.wx_login(errcode=40226), "ticket": ticket})
    assert still_blocked.json()["error"]["code"] == "user_blocked"
    page.get_by_role("link", name="Back to Bob Builder").click()
    activity = page.locator("#activity")
    expect(activity.locator("li").first).to_contain_text(BLOCKED)
    expect(activity.locator("li").first).to_contain_text("Bind")
    shoot(page, "user-activity")

    # 4. WeChat lifts the block (the simulator's codes come clean again); the bind with the same ticket succeeds,
    # and so does Bob's next login to the blog.
    bound = bob.call("/wechat-mini/blogLogin/bind", {"code": bob.wx_login(), "ticket": ticket})
    assert bound.status_code == 200, bound.text
    assert "loginCode" in bob.login("blogLogin").json()

    page.reload()
    rows = page.locator("#activity li")
    expect(rows.nth(0)).to_contain_text("Logged in.")
    expect(rows.nth(0)).to_contain_text("blogLogin")
    expect(rows.nth(1)).to_contain_text("Bound this WeChat to the account.")
    expect(rows.nth(2)).to_contain_text(BLOCKED)
    expect(activity).to_contain_text(REGISTRATION_CLOSED)  # his WeChat's story from before it was bound to him
    page.get_by_role("link", name="All of this user's activity").click()
    expect(page).to_have_url(re.compile(r"/activity\?user_id=\d+$"))
    expect(event_rows(page).first).to_contain_text("Logged in.")

    # 5. Another newcomer meets the closed registration; an admin opens it and her next login registers her.
    dora = MiniProgram(url, "wx00000000000a0002", "dora")
    assert dora.login("blogLogin").json()["error"]["code"] == "registration_closed"
    admin_context = browser.new_context(base_url=url, viewport={"width": 1280, "height": 900})
    admin_page = admin_context.new_page()
    try:
        sign_in(admin_page, "boss")
        admin_page.get_by_role("link", name="Activity").click()
        admin_page.get_by_label("Outcome").select_option("registration_closed")
        admin_page.get_by_role("button", name="Filter").click()
        expect(event_rows(admin_page)).to_have_count(2)  # Bob's and Dora's
        admin_page.get_by_role("link", name="Login methods").click()
        admin_page.get_by_role("link", name="Blog", exact=True).click()
        admin_page.get_by_label("Allow registration of new WeChat users").check()
        admin_page.get_by_role("button", name="Save").click()
        expect(admin_page.get_by_text("Saved the login method blogLogin.")).to_be_visible()
    finally:
        admin_context.close()
    answer = dora.login("blogLogin").json()
    registered = dora.call("/wechat-mini/blogLogin/register", {"bindCode": answer["bindCode"], "name": "Dora"})
    assert registered.status_code == 201, registered.text

    page.goto("/activity?login_method=blogLogin")
    expect(event_rows(page).nth(0)).to_contain_text("Registered a new account and logged in.")
    expect(event_rows(page).nth(1)).to_contain_text("A WeChat user new to this login method")
    expect(event_rows(page).nth(2)).to_contain_text(REGISTRATION_CLOSED)

    # 6. On a phone, both pages fit the screen: nothing to scroll sideways to.
    phone = browser.new_context(base_url=url, viewport={"width": 390, "height": 844}, is_mobile=True)
    phone_page = phone.new_page()
    try:
        sign_in(phone_page, "helper")
        for path in ("/activity", re.sub(r".*(/users/\d+).*", r"\1", bob_page)):
            phone_page.goto(path)
            expect(event_rows(phone_page).first).to_be_visible()
            assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390, path
        shoot(phone_page, "activity-phone")
    finally:
        phone.close()
