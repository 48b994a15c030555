"""Every console page at phone width (390 px) and desktop width (1366 px): no link, button or form control lies
outside the viewport's width, no box hides part of its content behind a sideways scroll, the page does not scroll
sideways, and every date and time names its zone.

The pages are the GET routes of `app.url_map`, found there, so a new page is visited without anyone listing it:
the console's own (blueprints admin and auth) with real ids for their URL arguments (a new argument fails until
make_world gives one). A route of any other blueprint, or one that answers something other than a page, fails the
test until NOT_PAGES names it with the reason. Each page is visited as an admin and as support; then the states
no URL reaches alone (a bind ticket, checked credentials, a refused form).

The world is built to be hard to lay out: 128-character titles and corp names with no space to break at,
64-character names, two tokens of one user through one mini program, long audit details, a long search term.

Screenshots land in test-artifacts/layout/ (ignored by git): look at them after a layout change.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from flask import url_for
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page
from sqlalchemy import select

from console.extensions import db
from console.models import AdminAccount, SignInFailure, User, utcnow
from console.services import bindings, corps, login_methods
from console.services.audit import Actor, set_actor
from tests.browser.watch import PageWatch
from tests.helpers import PASSWORD, cheap_hash

WIDTHS = (1366, 390)
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "layout"

# What is served over GET but is no page of the console, and why it is not visited.
NOT_PAGES = {
    "static": "the console's own static files",
    "bootstrap.static": "Bootstrap's static files",
    "admin.audit_export": "a CSV download",
    "admin.users_export": "a CSV download",
}
NOT_PAGE_BLUEPRINTS = {
    "api": "the mini programs' JSON API",
    "web": "the health checks' JSON",
    "wechat_simulator": "the simulator's stand-in for WeChat's JSON API",
    "wechat_simulator_control": "the simulator's JSON control API",
}
# Pages visited signed out, before signing in (the others redirect to sign-in then).
SIGNED_OUT_PAGES = {"auth.sign_in"}

# Unbreakable on purpose: the worst a title, a name or a search term can be.
LONG_TITLE = ("MiniProgramWithAVeryLongTitle" * 5)[:128]
LONG_CORP = ("CorporationWithAnEndlessName" * 5)[:128]
LONG_NAME = ("UserWithAVeryLongName" * 4)[:64]
LONG_ACCOUNT = ("supportaccountwithalongname" * 3)[:64]
LONG_METHOD_NAME = ("shopLoginWithALongInstanceName" * 3)[:64]
LONG_SLUG = ("corp-with-a-long-corpid-" * 3)[:64]
LONG_SEARCH = "o" + "x" * 199  # the users search keeps 200 characters
IPV6 = "2001:0db8:85a3:0000:0000:8a2e:0370:7334"


@dataclass
class World:
    """The ids a page's URL may need, by the name of its URL argument."""

    ids: dict[str, int]
    long_user: int
    long_method: int


