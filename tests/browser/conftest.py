"""A real browser (Debian's Chromium through Playwright) against the console served live."""

from __future__ import annotations

import os

import pytest

from console import create_app
from console.extensions import db
from tests.browser.watch import PageWatch
from tests.helpers import LiveServer, RecordingClient

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for every browser test; skipped, saying why, where Chromium is not installed."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium package to run the browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_app(console_config, console_environ):
    """The demo console with CSRF on and the in-process WeChat simulator, served on a live port and calling itself.

    The demo, because the simulator page mints its codes through the simulator's control API, open only there.
    """
    app = create_app({**console_config, "WTF_CSRF_ENABLED": True}, environ={**console_environ, "CONSOLE_DEMO": "1"})
    app.test_client_class = RecordingClient
    with app.app_context():
        db.create_all()
    server = LiveServer(app)
    app.extensions["wechat_client"].base_url = server.url + "/_wechat"
    app.live_url = server.url
    yield app
    server.stop()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def page(browser, live_app):
    """A fresh browser tab (its own cookies) on the live console, watched for errors."""
    context = browser.new_context(base_url=live_app.live_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.watch = PageWatch(page)
    yield page
    context.close()
    assert page.watch.errors == [], "the page had JavaScript or console errors"
