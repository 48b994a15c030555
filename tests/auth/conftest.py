"""Every test here runs against the console under test: marked `console`, so the app fixture of tests/conftest.py
is built from console_config and console_environ."""

import pytest


def pytest_itemcollected(item):
    item.add_marker(pytest.mark.console)