def make_world(app) -> World:
    """Login methods, corps, users with bindings and tokens, accounts (one locked) and audit rows."""
    state = app.extensions["wechat_simulator"]
    client = app.test_client()
    with app.app_context():
        set_actor(Actor("console", LONG_ACCOUNT, IPV6))
        long_corp = corps.create_corp(LONG_SLUG, LONG_CORP)
        cjk_corp = corps.create_corp("acme", "会员中心" * 32).id  # CJK breaks anywhere: it must still read well
        methods = []
        for index, (name, title) in enumerate(
            [(LONG_METHOD_NAME, LONG_TITLE), ("memberLogin", "会员中心小程序" * 18), ("spareLogin", "Spare")]
        ):
            app_id = f"wx{index + 1:016x}"
            secret = f"layout-secret-{index}-0123456789abcdef"
            state.register_app(app_id, secret)
            values = {
                "title": title,
                "app_id": app_id,
                "app_secret": secret,
                "allow_register": True,
                "enabled": True,
                "link_by_unionid": True,
            }
            methods.append(login_methods.create_method(name, {**values, "default_corp_id": long_corp.id}).id)
        db.session.add_all(
            [
                AdminAccount(username="boss", role="admin", password_hash=cheap_hash(PASSWORD)),
                AdminAccount(username="helper", role="support", password_hash=cheap_hash(PASSWORD)),
                AdminAccount(username=LONG_ACCOUNT, role="support", password_hash=cheap_hash(PASSWORD)),
            ]
        )
        now = utcnow()
        db.session.add_all(  # locked from two addresses and slowed: every badge of the accounts page
            SignInFailure(username=LONG_ACCOUNT, address=address, failed_at=now, locked_until=now.replace(year=2100))
            for address in [IPV6, "198.51.100.7"] * 15
        )
        db.session.commit()
        account_id = db.session.scalar(select(AdminAccount.id).where(AdminAccount.username == LONG_ACCOUNT))
    long_method_name, member_name = LONG_METHOD_NAME, "memberLogin"

    def api(path: str, body: dict, token: str | None = None) -> dict:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        answer = client.post(f"/api/v1{path}", json=body, headers=headers, environ_base={"REMOTE_ADDR": IPV6})
        assert answer.status_code in (200, 201), answer.json
        return answer.json

    def token(method_name: str, app_id: str, user: str) -> str:
        login_code = api(f"/wechat-mini/{method_name}/login", {"code": state.mint_code(app_id, user)})["loginCode"]
        return api("/auth/token", {"loginCode": login_code})["accessToken"]

    # the long-named user: registered through the long-titled method, two tokens through it, bound to a second
    bind_code = api(f"/wechat-mini/{long_method_name}/login", {"code": state.mint_code("wx0000000000000001", "long")})
    user_id = api(f"/wechat-mini/{long_method_name}/register", {"bindCode": bind_code["bindCode"], "name": LONG_NAME})[
        "user"
    ]["userId"]
    first = token(long_method_name, "wx0000000000000001", "long")
    token(long_method_name, "wx0000000000000001", "long")
    api(f"/wechat-mini/{member_name}/bind", {"code": state.mint_code("wx0000000000000002", "long")}, token=first)
    # a second user, unbound by support with a long reason
    bind_code = api(f"/wechat-mini/{member_name}/login", {"code": state.mint_code("wx0000000000000002", "alice")})
    other_id = api(f"/wechat-mini/{member_name}/register", {"bindCode": bind_code["bindCode"], "name": "Alice"})[
        "user"
    ]["userId"]
    with app.app_context():
        set_actor(Actor("console", LONG_ACCOUNT, IPV6))
        user = db.session.get(User, int(user_id))
        corps.add_membership(user, cjk_corp)
        member = db.session.get(login_methods.LoginMethod, methods[1])
        bindings.remove_binding(member, int(other_id), reason="lost phone; " + "ticket-0123456789" * 8)
    return World(
        ids={
            "user_id": int(user_id),
            "method_id": methods[0],
            "corp_id": long_corp.id,
            "account_id": account_id,
        },
        long_user=int(user_id),
        long_method=methods[0],
    )


@dataclass
class Visit:
    """One state of one page: a URL to open, or an action that leads there from the page before."""

    label: str
    url: str | None = None
    action: Callable[[Page], None] | None = None


def page_endpoints(app) -> tuple[list, list[str]]:
    """The GET rules that are console pages, and the endpoints nobody has listed (each must be)."""
    pages, unknown = [], []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in NOT_PAGES:
            continue
        if rule.endpoint.split(".")[0] in NOT_PAGE_BLUEPRINTS:
            continue
        if not rule.endpoint.startswith(("admin.", "auth.")):
            unknown.append(rule.endpoint)
            continue
        pages.append(rule)
    return sorted(pages, key=lambda rule: rule.endpoint), unknown


