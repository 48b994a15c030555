"""Migration 0009 (usernames ignore case): accounts that collide are renamed and audited, never lost; the index
refuses a new collision; failed sign-ins keep counting (and locking) under the lower-cased name."""

from __future__ import annotations

import json

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from console import create_app
from console.extensions import db

ACCOUNTS = [(1, "admin"), (2, "ops"), (3, "ADMIN"), (4, "Ops"), (5, "Admin"), (6, "ADMIN-3")]


def insert_accounts(connection) -> None:
    for account_id, username in ACCOUNTS:
        connection.execute(
            text(
                "INSERT INTO admin_accounts (id, username, password_hash, role, active, created_at)"
                " VALUES (:id, :username, :hash, 'support', :yes, '2026-01-01 00:00:00')"
            ),
            {"id": account_id, "username": username, "hash": f"hash-{account_id}", "yes": True},
        )
    connection.execute(
        text("INSERT INTO console_sessions (digest, account_id, created_at) VALUES ('d3', 3, '2026-01-01 00:00:00')")
    )
    connection.execute(
        text(
            "INSERT INTO sign_in_failures (username, address, failed_at, locked_until)"
            " VALUES ('OPS', '192.0.2.1', '2026-01-01 00:00:00', '2999-01-01 00:00:00')"
        )
    )


def test_0009_renames_collisions_audits_them_and_keeps_everything_else(environ):
    app = create_app({"TESTING": True}, environ=environ)
    with app.app_context():
        upgrade(revision="0005")
        with db.engine.begin() as connection:
            insert_accounts(connection)

        upgrade(revision="0009")

        with db.engine.begin() as connection:
            names = dict(connection.execute(text("SELECT id, username FROM admin_accounts")).all())
            # the oldest keeps its name; a later one becomes NAME-ID, or more when that is taken in any case
            assert names == {1: "admin", 2: "ops", 3: "ADMIN-3x", 4: "Ops-4", 5: "Admin-5", 6: "ADMIN-3"}
            hashes = dict(connection.execute(text("SELECT id, password_hash FROM admin_accounts")).all())
            assert hashes == {account_id: f"hash-{account_id}" for account_id, _ in ACCOUNTS}
            assert connection.execute(text("SELECT account_id FROM console_sessions")).scalar() == 3
            renames = connection.execute(
                text("SELECT actor_type, actor, action, details FROM audit_events ORDER BY id")
            ).all()
            assert [row[:3] for row in renames] == [("app", "migration 0009", "admin.rename")] * 3
            assert [_json(row[3])["previousUsername"] for row in renames] == ["ADMIN", "Ops", "Admin"]
            assert _json(renames[0][3])["username"] == "ADMIN-3x"
            assert connection.execute(text("SELECT username FROM sign_in_failures")).scalar() == "ops"
        with pytest.raises(IntegrityError), db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO admin_accounts (username, password_hash, role, active, created_at)"
                    " VALUES ('OPS', 'h', 'support', :yes, '2026-01-01 00:00:00')"
                ),
                {"yes": True},
            )

        downgrade(revision="0005")

        indexes = {index["name"] for index in inspect(db.engine).get_indexes("admin_accounts")}
        assert "ux_admin_accounts_username_lower" not in indexes
        with db.engine.begin() as connection:
            assert connection.execute(text("SELECT count(*) FROM admin_accounts")).scalar() == len(ACCOUNTS)
        downgrade(revision="base")


def test_0009_on_a_database_without_collisions_changes_no_name(environ):
    app = create_app({"TESTING": True}, environ=environ)
    with app.app_context():
        upgrade(revision="0005")
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO admin_accounts (username, password_hash, role, active, created_at)"
                    " VALUES ('Boss', 'h', 'admin', :yes, '2026-01-01 00:00:00')"
                ),
                {"yes": True},
            )
        upgrade(revision="0009")
        with db.engine.begin() as connection:
            assert connection.execute(text("SELECT username FROM admin_accounts")).scalar() == "Boss"
            assert connection.execute(text("SELECT count(*) FROM audit_events")).scalar() == 0
        downgrade(revision="base")


def _json(value):
    return value if isinstance(value, dict) else json.loads(value)
