"""Every test here runs against the console under test (the simulator page mounted): marked `console`, so the
app fixture of tests/conftest.py is built from console_config and console_environ. The property-based fuzz instead
shares one world per test module (tests/fuzz/world.py), and its figures end the run's summary."""

import os

import pytest

from console import create_app
from console.extensions import db
from console.models import admin_account
from console.services import console_accounts
from tests.fuzz.world import FUZZ_CONFIG, TALLY, Tally, World, fuzz_environ
from tests.helpers import RecordingClient, cheap_hash, fresh_database_url


def pytest_itemcollected(item):
    item.add_marker(pytest.mark.console)


@pytest.fixture
def method(harness):
    """The login method shopLogin, known to the simulator."""
    return harness.add_method(name="shopLogin")


@pytest.fixture(scope="session")
def fuzz_tally(request) -> Tally:
    """The fuzz's figures for this run, kept where the terminal summary finds them."""
    database = "postgresql" if os.environ.get("TEST_DATABASE_URL") else "sqlite"
    return request.config.stash.setdefault(TALLY, Tally(database))


@pytest.fixture(scope="module")
def world(tmp_path_factory, simulator, fuzz_tally):
    """One app and database for a whole fuzz module, with rows of every kind and its principals signed in.

    Shared by every example on purpose: each call is checked against the rows as the calls before it left them. Only
    the cost of password hashing is taken out (scrypt takes a fifth of a second per hash, a fuzzed sign-in or new
    account would spend the budget on it) and the account-wide sign-in slowdown does not wait (the fuzz never times).
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(admin_account, "generate_password_hash", lambda password: cheap_hash(password))
        patch.setattr(console_accounts, "_dummy_hash", lambda: cheap_hash("a password nobody has"))
        patch.setattr(console_accounts, "pause", lambda seconds: None)
        database_url = fresh_database_url(tmp_path_factory.mktemp("fuzz"), os.environ.get("TEST_DATABASE_URL"))
        app = create_app(FUZZ_CONFIG, environ=fuzz_environ(database_url, simulator.url))
        app.test_client_class = RecordingClient
        with app.app_context():
            db.create_all()
        built = World(app, simulator, fuzz_tally)
        yield built
        built.close()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def pytest_terminal_summary(terminalreporter, config):
    """The fuzz's figures (the production issue asks for them): calls per database, and how many answered 5xx."""
    tally = config.stash.get(TALLY, None)
    if tally is not None:
        terminalreporter.write_line(
            f"fuzz ({tally.database}): {tally.console} console calls, {tally.api} API calls, "
            f"{tally.server_errors} answered 5xx"
        )
        if os.environ.get("FUZZ_STATS"):
            for key, counts in sorted(tally.statuses.items()):
                terminalreporter.write_line(f"  {key}: {dict(sorted(counts.items()))}")
