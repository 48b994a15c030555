"""The simulator page outside the demo: WeChat's side is mounted, but nobody can mint codes over HTTP."""

from __future__ import annotations

import pytest

from console import create_app
from console.extensions import db
from console.services.console_accounts import create_account

pytestmark = pytest.mark.console


@pytest.fixture
def demo_admin(console_config, console_environ):
    """A client signed in as an admin of the demo console (CONSOLE_DEMO=1)."""
    app = create_app(console_config, environ={**console_environ, "CONSOLE_DEMO": "1"})
    with app.app_context():
        db.create_all()
        create_account("boss", "admin", "long enough pw")
    client = app.test_client()
    client.post("/sign-in", data={"username": "boss", "password": "long enough pw"})
    yield client
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_outside_the_demo_the_page_says_why_it_cannot_play(admin, harness):
    harness.add_method(name="shopLogin")
    page = admin.get("/simulator").get_data(as_text=True)
    assert "open only in the demo" in page and "CONSOLE_DEMO=1" in page
    assert page.count(" data-step=") == page.count(" disabled data-step=") == 6
    assert admin.post("/_wechat/sim/codes", json={"appId": "x", "user": "a"}).status_code == 404


def test_in_the_demo_the_page_plays(demo_admin):
    page = demo_admin.get("/simulator").get_data(as_text=True)
    assert "open only in the demo" not in page and " disabled data-step=" not in page
    assert demo_admin.get("/_wechat/sim/apps").status_code == 200