def visits(app, world: World) -> list[Visit]:
    """Every console page (from the url_map, with the world's ids), then the states a URL alone does not reach."""
    rules, unknown = page_endpoints(app)
    assert not unknown, (
        f"GET routes this test does not know: {unknown}. A console page belongs in the layout test: add it, or "
        "list it in NOT_PAGES with the reason it is no page."
    )
    found: list[Visit] = []
    with app.test_request_context():
        for rule in rules:
            if rule.endpoint in SIGNED_OUT_PAGES:
                continue
            missing = rule.arguments - world.ids.keys()
            assert not missing, f"{rule.endpoint} needs {missing}: give make_world an id for it"
            found.append(
                Visit(rule.endpoint, url_for(rule.endpoint, **{name: world.ids[name] for name in rule.arguments}))
            )
        user_url = url_for("admin.users_detail", user_id=world.long_user)
        method_url = url_for("admin.login_methods_edit", method_id=world.long_method)
        found += [
            Visit("users, searching for the long name", url_for("admin.users_list", q=LONG_NAME)),
            Visit("users, a long search that finds nobody", "/users?q=" + quote(LONG_SEARCH)),
            Visit("audit, filtered by user", url_for("admin.audit_list", user_id=world.long_user)),
            Visit("audit, an invalid filter", url_for("admin.audit_list", since="2026-13-45", user_id="x" * 80)),
            Visit("simulator, the long method chosen", url_for("admin.simulator_index", method=LONG_METHOD_NAME)),
            Visit("a missing user (404)", url_for("admin.users_detail", user_id=2_000_000_000)),
            Visit("user page again", user_url),
            Visit("bind ticket", action=lambda page: page.get_by_role("button", name="Issue bind ticket").click()),
            Visit("login method again", method_url),
            Visit(
                "credentials checked", action=lambda page: page.get_by_role("button", name="Check credentials").click()
            ),
            Visit("new login method", url_for("admin.login_methods_create")),
            Visit("new login method errors", action=lambda page: page.get_by_role("button", name="Save").click()),
        ]
    return found


# Every visible link, button and form control whose box leaves [0, viewport width]; every box that hides part of
# its content behind a sideways scroll (a table in .table-responsive: its last columns are off screen); and the
# page's own scroll width.
MEASURE = """() => {
  const width = window.innerWidth;
  const describe = (element) => {
    const text = (element.innerText || element.value || element.name || element.getAttribute("aria-label") || "")
      .trim().replace(/\\s+/g, " ").slice(0, 40);
    const classes = element.classList.length ? "." + [...element.classList].join(".") : "";
    return `<${element.tagName.toLowerCase()}${classes}> "${text}"`;
  };
  const outside = [];
  for (const element of document.querySelectorAll("a, button, input, select, textarea")) {
    const box = element.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;  // not rendered (a collapsed menu, a hidden field)
    if (getComputedStyle(element).visibility === "hidden") continue;
    if (box.left < -0.5 || box.right > width + 0.5) {
      outside.push(`${describe(element)} at ${Math.round(box.left)}..${Math.round(box.right)} outside 0..${width}`);
    }
  }
  for (const element of document.querySelectorAll("body *")) {
    if (element.matches("input, select, textarea")) continue;  // a long value scrolls inside its field
    const overflow = getComputedStyle(element).overflowX;
    if (element.clientWidth <= 1) continue;  // visually hidden (a table's header row on a phone)
    if (overflow !== "visible" && element.scrollWidth > element.clientWidth + 1) {
      const hidden = element.scrollWidth - element.clientWidth;
      outside.push(`${describe(element)} hides ${hidden} px of its content sideways`);
    }
  }
  return {outside, scrollWidth: document.scrollingElement.scrollWidth, width};
}"""


# A date and time on a page is followed by the name of its zone ("2026-11-25 14:03 CST", "... UTC+08:00").
UNZONED_TIMES = r"""() => [...document.body.innerText.matchAll(
  /\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d(\.\d+)?)?(?![\d:.])(?! (UTC[+-]\d\d:\d\d|[A-Z]{2,5})\b)\S*/g)]
  .map(m => m[0])"""


def problems_at(page: Page, where: str) -> list[str]:
    """What lies outside the viewport's width on this page as it is laid out now."""
    found = page.evaluate(MEASURE)
    problems = [f"{where}: {element}" for element in dict.fromkeys(found["outside"])]
    if found["scrollWidth"] > found["width"]:
        problems.append(f"{where}: the page scrolls sideways ({found['scrollWidth']} px wide in {found['width']})")
    return problems


