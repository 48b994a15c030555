"""Every console URL needs a signed-in account, and every admin-only URL refuses support accounts."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from console.extensions import db
from console.models import AccessToken, AdminAccount

OUTSIDE_THE_CONSOLE = ("/api/", "/_wechat/", "/static/", "/bootstrap/static/", "/healthz", "/readyz")
# the steps of signing in, and the language (the sign-in page has the switcher too)
PUBLIC_ENDPOINTS = {"auth.sign_in", "auth.sign_in_code", "auth.sign_in_enrol", "auth.choose_language"}
ADMIN_ONLY = {
    "admin.login_methods_list",
    "admin.login_methods_create",
    "admin.login_methods_edit",
    "admin.login_methods_delete",
    "admin.login_methods_import",
    "admin.login_methods_export",
    "admin.accounts_list",
    "admin.accounts_create",
    "admin.accounts_disable",
    "admin.accounts_enable",
    "admin.accounts_role",
    "admin.accounts_password",
    "admin.accounts_two_factor_reset",
    "admin.corps_create",
    "admin.corps_rename",
    "admin.simulator_register",
}
# User data that support changes or takes away as well as admins: editing a profile, signing a user out
# everywhere, the users' CSV export.
SUPPORT_AND_ADMIN = {"admin.users_edit", "admin.users_sign_out_everywhere", "admin.users_export"}


@pytest.fixture
def rows(app, harness, make_account):
    """Ids of real rows for every URL parameter."""
    method = harness.add_method(name="shopLogin", corp=("acme", "Acme"))
    harness.token(method, "alice")
    with app.app_context():
        token = db.session.scalar(select(AccessToken))
        other = make_account("other", "support")
        return {
            "method_id": method.id,
            "user_id": token.user_id,
            "token_id": token.id,
            "corp_id": token.corp_id,
            "account_id": other,
        }


def console_urls(app, rows):
    """(endpoint, HTTP method, URL) of every console route."""
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(OUTSIDE_THE_CONSOLE) or rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        url = rule.build({name: rows[name] for name in rule.arguments}, append_unknown=False)[1]
        for method in sorted(rule.methods & {"GET", "POST"}):
            yield rule.endpoint, method, url


def test_the_walk_covers_every_console_blueprint(app, rows):
    endpoints = {endpoint for endpoint, _, _ in console_urls(app, rows)}
    assert endpoints >= ADMIN_ONLY | SUPPORT_AND_ADMIN | {
        "admin.dashboard_index",
        "admin.users_unbind",
        "admin.activity_list",
        "auth.sign_out",
    }
    assert not ADMIN_ONLY & SUPPORT_AND_ADMIN
    assert {endpoint.split(".")[0] for endpoint in endpoints} == {"admin", "auth"}


def test_anonymous_visitors_are_sent_to_sign_in_from_every_console_url(app, rows):
    client = app.test_client()
    for endpoint, method, url in console_urls(app, rows):
        response = client.open(url, method=method)
        assert response.status_code == 302, (endpoint, method, url)
        assert response.headers["Location"].startswith("/sign-in"), (endpoint, method, url)
    with app.app_context():
        assert db.session.scalar(select(AdminAccount).where(AdminAccount.username == "other")).active


def test_support_accounts_get_403_from_every_admin_only_url(app, rows, support):
    checked = set()
    for endpoint, method, url in console_urls(app, rows):
        if endpoint in ADMIN_ONLY:
            assert support.open(url, method=method).status_code == 403, (endpoint, method, url)
            checked.add(endpoint)
    assert checked == ADMIN_ONLY


def test_support_accounts_see_every_other_console_page(app, rows, support):
    for endpoint, method, url in console_urls(app, rows):
        if endpoint not in ADMIN_ONLY and method == "GET":
            assert support.get(url).status_code == 200, (endpoint, url)


def test_support_may_edit_users_sign_them_out_and_export_them(app, rows, support):
    checked = set()
    for endpoint, method, url in console_urls(app, rows):
        if endpoint in SUPPORT_AND_ADMIN:
            assert support.open(url, method=method).status_code in (200, 302, 400), (endpoint, method, url)
            checked.add(endpoint)
    assert checked == SUPPORT_AND_ADMIN


def test_support_navigation_leaves_out_admin_pages(support, admin):
    support_page, admin_page = support.get("/").get_data(as_text=True), admin.get("/").get_data(as_text=True)
    assert "/login-methods" not in support_page and "/accounts" not in support_page
    assert "/login-methods" in admin_page and "/accounts" in admin_page
