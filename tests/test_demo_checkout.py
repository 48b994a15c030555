"""The commands the README and the pages print work as typed in the demo's checkout after `make run`, and a lost
demo password has a way back; nothing else starts on the demo's keys.

Before: `.venv/bin/flask --app wsgi create-admin NAME` (and reset-password) failed with "SECRET_KEY is not set"
unless CONSOLE_DEMO=1 was typed too. Each command runs as a person runs it: its own process, in a checkout (links to
this one's code) whose instance/ folder `make run`'s own two commands filled.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from werkzeug.security import check_password_hash

ROOT = Path(__file__).resolve().parent.parent
FLASK = [str(Path(sys.executable).parent / "flask"), "--app", "wsgi"]
# What a shell that never exported anything for the console passes on.
SHELL = {
    key: value
    for key, value in os.environ.items()
    if not key.startswith(("CONSOLE_", "WECHAT_", "SECRET_KEY", "ENCRYPTION_KEYS", "DATABASE_URL", "REDIS_URL"))
    and not key.startswith(("RATELIMIT_", "FLASK_"))
}


def run(checkout: Path, *args: str, stdin: str = "", **environ: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*FLASK, *args],
        cwd=checkout,
        env={**SHELL, **environ},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


class Checkout(type(Path())):  # type: ignore[misc]  # Path's concrete class, with the demo admin's first password
    password = ""


@pytest.fixture(scope="module")
def checkout(tmp_path_factory):
    """A checkout after `make run`'s setup: db upgrade and demo-setup, as the Makefile runs them."""
    root = Checkout(tmp_path_factory.mktemp("checkout"))
    for name in ("console", "templates", "static", "translations", "wsgi.py"):
        (root / name).symlink_to(ROOT / name)
    demo = {"CONSOLE_DEMO": "1", "WECHAT_SIMULATOR": "1"}
    assert run(root, "db", "upgrade", **demo).returncode == 0
    setup = run(root, "demo-setup", **demo)
    assert setup.returncode == 0, setup.stderr
    root.password = setup.stdout.split("admin / ")[1].split()[0]
    return root


def password_of(checkout: Path, username: str) -> str:
    with sqlite3.connect(checkout / "instance" / "console.db") as connection:
        return connection.execute(
            "SELECT password_hash FROM admin_accounts WHERE username = ?", (username,)
        ).fetchone()[0]


def test_create_admin_works_as_typed_after_make_run(checkout):
    result = run(checkout, "create-admin", "bob", "--password-stdin", stdin="long enough pw\n")

    assert result.returncode == 0, result.stderr
    assert result.stdout == "Created admin account 'bob'.\n"
    assert "the demo's configuration" in result.stderr
    assert check_password_hash(password_of(checkout, "bob"), "long enough pw")


def test_a_lost_demo_password_is_reset_as_typed(checkout):
    assert check_password_hash(password_of(checkout, "admin"), checkout.password)

    result = run(checkout, "reset-password", "admin", "--password-stdin", stdin="a brand new password\n")

    assert result.returncode == 0, result.stderr
    assert "Set a new password for 'admin'" in result.stdout
    assert check_password_hash(password_of(checkout, "admin"), "a brand new password")


def test_demo_setup_says_how_to_get_back_in(checkout):
    result = run(checkout, "demo-setup")
    assert result.returncode == 0, result.stderr
    assert "Lost it?   .venv/bin/flask --app wsgi reset-password admin" in result.stdout
    assert "Accounts:  .venv/bin/flask --app wsgi create-admin NAME" in result.stdout


def test_a_shell_that_configures_anything_gets_no_demo_default(checkout, tmp_path):
    result = run(checkout, "login-methods", "list", DATABASE_URL=f"sqlite:///{tmp_path}/other.db")
    assert result.returncode == 1 and result.stderr.strip() == (
        "error: SECRET_KEY is not set: export a long random string (see README, Configuration)"
    )


def test_the_app_itself_never_starts_on_the_demo_keys(checkout):
    """gunicorn imports wsgi as this does: outside make run it still refuses to start without its secrets."""
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi"], cwd=checkout, env=SHELL, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1 and "SECRET_KEY is not set" in result.stderr


def test_a_checkout_where_make_run_never_ran_needs_its_secrets(tmp_path):
    for name in ("console", "templates", "static", "translations", "wsgi.py"):
        (tmp_path / name).symlink_to(ROOT / name)
    result = run(tmp_path, "login-methods", "list")
    assert result.returncode == 1 and "SECRET_KEY is not set" in result.stderr
    assert not (tmp_path / "instance").exists()


def test_the_sign_in_page_prints_the_commands_run_here(client):
    page = client.get("/sign-in").get_data(as_text=True)
    assert "<code>.venv/bin/flask --app wsgi create-admin NAME</code>" in page
    assert "<code>.venv/bin/flask --app wsgi reset-password NAME</code>" in page


def test_the_readme_prints_the_commands_run_here():
    readme = (ROOT / "README.md").read_text()
    assert "`.venv/bin/flask --app wsgi reset-password admin`" in readme
    assert "`.venv/bin/flask --app wsgi create-admin NAME`" in readme