def screenshot(page: Page, name: str) -> None:
    """Keep the whole page as it looks now, for a person to look at."""
    path = SCREENSHOTS / ("".join(c if c.isalnum() else "-" for c in name)[:90] + ".png")
    page.screenshot(path=str(path), full_page=True)


def check_both_widths(page: Page, role: str, label: str) -> list[str]:
    """Check the page's times name their zone; measure it at each width (resizing, not reloading).

    Screenshots of every admin page, and of a support page where something is wrong (the others look the same).
    """
    problems = [f"{role} · {label} ({page.url}): {shown} names no zone" for shown in page.evaluate(UNZONED_TIMES)]
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        found = problems_at(page, f"{role} · {label} ({page.url}) at {width} px")
        if role != "support" or found:
            screenshot(page, f"{role}-{label}-{width}")
        problems += found
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})
    return problems


def check_open_menu(page: Page, role: str) -> list[str]:
    """On a phone the menu is folded behind a button: open, its links and Sign out fit the screen too."""
    page.set_viewport_size({"width": WIDTHS[-1], "height": 900})
    page.get_by_role("button", name="Menu").click()
    page.locator(".navbar-collapse.show:not(.collapsing)").wait_for()
    problems = problems_at(page, f"{role} · the open menu ({page.url}) at {WIDTHS[-1]} px")
    screenshot(page, f"{role}-menu-open-{WIDTHS[-1]}")
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})
    return problems


def open_page(page: Page, url: str) -> str | None:
    """Open a page; None, or why what the URL answers is no page to measure (a download, JSON)."""
    try:
        answer = page.goto(url)
    except PlaywrightError as error:  # Chromium starts a download instead of a page
        return f"answers no page ({str(error).splitlines()[0]}): list it in NOT_PAGES, with the reason"
    kind = answer.headers.get("content-type", "") if answer else ""
    if not kind.startswith("text/html"):
        return f"answers {kind or 'nothing'}, not a page: list it in NOT_PAGES, with the reason"
    return None


def sign_in(page: Page, username: str) -> None:
    """Sign in through the form; the dashboard is loaded (Bootstrap's script included)."""
    page.goto("/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("load")


def test_every_console_page_fits_a_phone_and_a_desktop(browser, live_app):
    world = make_world(live_app)
    planned = visits(live_app, world)
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
    problems: list[str] = []
    context = browser.new_context(base_url=live_app.live_url, viewport={"width": WIDTHS[0], "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    watch = PageWatch(page)
    broken: list[str] = []  # a stylesheet or script that failed to load: the layout measured would be wrong
    page.on(
        "response",
        lambda answer: (
            answer.request.resource_type != "document"
            and answer.status >= 400
            and broken.append(f"{answer.status} {answer.url}")
        ),
    )
    try:
        for endpoint in sorted(SIGNED_OUT_PAGES):
            with live_app.test_request_context():
                page.goto(url_for(endpoint))
            problems += check_both_widths(page, "signed-out", endpoint)
        for role, username in (("admin", "boss"), ("support", "helper")):
            context.clear_cookies()
            sign_in(page, username)
            problems += check_open_menu(page, role)
            for visit in planned:
                if visit.url is not None:
                    answer = open_page(page, visit.url)
                    if answer is not None:
                        problems.append(f"{role} · {visit.label} ({visit.url}): {answer}")
                        continue
                elif role == "admin":  # support cannot reach the pages these actions start from
                    visit.action(page)
                    page.wait_for_load_state("load")
                else:
                    continue
                problems += check_both_widths(page, role, visit.label)
    finally:
        context.close()
    assert not problems, "layout problems:\n" + "\n".join(problems)
    assert broken == [], "a page's resources failed to load"
    # Chromium logs every 4xx page as a failed resource: the 403 and 404 pages are visited on purpose.
    errors = [error for error in watch.errors if "Failed to load resource: the server responded" not in error]
    assert errors == [], "the pages had JavaScript or console errors"
