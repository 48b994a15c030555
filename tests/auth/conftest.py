"""Console tests run against an app with CSRF off and the simulator page on (see console_config)."""

import pytest


@pytest.fixture
def app_config(console_config):
    return console_config


@pytest.fixture
def app_environ(console_environ):
    return console_environ
