"""The audit log and its CSV, the dashboard, and the simulator page."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from console import create_app
from console.extensions import db
from console.models import AuditEvent, utcnow
from console.services.console_accounts import create_account


@pytest.fixture
def events(app):
    """Audit events of several actions, actors, users, methods and days."""
    now = utcnow()
    rows = [
        ("login", "api", 1, "shopLogin", now),
        ("login", "api", 2, "blogLogin", now - timedelta(days=1)),
        ("register", "api", 2, "blogLogin", now - timedelta(days=3)),
        ("unbind", "helper", 1, "shopLogin", now - timedelta(days=10)),
        ("corp.create", "boss", None, None, now - timedelta(days=40)),
    ]
    with app.app_context():
        for action, actor, user_id, method, moment in rows:
            db.session.add(
                AuditEvent(
                    action=action,
                    actor_type="console" if actor != "api" else "api",
                    actor=actor,
                    user_id=user_id,
                    login_method_name=method,
                    created_at=moment,
                    details={"note": "=cmd|x" if action == "unbind" else "ok"},
                )
            )
        db.session.commit()
    return now


def actions(page) -> list[str]:
    text = page.get_data(as_text=True)
    return [line.split("</code>")[0] for line in text.split("<td><code>")[1:]]


@pytest.mark.parametrize(
    "query, expected",
    [
        ({}, ["console.sign_in", "corp.create", "unbind", "register", "login", "login"]),
        ({"action": "login"}, ["login", "login"]),
        ({"actor": "HELP"}, ["console.sign_in", "unbind"]),
        ({"user_id": "2"}, ["register", "login"]),
        ({"login_method": "shopLogin"}, ["unbind", "login"]),
        ({"action": "login", "login_method": "blogLogin"}, ["login"]),
    ],
)
def test_audit_filters(support, events, query, expected):
    page = support.get("/audit", query_string=query)
    assert page.status_code == 200 and sorted(actions(page)) == sorted(expected)


def test_audit_date_range(support, events):
    since = (events - timedelta(days=3)).date().isoformat()
    until = (events - timedelta(days=1)).date().isoformat()
    assert sorted(actions(support.get("/audit", query_string={"since": since, "until": until}))) == [
        "login",
        "register",
    ]


def test_audit_pagination_keeps_the_filters(app, support):
    with app.app_context():
        db.session.add_all(AuditEvent(action="login", actor_type="api", actor="api", details={}) for _ in range(60))
        db.session.commit()
    page = support.get("/audit", query_string={"action": "login"}).get_data(as_text=True)
    assert "/audit?action=login&amp;page=2" in page


def test_audit_csv_exports_the_filtered_rows_safely(support, events):
    response = support.get("/audit.csv", query_string={"user_id": "1"})

    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == [
        "id",
        "created_at",
        "actor_type",
        "actor",
        "action",
        "user_id",
        "login_method_name",
        "source_address",
        "details",
    ]
    assert [row[4] for row in rows[1:]] == ["unbind", "login"]
    assert rows[1][8] == '{"note": "=cmd|x"}'


def test_audit_csv_defuses_formulas(app, support):
    with app.app_context():
        db.session.add(AuditEvent(action="login", actor_type="api", actor="=HYPERLINK(1)", details={}))
        db.session.commit()
    rows = list(csv.reader(io.StringIO(support.get("/audit.csv").get_data(as_text=True))))
    assert rows[1][3] == "'=HYPERLINK(1)"


def test_the_dashboard_counts_users_bindings_activity_and_wechat_errors(app, support, harness):
    method = harness.add_method(name="shopLogin")
    harness.register(method, "alice")
    harness.register(method, "bob")
    harness.login(method, "alice")
    harness.login(method, "carol", errcode=40226)
    harness.login(method, "carol", errcode=-1)

    page = support.get("/").get_data(as_text=True)

    assert '<div class="text-body-secondary small">Users</div>\n      <div class="fs-2 fw-semibold">2</div>' in page
    assert (
        '<div class="text-body-secondary small">Logins today</div>\n      <div class="fs-2 fw-semibold">1</div>' in page
    )
    assert (
        '<div class="text-body-secondary small">Registrations today</div>\n      <div class="fs-2 fw-semibold">2</div>'
        in page
    )
    assert "shopLogin" in page and "<svg" in page and "1 login(s)" in page and "2 registration(s)" in page
    assert '<span class="badge text-bg-danger">1</span>' in page  # user_blocked and wechat_unavailable
    assert "Open the simulator" in page


def test_the_dashboard_of_an_empty_console(support):
    page = support.get("/").get_data(as_text=True)
    assert "No login method yet" in page and page.count("<rect") == 60


def test_the_simulator_page_is_404_when_the_simulator_is_off(console_config, environ):
    app = create_app(console_config, environ=environ)  # the console, but the environment leaves the simulator off
    with app.app_context():
        db.create_all()
        create_account("boss", "admin", "long enough pw")
    client = app.test_client()
    client.post("/sign-in", data={"username": "boss", "password": "long enough pw"})
    assert client.get("/simulator").status_code == 404
    assert "Simulator" not in client.get("/").get_data(as_text=True)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_the_simulator_page_registers_a_method_with_the_in_process_simulator_server_side(app, admin, harness):
    method = harness.add_method(name="shopLogin")
    simulator = app.extensions["wechat_simulator"]

    before = admin.get("/simulator").get_data(as_text=True)
    response = admin.post(f"/simulator/apps/{method.id}")
    after = admin.get("/simulator?method=shopLogin").get_data(as_text=True)

    assert "not in the simulator" in before and "Register with simulator" in before
    assert response.status_code == 302
    assert simulator.check_app(method.app_id, method.secret) is None
    assert "Register again" in after and method.secret not in after and method.app_id in after
    with app.app_context():
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "login_method.simulate")) is not None


def test_support_uses_the_simulator_page_but_cannot_register_apps(support, harness):
    harness.add_method(name="shopLogin")
    page = support.get("/simulator").get_data(as_text=True)
    assert "shopLogin" in page and "Register with simulator" not in page
