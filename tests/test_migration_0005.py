"""Migration 0005 (sign-in failures) moves the lockout off admin_accounts without losing an account or a session."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from console import create_app
from console.extensions import db


def test_0005_keeps_accounts_and_console_sessions_both_ways(environ):
    app = create_app({"TESTING": True}, environ=environ)
    with app.app_context():
        upgrade(revision="0004")
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO admin_accounts (id, username, password_hash, role, active, failed_sign_ins,"
                    " locked_until, created_at) VALUES (1, 'boss', 'hash', 'admin', :yes, 7,"
                    " '2026-01-01 00:15:00', '2026-01-01 00:00:00')"
                ),
                {"yes": True},
            )
            connection.execute(
                text(
                    "INSERT INTO console_sessions (digest, account_id, created_at)"
                    " VALUES ('d1', 1, '2026-01-01 00:00:00')"
                )
            )

        upgrade()

        columns = {column["name"] for column in inspect(db.engine).get_columns("admin_accounts")}
        assert not columns & {"failed_sign_ins", "locked_until"}
        with db.engine.begin() as connection:
            # SQLite: a batch-mode copy of admin_accounts would have deleted the sessions through their CASCADE
            assert connection.execute(text("SELECT count(*) FROM console_sessions")).scalar() == 1
            assert connection.execute(text("SELECT username, role FROM admin_accounts")).one() == ("boss", "admin")
            connection.execute(
                text(
                    "INSERT INTO sign_in_failures (username, address, failed_at)"
                    " VALUES ('boss', '192.0.2.1', '2026-01-01 00:00:00')"
                )
            )

        downgrade(revision="0004")

        assert "sign_in_failures" not in inspect(db.engine).get_table_names()
        with db.engine.begin() as connection:
            assert connection.execute(text("SELECT count(*) FROM console_sessions")).scalar() == 1
            assert connection.execute(text("SELECT failed_sign_ins, locked_until FROM admin_accounts")).one() == (
                0,
                None,
            )
        downgrade(revision="base")
