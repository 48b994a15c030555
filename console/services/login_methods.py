"""Login methods: finding one for a call, and their settings as admins manage them (a write-only appSecret)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from annotated_types import MaxLen, MinLen
from pydantic import AfterValidator, BaseModel, ConfigDict, Strict, StringConstraints, ValidationError
from sqlalchemy import func, select

from console.database import transaction
from console.errors import LoginError, Refused
from console.extensions import db
from console.models import Corp, LoginMethod, WeChatBinding
from console.security.keyring import KeyRingError, keyring
from console.services import bindings, gateway
from console.services.audit import record
from console.services.rules import Rule, checked, refusal, storable
from console.wechat.client import CredentialsVerdict

DELETE_REASON = "login method deleted"
# The longest values the rules below accept; the console's forms refuse longer input with the same numbers.
NAME_MAX, APP_ID_MAX, TITLE_MAX, APP_SECRET_MAX = 64, 64, 128, 256

# The rules of a login method's fields, for the console, the CLI and the instance directory alike. Each is
# strict (a number or bytes is not a text) and its patterns are anchored at both ends of the whole value.
InstanceName = Annotated[
    str,
    Strict(),
    StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,63}$"),
    Rule("{value!r} is not a valid instance name: use a letter, then letters, digits or _ (64 at most)", field="name"),
]
# A mini program's appId, as WeChat issues them: "wx" and 16 lowercase hexadecimal characters.
APP_ID_PATTERN = r"^wx[0-9a-f]{16}$"  # pydantic's regex: $ is the end of the text only
AppId = Annotated[
    str,
    Strict(),
    StringConstraints(pattern=APP_ID_PATTERN),
    Rule(
        "{label} must be a mini program's appId: wx and 16 characters 0-9 or a-f, e.g. wx1234567890abcdef "
        "(copy it from mp.weixin.qq.com, Development → Development settings)",
        field="app_id",
    ),
]
# Kept without its surrounding blanks; the length counts them, as the console form's Length does.
Title = Annotated[
    str,
    Strict(),
    MaxLen(TITLE_MAX),
    AfterValidator(storable),
    AfterValidator(str.strip),
    MinLen(1),
    Rule("{label} is required (a text of at most 128 characters)", field="title"),
]
# Kept as given (blanks inside a secret are WeChat's business), but not blank.
AppSecret = Annotated[
    str,
    Strict(),
    StringConstraints(max_length=APP_SECRET_MAX, pattern=r"\S"),
    AfterValidator(storable),
    Rule("{label} is required (the mini program's AppSecret)", field="app_secret"),
]

# ---------------------------------------------------------------------------------------------------------


def find_login_method(name: str) -> LoginMethod:
    """The login method called `name`; raise login_method_not_found."""
    method = db.session.scalar(select(LoginMethod).where(LoginMethod.name == name)) if isinstance(name, str) else None
    if method is None:
        raise LoginError("login_method_not_found", f"No login method is called {str(name)[:64]!r}.")
    return method


def ensure_enabled(method: LoginMethod) -> None:
    """Refuse a call through a login method an admin switched off."""
    if not method.enabled:
        raise LoginError("login_method_disabled", f"The login method {method.name!r} is switched off.")


def set_app_secret(method: LoginMethod, app_secret: str) -> None:
    """Store an appSecret encrypted, with its last four characters as the visible hint."""
    method.app_secret_ciphertext = keyring().encrypt(app_secret)
    method.app_secret_hint = app_secret[-4:]


# An appSecret typed into the console's form and not saved yet rides along with the re-rendered form sealed, never
# in clear (the page holds no secret): the purpose prefix keeps other sealed values out, the lifetime old pages.
TYPED_SECRET_PURPOSE = "typed-app-secret:"
TYPED_SECRET_LIFETIME = 3600  # seconds


def seal_typed_secret(app_secret: str) -> str:
    """An appSecret just typed, sealed for a hidden field of the re-rendered form."""
    return keyring().encrypt(TYPED_SECRET_PURPOSE + app_secret)


def unseal_typed_secret(sealed: str | None) -> str | None:
    """The appSecret a sealed hidden field carries; None when there is none or it is not one (or too old)."""
    if not sealed:
        return None
    try:
        text = keyring().decrypt(sealed, ttl=TYPED_SECRET_LIFETIME)
    except KeyRingError:
        return None
    return text.removeprefix(TYPED_SECRET_PURPOSE) if text.startswith(TYPED_SECRET_PURPOSE) else None


class MethodSettings(BaseModel):
    """What an admin sets on a login method; app_secret None keeps the stored one."""

    model_config = ConfigDict(strict=True)

    title: Title
    app_id: AppId
    app_secret: AppSecret | None
    allow_register: bool
    enabled: bool
    link_by_unionid: bool
    default_corp_id: int | None


class NewMethodSettings(MethodSettings):
    """The settings of a login method to create: its appSecret is required."""

    app_secret: AppSecret


# How the console's refusals name the settings.
SETTINGS_LABELS = {"title": "The title", "app_id": "The appId", "app_secret": "The appSecret"}


def binding_counts() -> dict[int, int]:
    """{login method id: number of WeChat bindings}"""
    rows = db.session.execute(
        select(WeChatBinding.login_method_id, func.count()).group_by(WeChatBinding.login_method_id)
    )
    return dict(rows.all())


def list_methods() -> list[LoginMethod]:
    """Every login method, by name."""
    return list(db.session.scalars(select(LoginMethod).order_by(LoginMethod.name)))


def _checked(values: Mapping[str, object], method: LoginMethod | None) -> MethodSettings:
    """The settings as the rules make them, for `method` (None: a new one, which needs its appSecret)."""
    model = MethodSettings if method is not None else NewMethodSettings
    try:
        settings = model.model_validate(values)
    except ValidationError as error:
        raise refusal(error, model, SETTINGS_LABELS) from None
    holder = db.session.scalar(select(LoginMethod).where(LoginMethod.app_id == settings.app_id))
    if holder is not None and holder is not method:
        raise Refused(
            f"The appId {settings.app_id} is already used by the login method {holder.name!r}.", field="app_id"
        )
    if settings.default_corp_id is not None and db.session.get(Corp, settings.default_corp_id) is None:
        raise Refused("That corp does not exist.", field="default_corp_id")
    return settings


def _apply(method: LoginMethod, settings: MethodSettings) -> list[str]:
    """Copy the settings onto the method; the names of the settings that changed (never a secret's value)."""
    changed = []
    for field in ("title", "app_id", "allow_register", "enabled", "link_by_unionid", "default_corp_id"):
        value = getattr(settings, field)
        if getattr(method, field) != value:
            setattr(method, field, value)
            changed.append(field)
    if settings.app_secret is not None:
        set_app_secret(method, settings.app_secret)
        changed.append("app_secret")
    return changed


def create_method(name: str, values: Mapping[str, object]) -> LoginMethod:
    """Create a login method from the fields of MethodSettings; the appSecret is required."""
    checked(InstanceName, name)
    with transaction():
        if db.session.scalar(select(LoginMethod.id).where(LoginMethod.name == name)) is not None:
            raise Refused(f"A login method called {name!r} already exists.", field="name")
        settings = _checked(values, None)
        method = LoginMethod(name=name)
        _apply(method, settings)
        db.session.add(method)
        db.session.flush()
        record("login_method.create", method=method, appId=method.app_id)
    return method


def update_method(method: LoginMethod, values: Mapping[str, object]) -> list[str]:
    """Change a login method's settings (MethodSettings' fields; app_secret None keeps the secret): what changed."""
    with transaction():
        settings = _checked(values, method)
        changed = _apply(method, settings)
        if changed:
            record("login_method.update", method=method, changed=changed)
    return changed


def check_credentials(app_id: str, app_secret: str | None, method: LoginMethod | None = None) -> CredentialsVerdict:
    """Ask WeChat whether an appId and appSecret (or the method's stored one) are right; not a counted error."""
    checked(AppId, app_id, SETTINGS_LABELS["app_id"])
    if app_secret is None:
        if method is None:
            raise Refused("Enter the appSecret to check.", field="app_secret")
        app_secret = gateway.app_secret(method)
    return gateway.check_credentials(app_id, app_secret)


def delete_method(method: LoginMethod, confirmed: bool = False) -> int:
    """Delete a login method; with bindings only when confirmed, unbinding each (tokens revoked, audited). How many."""
    user_ids = list(db.session.scalars(select(WeChatBinding.user_id).where(WeChatBinding.login_method_id == method.id)))
    if user_ids and not confirmed:
        raise Refused(
            f"The login method {method.name!r} still has {len(user_ids)} binding(s); "
            "confirm to unbind them all and delete it."
        )
    for user_id in user_ids:
        bindings.remove_binding(method, user_id, reason=DELETE_REASON)
    with transaction():
        record("login_method.delete", method=method, appId=method.app_id, unbound=len(user_ids))
        db.session.delete(method)
    return len(user_ids)
