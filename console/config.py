"""Settings, read once from the environment: one typed field per variable, turned into Flask's config.

Production must set SECRET_KEY and ENCRYPTION_KEYS; `make run` (CONSOLE_DEMO=1) generates both once
into the instance folder so a laptop needs no setup.
"""

from __future__ import annotations

import os
import secrets
import zoneinfo
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from cryptography.fernet import Fernet
from pydantic import AfterValidator, BeforeValidator, Field, ValidationError, ValidationInfo, field_validator
from pydantic_core import ErrorDetails, PydanticCustomError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict


class ConfigError(Exception):
    """A setting is missing or unreadable; the message names the variable."""


def _flag(value: Any) -> Any:
    """Read a flag from the spellings the README lists (any case), and no others."""
    # pydantic's own bool also takes t/y/f/n; keep the documented set exactly.
    if isinstance(value, str):
        if value.lower() in ("1", "true", "yes", "on"):
            return True
        if value.lower() in ("0", "false", "no", "off"):
            return False
        raise PydanticCustomError("flag", "must be true or false")
    return value


def _zone(value: str) -> str:
    """Refuse a time zone that the zoneinfo database does not know."""
    try:
        zoneinfo.ZoneInfo(value)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        raise PydanticCustomError("zone", "must be an IANA time zone such as Asia/Shanghai") from None
    return value


Flag = Annotated[bool, BeforeValidator(_flag)]
SIMULATOR_NEEDS_A_BASE = (
    "is not set: WECHAT_SIMULATOR=1 outside CONSOLE_DEMO needs the address this app serves the simulator at, "
    "e.g. http://127.0.0.1:8000/_wechat (see README, Configuration)"
)
_HINTS = {"secret_key": "a long random string", "encryption_keys": "one or more comma-separated Fernet keys"}


class Settings(BaseSettings):
    """Every environment variable the console reads, typed, with its default and its rule."""

    # Fields are validated in this order and only the first error is reported: the order in which
    # problems were always named (the demo flag, the simulator, the secrets, then the rest).
    # validate_default is off so constant defaults (the time zone) are not checked at each start; the
    # fields whose default depends on other variables turn it on, so that their validators run.
    model_config = SettingsConfigDict(validate_default=False)

    console_demo: Flag = False
    wechat_simulator: Annotated[bool | None, BeforeValidator(_flag)] = Field(None, validate_default=True)
    secret_key: str | None = Field(None, validate_default=True)
    encryption_keys: str | None = Field(None, validate_default=True)
    database_url: str | None = None
    flask_run_port: str = "5000"
    wechat_api_base: str | None = Field(None, validate_default=True)
    wechat_simulator_state: str | None = None
    wechat_timeout: Annotated[float, Field(ge=0.1)] = 5.0
    ratelimit_storage_uri: str = "memory://"
    ratelimit_enabled: Flag = True
    ratelimit_api_per_address: str = "60 per minute"
    ratelimit_api_per_login_method: str = "6000 per minute"
    ratelimit_sign_in: str = "20 per minute"
    redis_url: str | None = None
    bind_code_ttl: Annotated[int, Field(ge=1)] = 300
    login_code_ttl: Annotated[int, Field(ge=1)] = 120
    access_token_ttl: Annotated[int, Field(ge=1)] = 7200
    proxy_count: Annotated[int, Field(ge=0)] = 0
    log_level: Annotated[str, AfterValidator(str.upper)] = "INFO"
    # In the contract, read and checked here, used by nothing yet.
    console_timezone: Annotated[str, AfterValidator(_zone)] = "Asia/Shanghai"
    console_language: Literal["zh_CN", "en"] = "zh_CN"
    login_events_days: Annotated[int, Field(ge=1)] = 30
    require_2fa: Flag = False

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Only the values passed in: never os.environ implicitly, so the app and tests give their own."""
        return (init_settings,)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Settings:
        """Read `environ` (not os.environ implicitly), blank as unset; raise ConfigError naming a bad variable."""
        values = {name: environ[name.upper()] for name in cls.model_fields if environ.get(name.upper())}
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            raise ConfigError(_one_line(exc.errors()[0], values)) from None

    @field_validator("wechat_simulator")
    @classmethod
    def _simulator_follows_demo(cls, value: bool | None, info: ValidationInfo) -> bool:
        """Unset, the simulator is on exactly when CONSOLE_DEMO is."""
        return bool(info.data.get("console_demo")) if value is None else value

    @field_validator("secret_key", "encryption_keys")
    @classmethod
    def _required_outside_demo(cls, value: str | None, info: ValidationInfo) -> str | None:
        """Outside CONSOLE_DEMO a secret must be set; the demo's are generated after validation."""
        if value or info.data.get("console_demo"):
            return value
        message = "is not set: export {hint} (see README, Configuration)"
        raise PydanticCustomError("missing_secret", message, {"hint": _HINTS[str(info.field_name)]})

    @field_validator("wechat_api_base")
    @classmethod
    def _api_base(cls, value: str | None, info: ValidationInfo) -> str:
        """Unset, WeChat's own API; or, in the demo only, the simulator mounted on this app (served in-process)."""
        if not value and info.data.get("wechat_simulator"):
            if not info.data.get("console_demo"):
                # Guessing the address from FLASK_RUN_PORT sent appSecrets to whatever held that port under
                # gunicorn: outside the demo the operator names the address, or nothing starts.
                raise PydanticCustomError("simulator_without_base", SIMULATOR_NEEDS_A_BASE)
            # The demo's address only names the mounted simulator: init_simulator serves it without a socket.
            value = f"http://127.0.0.1:{info.data.get('flask_run_port')}/_wechat"
        return (value or "https://api.weixin.qq.com").rstrip("/")


