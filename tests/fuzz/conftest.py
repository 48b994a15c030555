"""Every test here runs against the console under test (the simulator page mounted): marked `console`, so the
app fixture of tests/conftest.py is built from console_config and console_environ."""

import pytest


def pytest_itemcollected(item):
    item.add_marker(pytest.mark.console)


@pytest.fixture
def method(harness):
    """The login method shopLogin, known to the simulator."""
    return harness.add_method(name="shopLogin")
