"""Configuration from the environment: required secrets, defaults, one-line refusals."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from console import create_app
from console.config import ConfigError, load_config
from console.security.keyring import KeyRing, KeyRingError

ROOT = Path(__file__).resolve().parents[1]
KEY = Fernet.generate_key().decode()


def test_defaults(tmp_path):
    config = load_config(str(tmp_path), {"SECRET_KEY": "s", "ENCRYPTION_KEYS": KEY})
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'console.db'}"
    assert config["WECHAT_API_BASE"] == "https://api.weixin.qq.com"
    assert config["WECHAT_TIMEOUT"] == 5 and config["WECHAT_SIMULATOR"] is False
    assert config["RATELIMIT_STORAGE_URI"] == "memory://" and config["RATELIMIT_ENABLED"] is True
    assert config["REDIS_URL"] is None
    assert (config["BIND_CODE_TTL"], config["LOGIN_CODE_TTL"], config["ACCESS_TOKEN_TTL"]) == (300, 120, 7200)
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_HTTPONLY"] is True and config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert config["RATELIMIT_SIGN_IN"] == "20 per minute" and config["BOOTSTRAP_SERVE_LOCAL"] is True


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ENCRYPTION_KEYS"])
def test_a_missing_secret_is_named(tmp_path, missing):
    environ = {"SECRET_KEY": "s", "ENCRYPTION_KEYS": KEY}
    del environ[missing]
    with pytest.raises(ConfigError, match=f"^{missing} is not set"):
        load_config(str(tmp_path), environ)


@pytest.mark.parametrize(
    "name, value", [("WECHAT_TIMEOUT", "soon"), ("BIND_CODE_TTL", "-5"), ("RATELIMIT_ENABLED", "maybe")]
)
def test_unreadable_values_are_named(tmp_path, name, value):
    with pytest.raises(ConfigError, match=name):
        load_config(str(tmp_path), {"SECRET_KEY": "s", "ENCRYPTION_KEYS": KEY, name: value})


def test_the_demo_generates_its_secrets_once_into_the_instance_folder(tmp_path):
    first = load_config(str(tmp_path), {"CONSOLE_DEMO": "1"})
    second = load_config(str(tmp_path), {"CONSOLE_DEMO": "1"})
    assert first["SECRET_KEY"] == second["SECRET_KEY"] and len(first["SECRET_KEY"]) > 40
    assert first["ENCRYPTION_KEYS"] == second["ENCRYPTION_KEYS"]
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"
    assert first["WECHAT_SIMULATOR"] is True and first["SESSION_COOKIE_SECURE"] is False


def test_bad_encryption_keys_are_refused():
    with pytest.raises(KeyRingError, match="Fernet keys"):
        KeyRing("not-a-key")
    with pytest.raises(KeyRingError):
        KeyRing(" , ")


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ENCRYPTION_KEYS"])
def test_the_app_refuses_to_start_with_one_line(tmp_path, missing):
    environ = {
        key: value for key, value in os.environ.items() if key not in ("SECRET_KEY", "ENCRYPTION_KEYS", "CONSOLE_DEMO")
    }
    environ.update({"SECRET_KEY": "s", "ENCRYPTION_KEYS": KEY, "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    del environ[missing]
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi"], cwd=ROOT, env=environ, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        f"error: {missing} is not set: " + result.stderr.split(": ", 2)[2].strip()
    ]


def test_create_app_takes_overrides(environ):
    app = create_app({"TESTING": True, "LOGIN_CODE_TTL": 5}, environ=environ)
    assert app.config["LOGIN_CODE_TTL"] == 5 and app.config["TESTING"]