def _instance_secret(instance_path: Path, filename: str, make: Callable[[], str]) -> str:
    """Read a secret generated for the demo, generating it on first use (mode 0600)."""
    path = instance_path / filename
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(make())
    return path.read_text().strip()


# pydantic's own error types, said the way the README says them; our own errors carry their wording.
_RULES = {
    "int_parsing": "must be a number",
    "float_parsing": "must be a number",
    "greater_than_equal": "must be at least {ge}",
    "literal_error": "must be {expected}",
}


def _one_line(error: ErrorDetails, values: Mapping[str, str]) -> str:
    """One line for the first problem: the variable, what it must be, and the value it had."""
    field = str(error["loc"][0])
    rule = _RULES[error["type"]].format(**error.get("ctx", {})) if error["type"] in _RULES else error["msg"]
    if field not in values:  # a missing secret: there is no value to quote
        return f"{field.upper()} {rule}"
    return f"{field.upper()} {rule}, not {values[field]!r}"


# The files `make run` generates into the instance folder: together they are the demo's configuration.
DEMO_SECRET_FILES = ("secret_key", "encryption_keys")
# Any of these set says the command is meant for another configuration than the demo's.
NOT_THE_DEMO = ("CONSOLE_DEMO", "SECRET_KEY", "ENCRYPTION_KEYS", "DATABASE_URL")


def demo_checkout_environ(instance_path: str, environ: Mapping[str, str]) -> Mapping[str, str] | None:
    """The environment a `flask --app wsgi ...` command runs with in a checkout where `make run` set up the demo and
    the shell sets nothing of its own: the demo's (CONSOLE_DEMO=1, as make run exports it), so the commands the
    README prints work as typed. None when the shell configures anything, or `make run` never ran here.

    Only the flask command reads this (never gunicorn, which refuses to start without its secrets), and with no
    DATABASE_URL it can only reach the demo's own database, instance/console.db.
    """
    if any(environ.get(name) for name in NOT_THE_DEMO):
        return None
    if not all((Path(instance_path) / name).is_file() for name in DEMO_SECRET_FILES):
        return None
    return {**environ, "CONSOLE_DEMO": "1"}


def load_config(instance_path: str, environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """Build the Flask config mapping from the environment; raise ConfigError naming a bad variable."""
    instance = Path(instance_path)
    settings = Settings.from_environ(environ)
    demo, simulator = settings.console_demo, settings.wechat_simulator
    # Unset secrets got past validation only under CONSOLE_DEMO: generate them once into the instance folder.
    secret_key = settings.secret_key or _instance_secret(instance, "secret_key", lambda: secrets.token_urlsafe(48))
    encryption_keys = settings.encryption_keys or _instance_secret(
        instance, "encryption_keys", lambda: Fernet.generate_key().decode()
    )
    return {
        "SECRET_KEY": secret_key,
        "ENCRYPTION_KEYS": encryption_keys,
        "SQLALCHEMY_DATABASE_URI": settings.database_url or f"sqlite:///{instance / 'console.db'}",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "CONSOLE_DEMO": demo,
        "WECHAT_API_BASE": settings.wechat_api_base,
        "WECHAT_TIMEOUT": settings.wechat_timeout,
        "WECHAT_SIMULATOR": simulator,
        # In the demo with no WECHAT_API_BASE, calls to the derived address never leave the process.
        "WECHAT_SIMULATOR_IN_PROCESS": bool(simulator and not environ.get("WECHAT_API_BASE")),
        # One SQLite file that every process serving the simulator shares (codes, session keys, apps).
        "WECHAT_SIMULATOR_STATE": (settings.wechat_simulator_state or str(instance / "wechat-simulator.db"))
        if simulator
        else None,
        "RATELIMIT_STORAGE_URI": settings.ratelimit_storage_uri,
        "RATELIMIT_ENABLED": settings.ratelimit_enabled,
        "RATELIMIT_API_PER_ADDRESS": settings.ratelimit_api_per_address,
        "RATELIMIT_API_PER_LOGIN_METHOD": settings.ratelimit_api_per_login_method,
        "RATELIMIT_SIGN_IN": settings.ratelimit_sign_in,
        "REDIS_URL": settings.redis_url,
        "BIND_CODE_TTL": settings.bind_code_ttl,
        "LOGIN_CODE_TTL": settings.login_code_ttl,
        "ACCESS_TOKEN_TTL": settings.access_token_ttl,
        "BIND_TICKET_TTL": 600,
        "PROXY_COUNT": settings.proxy_count,
        "LOG_LEVEL": settings.log_level,
        "CONSOLE_TIMEZONE": settings.console_timezone,
        "CONSOLE_LANGUAGE": settings.console_language,
        "LOGIN_EVENTS_DAYS": settings.login_events_days,
        "REQUIRE_2FA": settings.require_2fa,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": not demo,
        "BOOTSTRAP_SERVE_LOCAL": True,  # the console works with no internet: no CDN
    }
