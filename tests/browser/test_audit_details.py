"""The audit log's details in Chromium: a key is never split across lines ("u nionId"), at desktop or phone width."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from console.extensions import db
from console.models import AdminAccount, AuditEvent
from tests.helpers import PASSWORD, cheap_hash

DETAILS = {
    "openId": "oQ4fL5x-Yq2nM8rT1vB7kW3zH9jP6sD0",
    "unionId": "uN1aB2cD3eF4gH5iJ6kL7mN8oP9qR0sT",
    "revokedTokens": 3,
    "voidedCodes": 1,
    "via": "ticket",
}
KEYS = sorted(DETAILS)
# Every element whose whole text is a detail's key, with how many line boxes it spans (2 or more: split).
SPLIT_KEYS = """(keys) => [...document.querySelectorAll("td span")]
    .filter((el) => keys.includes(el.textContent) && el.children.length === 0)
    .map((el) => [el.textContent, el.getClientRects().length])"""


@pytest.mark.parametrize("width", [1366, 390])
def test_no_detail_key_is_split_across_lines(page, live_app, width):
    with live_app.app_context():
        db.session.add(AdminAccount(username="boss", role="admin", password_hash=cheap_hash(PASSWORD)))
        for n in range(3):
            db.session.add(
                AuditEvent(
                    action="unbind",
                    actor_type="console",
                    actor="a-console-account-with-a-long-name",
                    login_method_name="aLoginMethodWithALongInstanceName",
                    source_address="2001:db8:85a3::8a2e:370:7334",
                    details={**DETAILS, "reason": "the user changed phones and asked support " * (n + 1)},
                )
            )
        db.session.commit()
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/sign-in")
    page.get_by_label("Username").fill("boss")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto("/audit?action=unbind")
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()

    keys = page.evaluate(SPLIT_KEYS, KEYS)

    assert sorted(key for key, _ in keys) == sorted(KEYS * 3)
    assert [key for key, lines in keys if lines != 1] == []
