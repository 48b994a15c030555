"""Settings, read once from the environment.

Production must set SECRET_KEY and ENCRYPTION_KEYS; `make run` (CONSOLE_DEMO=1) generates both once
into the instance folder so a laptop needs no setup.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet


class ConfigError(Exception):
    """A setting is missing or unreadable; the message names the variable."""


def _flag(environ, name: str, default: bool) -> bool:
    value = environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, not {value!r}")


def _number(environ, name: str, default, kind=int, minimum=1):
    value = environ.get(name)
    if value is None or value == "":
        return default
    try:
        number = kind(value)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {value!r}") from None
    if number < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {value!r}")
    return number


def _instance_secret(instance_path: Path, filename: str, make) -> str:
    """Read a secret generated for the demo, generating it on first use (mode 0600)."""
    path = instance_path / filename
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(make())
    return path.read_text().strip()


def load_config(instance_path: str, environ=os.environ) -> dict:
    """Build the Flask config mapping from the environment; raise ConfigError naming a bad variable."""
    instance = Path(instance_path)
    demo = _flag(environ, "CONSOLE_DEMO", False)
    simulator = _flag(environ, "WECHAT_SIMULATOR", demo)

    secret_key = environ.get("SECRET_KEY") or (
        _instance_secret(instance, "secret_key", lambda: secrets.token_urlsafe(48)) if demo else None
    )
    if not secret_key:
        raise ConfigError("SECRET_KEY is not set: export a long random string (see README, Configuration)")
    encryption_keys = environ.get("ENCRYPTION_KEYS") or (
        _instance_secret(instance, "encryption_keys", lambda: Fernet.generate_key().decode()) if demo else None
    )
    if not encryption_keys:
        raise ConfigError(
            "ENCRYPTION_KEYS is not set: export one or more comma-separated Fernet keys (see README, Configuration)"
        )

    api_base = environ.get("WECHAT_API_BASE")
    if not api_base:
        port = environ.get("FLASK_RUN_PORT", "5000")
        api_base = f"http://127.0.0.1:{port}/_wechat" if simulator else "https://api.weixin.qq.com"

    return {
        "SECRET_KEY": secret_key,
        "ENCRYPTION_KEYS": encryption_keys,
        "SQLALCHEMY_DATABASE_URI": environ.get("DATABASE_URL") or f"sqlite:///{instance / 'console.db'}",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "CONSOLE_DEMO": demo,
        "WECHAT_API_BASE": api_base.rstrip("/"),
        "WECHAT_TIMEOUT": _number(environ, "WECHAT_TIMEOUT", 5.0, float, minimum=0.1),
        "WECHAT_SIMULATOR": simulator,
        "WECHAT_SIMULATOR_STATE": str(instance / "wechat-simulator.json") if simulator else None,
        "RATELIMIT_STORAGE_URI": environ.get("RATELIMIT_STORAGE_URI") or "memory://",
        "RATELIMIT_ENABLED": _flag(environ, "RATELIMIT_ENABLED", True),
        "RATELIMIT_API_PER_ADDRESS": environ.get("RATELIMIT_API_PER_ADDRESS") or "60 per minute",
        "RATELIMIT_API_PER_LOGIN_METHOD": environ.get("RATELIMIT_API_PER_LOGIN_METHOD") or "6000 per minute",
        "RATELIMIT_SIGN_IN": environ.get("RATELIMIT_SIGN_IN") or "20 per minute",
        "REDIS_URL": environ.get("REDIS_URL") or None,
        "BIND_CODE_TTL": _number(environ, "BIND_CODE_TTL", 300),
        "LOGIN_CODE_TTL": _number(environ, "LOGIN_CODE_TTL", 120),
        "ACCESS_TOKEN_TTL": _number(environ, "ACCESS_TOKEN_TTL", 7200),
        "BIND_TICKET_TTL": 600,
        "PROXY_COUNT": _number(environ, "PROXY_COUNT", 0, minimum=0),
        "LOG_LEVEL": (environ.get("LOG_LEVEL") or "INFO").upper(),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": not demo,
        "BOOTSTRAP_SERVE_LOCAL": True,  # the console works with no internet: no CDN
    }
