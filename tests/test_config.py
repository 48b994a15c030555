"""Configuration from the environment: required secrets, defaults, one-line refusals."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from console import create_app
from console.config import ConfigError, Settings, load_config
from console.security.keyring import KeyRing, KeyRingError

ROOT = Path(__file__).resolve().parents[1]
KEY = Fernet.generate_key().decode()
SECRETS = {"SECRET_KEY": "s", "ENCRYPTION_KEYS": KEY}
ZONE = "must be an IANA time zone such as Asia/Shanghai"
FLAGS = ["CONSOLE_DEMO", "WECHAT_SIMULATOR", "RATELIMIT_ENABLED", "REQUIRE_2FA"]


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


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("CONSOLE_DEMO", "maybe", "CONSOLE_DEMO must be true or false, not 'maybe'"),
        ("WECHAT_SIMULATOR", "2", "WECHAT_SIMULATOR must be true or false, not '2'"),
        ("RATELIMIT_ENABLED", "t", "RATELIMIT_ENABLED must be true or false, not 't'"),  # pydantic alone takes t
        ("REQUIRE_2FA", " on", "REQUIRE_2FA must be true or false, not ' on'"),
        ("WECHAT_TIMEOUT", "abc", "WECHAT_TIMEOUT must be a number, not 'abc'"),
        ("WECHAT_TIMEOUT", "0.05", "WECHAT_TIMEOUT must be at least 0.1, not '0.05'"),
        ("WECHAT_TIMEOUT", "nan", "WECHAT_TIMEOUT must be at least 0.1, not 'nan'"),
        ("BIND_CODE_TTL", "0", "BIND_CODE_TTL must be at least 1, not '0'"),
        ("LOGIN_CODE_TTL", "1.5", "LOGIN_CODE_TTL must be a number, not '1.5'"),
        ("ACCESS_TOKEN_TTL", "-5", "ACCESS_TOKEN_TTL must be at least 1, not '-5'"),
        ("PROXY_COUNT", "-1", "PROXY_COUNT must be at least 0, not '-1'"),
        ("PROXY_COUNT", "two", "PROXY_COUNT must be a number, not 'two'"),
        ("LOGIN_EVENTS_DAYS", "0", "LOGIN_EVENTS_DAYS must be at least 1, not '0'"),
        ("CONSOLE_TIMEZONE", "Mars/Base", f"CONSOLE_TIMEZONE {ZONE}, not 'Mars/Base'"),
        ("CONSOLE_TIMEZONE", "../etc/passwd", f"CONSOLE_TIMEZONE {ZONE}, not '../etc/passwd'"),
        ("CONSOLE_LANGUAGE", "fr", "CONSOLE_LANGUAGE must be 'zh_CN' or 'en', not 'fr'"),
    ],
)
def test_each_rule_refuses_in_one_line_naming_the_variable(tmp_path, name, value, message):
    with pytest.raises(ConfigError) as refused:
        load_config(str(tmp_path), {**SECRETS, name: value})
    assert str(refused.value) == message


@pytest.mark.parametrize(
    "missing, message",
    [
        ("SECRET_KEY", "SECRET_KEY is not set: export a long random string (see README, Configuration)"),
        (
            "ENCRYPTION_KEYS",
            "ENCRYPTION_KEYS is not set: export one or more comma-separated Fernet keys (see README, Configuration)",
        ),
    ],
)
@pytest.mark.parametrize("unset", [None, ""])
def test_a_missing_or_blank_secret_is_refused_outside_the_demo(tmp_path, missing, message, unset):
    environ = {**SECRETS, "CONSOLE_DEMO": "0"}
    if unset is None:
        del environ[missing]
    else:
        environ[missing] = unset
    with pytest.raises(ConfigError) as refused:
        load_config(str(tmp_path), environ)
    assert str(refused.value) == message
    assert not list(tmp_path.iterdir())  # nothing generated


def test_the_first_problem_is_named_in_the_order_it_always_was(tmp_path):
    with pytest.raises(ConfigError, match="^CONSOLE_DEMO "):
        load_config(str(tmp_path), {"CONSOLE_DEMO": "x", "WECHAT_TIMEOUT": "x"})
    with pytest.raises(ConfigError, match="^SECRET_KEY is not set"):
        load_config(str(tmp_path), {"ENCRYPTION_KEYS": KEY, "WECHAT_TIMEOUT": "x"})
    with pytest.raises(ConfigError, match="^WECHAT_TIMEOUT "):
        load_config(str(tmp_path), {**SECRETS, "WECHAT_TIMEOUT": "x", "PROXY_COUNT": "x"})


@pytest.mark.parametrize("name", FLAGS)
@pytest.mark.parametrize(
    "value, expected",
    [("1", True), ("true", True), ("Yes", True), ("ON", True)]
    + [("0", False), ("false", False), ("NO", False), ("off", False)],
)
def test_flags_take_the_documented_spellings_in_any_case(tmp_path, name, value, expected):
    # WECHAT_SIMULATOR=1 outside the demo needs the address it is served at
    environ = {**SECRETS, "WECHAT_API_BASE": "http://127.0.0.1:8000/_wechat", name: value}
    assert load_config(str(tmp_path), environ)[name] is expected


def test_blank_means_the_default_for_every_variable(tmp_path):
    blank = {name.upper(): "" for name in Settings.model_fields if name not in ("secret_key", "encryption_keys")}
    assert len(blank) == 22
    assert load_config(str(tmp_path), {**SECRETS, **blank}) == load_config(str(tmp_path), SECRETS)


def test_values_are_read_typed(tmp_path):
    config = load_config(
        str(tmp_path),
        {
            **SECRETS,
            "DATABASE_URL": "postgresql+psycopg://u@h/db",
            "WECHAT_API_BASE": "https://wechat.example/",
            "WECHAT_TIMEOUT": "0.1",
            "RATELIMIT_STORAGE_URI": "redis://r:6379/0",
            "RATELIMIT_API_PER_ADDRESS": "1 per second",
            "RATELIMIT_API_PER_LOGIN_METHOD": "2 per second",
            "RATELIMIT_SIGN_IN": "3 per minute",
            "REDIS_URL": "redis://r:6379/1",
            "BIND_CODE_TTL": "1",
            "LOGIN_CODE_TTL": " 60 ",
            "ACCESS_TOKEN_TTL": "3600",
            "PROXY_COUNT": "0",
            "LOG_LEVEL": "debug",
        },
    )
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"
    assert config["WECHAT_API_BASE"] == "https://wechat.example"  # no trailing slash
    assert config["WECHAT_TIMEOUT"] == 0.1 and type(config["WECHAT_TIMEOUT"]) is float
    assert config["RATELIMIT_STORAGE_URI"] == "redis://r:6379/0" and config["REDIS_URL"] == "redis://r:6379/1"
    limits = ("RATELIMIT_API_PER_ADDRESS", "RATELIMIT_API_PER_LOGIN_METHOD", "RATELIMIT_SIGN_IN")
    assert [config[name] for name in limits] == ["1 per second", "2 per second", "3 per minute"]
    assert (config["BIND_CODE_TTL"], config["LOGIN_CODE_TTL"], config["ACCESS_TOKEN_TTL"]) == (1, 60, 3600)
    assert type(config["BIND_CODE_TTL"]) is int and config["PROXY_COUNT"] == 0
    assert config["LOG_LEVEL"] == "DEBUG"


def test_the_contract_settings_not_yet_used_have_their_defaults_and_rules(tmp_path):
    config = load_config(str(tmp_path), SECRETS)
    assert (config["CONSOLE_TIMEZONE"], config["CONSOLE_LANGUAGE"]) == ("Asia/Shanghai", "zh_CN")
    assert (config["LOGIN_EVENTS_DAYS"], config["REQUIRE_2FA"]) == (30, False)
    chosen = {"CONSOLE_TIMEZONE": "UTC", "CONSOLE_LANGUAGE": "en", "LOGIN_EVENTS_DAYS": "7", "REQUIRE_2FA": "yes"}
    config = load_config(str(tmp_path), {**SECRETS, **chosen})
    assert [config[name] for name in chosen] == ["UTC", "en", 7, True]


def test_the_simulator_follows_the_demo_and_moves_the_api_base(tmp_path):
    demo = load_config(str(tmp_path), {"CONSOLE_DEMO": "1", "FLASK_RUN_PORT": "5050"})
    assert demo["WECHAT_SIMULATOR"] is True and demo["WECHAT_API_BASE"] == "http://127.0.0.1:5050/_wechat"
    assert demo["WECHAT_SIMULATOR_IN_PROCESS"] is True  # the derived address is served in-process, never dialled
    assert demo["WECHAT_SIMULATOR_STATE"] == str(tmp_path / "wechat-simulator.db")
    real = load_config(str(tmp_path), {"CONSOLE_DEMO": "1", "WECHAT_SIMULATOR": "0"})
    assert real["WECHAT_SIMULATOR"] is False and real["WECHAT_SIMULATOR_STATE"] is None
    assert real["WECHAT_API_BASE"] == "https://api.weixin.qq.com" and real["CONSOLE_DEMO"] is True
    assert real["WECHAT_SIMULATOR_IN_PROCESS"] is False
    chosen = {**SECRETS, "WECHAT_SIMULATOR": "1", "WECHAT_API_BASE": "http://sim:9/_wechat/"}
    config = load_config(str(tmp_path), chosen)
    assert config["WECHAT_API_BASE"] == "http://sim:9/_wechat" and config["WECHAT_SIMULATOR_IN_PROCESS"] is False
    placed = load_config(str(tmp_path), {**chosen, "WECHAT_SIMULATOR_STATE": str(tmp_path / "shared.db")})
    assert placed["WECHAT_SIMULATOR_STATE"] == str(tmp_path / "shared.db")


SIMULATOR_NEEDS_A_BASE = (
    "WECHAT_API_BASE is not set: WECHAT_SIMULATOR=1 outside CONSOLE_DEMO needs the address this app serves the "
    "simulator at, e.g. http://127.0.0.1:8000/_wechat (see README, Configuration)"
)


@pytest.mark.parametrize("port", [None, "5000", "8000"])
def test_the_simulator_outside_the_demo_refuses_to_guess_where_it_is_served(tmp_path, port):
    # The address used to be built from FLASK_RUN_PORT: under gunicorn the secret went to whatever held that port.
    environ = {**SECRETS, "WECHAT_SIMULATOR": "1", **({"FLASK_RUN_PORT": port} if port else {})}
    with pytest.raises(ConfigError) as refused:
        load_config(str(tmp_path), environ)
    assert str(refused.value) == SIMULATOR_NEEDS_A_BASE
    with pytest.raises(ConfigError, match="^WECHAT_API_BASE is not set"):
        load_config(str(tmp_path), {**environ, "CONSOLE_DEMO": "0", "WECHAT_API_BASE": ""})


def test_the_app_refuses_to_start_the_simulator_without_its_address_in_one_line(tmp_path):
    unset = ("CONSOLE_DEMO", "WECHAT_API_BASE", "FLASK_RUN_PORT")
    environ = {key: value for key, value in os.environ.items() if key not in unset}
    environ.update({**SECRETS, "WECHAT_SIMULATOR": "1", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi"], cwd=ROOT, env=environ, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [f"error: {SIMULATOR_NEEDS_A_BASE}"]


def test_the_demo_keeps_secrets_that_are_set_and_generates_both_files_0600(tmp_path):
    config = load_config(str(tmp_path / "a"), {**SECRETS, "CONSOLE_DEMO": "1"})
    assert (config["SECRET_KEY"], config["ENCRYPTION_KEYS"]) == ("s", KEY) and not (tmp_path / "a").exists()
    config = load_config(str(tmp_path / "b"), {"CONSOLE_DEMO": "yes"})
    for name in ("secret_key", "encryption_keys"):
        assert oct((tmp_path / "b" / name).stat().st_mode & 0o777) == "0o600"
    KeyRing(config["ENCRYPTION_KEYS"])  # a usable Fernet key


def test_only_the_given_environ_is_read(tmp_path, monkeypatch):
    monkeypatch.setenv("WECHAT_TIMEOUT", "not a number")
    monkeypatch.setenv("wechat_timeout", "not a number")
    assert load_config(str(tmp_path), SECRETS)["WECHAT_TIMEOUT"] == 5.0
    assert Settings.from_environ({**SECRETS, "LOGIN_EVENTS_DAYS": "9"}).login_events_days == 9
