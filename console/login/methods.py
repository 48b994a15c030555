"""Login methods as the console manages them: settings, a write-only appSecret, deletion, import and export."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select

from console.errors import Refused
from console.extensions import db
from console.login.audit import record
from console.login.demo import DEMO_OPEN_PLATFORM
from console.login.element import element_for, end_read, transaction
from console.login.instance_dir import (
    read_instance_upload,
    save_instance,
    instance_files,
    set_app_secret,
    validate_app_id,
    validate_app_secret,
    validate_name,
    validate_title,
)
from console.models import Corp, LoginMethod, WeChatBinding
from console.security.keyring import keyring
from console.wechat.client import CredentialsVerdict, wechat_client

DELETE_REASON = "login method deleted"


@dataclass
class MethodSettings:
    """What an admin sets on a login method; app_secret None keeps the stored one."""

    title: str
    app_id: str
    app_secret: str | None
    allow_register: bool
    enabled: bool
    link_by_unionid: bool
    default_corp_id: int | None


def binding_counts() -> dict[int, int]:
    """{login method id: number of WeChat bindings}"""
    rows = db.session.execute(select(WeChatBinding.login_method_id, func.count()).group_by(WeChatBinding.login_method_id))
    return dict(rows.all())


def list_methods() -> list[LoginMethod]:
    """Every login method, by name."""
    return list(db.session.scalars(select(LoginMethod).order_by(LoginMethod.name)))


def _check(settings: MethodSettings, method: LoginMethod | None) -> None:
    settings.title = validate_title(settings.title, "The title")
    validate_app_id(settings.app_id, "The appId")
    if settings.app_secret is not None or method is None:
        validate_app_secret(settings.app_secret, "The appSecret")
    holder = db.session.scalar(select(LoginMethod).where(LoginMethod.app_id == settings.app_id))
    if holder is not None and holder is not method:
        raise Refused(f"The appId {settings.app_id} is already used by the login method {holder.name!r}.", field="app_id")
    if settings.default_corp_id is not None and db.session.get(Corp, settings.default_corp_id) is None:
        raise Refused("That corp does not exist.", field="default_corp_id")


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


def create_method(name: str, settings: MethodSettings) -> LoginMethod:
    """Create a login method; the appSecret is required."""
    validate_name(name)
    with transaction():
        if db.session.scalar(select(LoginMethod.id).where(LoginMethod.name == name)) is not None:
            raise Refused(f"A login method called {name!r} already exists.", field="name")
        _check(settings, None)
        method = LoginMethod(name=name)
        _apply(method, settings)
        db.session.add(method)
        db.session.flush()
        record("login_method.create", method=method, appId=method.app_id)
    return method


def update_method(method: LoginMethod, settings: MethodSettings) -> list[str]:
    """Change a login method's settings; a blank appSecret keeps the stored one. The names of what changed."""
    with transaction():
        _check(settings, method)
        changed = _apply(method, settings)
        if changed:
            record("login_method.update", method=method, changed=changed)
    return changed


def check_credentials(app_id: str, app_secret: str | None, method: LoginMethod | None = None) -> CredentialsVerdict:
    """Ask WeChat whether an appId and appSecret (or the method's stored one) are right; not a counted error."""
    validate_app_id(app_id, "The appId")
    if app_secret is None:
        if method is None:
            raise Refused("Enter the appSecret to check.", field="app_secret")
        app_secret = keyring().decrypt(method.app_secret_ciphertext)
    end_read()
    return wechat_client().check_credentials(app_id, app_secret)


def delete_method(method: LoginMethod, confirmed: bool = False) -> int:
    """Delete a login method; with bindings only when confirmed, unbinding each (tokens revoked, audited). How many."""
    user_ids = list(db.session.scalars(select(WeChatBinding.user_id).where(WeChatBinding.login_method_id == method.id)))
    if user_ids and not confirmed:
        raise Refused(
            f"The login method {method.name!r} still has {len(user_ids)} binding(s); "
            "confirm to unbind them all and delete it."
        )
    element = element_for(method)
    for user_id in user_ids:
        element.removeBinding(user_id, reason=DELETE_REASON)
    with transaction():
        record("login_method.delete", method=method, appId=method.app_id, unbound=len(user_ids))
        db.session.delete(method)
    return len(user_ids)


def import_upload(name: str, element_json: bytes, config_filename: str, config_json: bytes,
                  update: bool = False) -> tuple[LoginMethod, bool]:
    """Import an uploaded e.json and configuration file as the instance `name`: (method, created)."""
    return save_instance(read_instance_upload(name, element_json, config_filename, config_json, secret_required=False), update)


def export_zip(method: LoginMethod, include_secret: bool = False) -> bytes:
    """A zip of the instance directory NAME/e.json + NAME/NAME.json; the appSecret only when asked for."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for filename, content in instance_files(method, include_secret).items():
            archive.writestr(f"{method.name}/{filename}", json.dumps(content, indent=2, ensure_ascii=False) + "\n")
    with transaction():
        record("login_method.export", method=method, includeSecret=include_secret)
    return buffer.getvalue()


def simulated_app_ids() -> set[str]:
    """The appIds the in-process WeChat simulator knows."""
    return set(current_app.extensions["wechat_simulator"].apps)


def register_with_simulator(method: LoginMethod) -> None:
    """Teach the in-process WeChat simulator this login method's appId and appSecret (demo and tests only)."""
    current_app.extensions["wechat_simulator"].register_app(
        method.app_id, keyring().decrypt(method.app_secret_ciphertext), open_platform=DEMO_OPEN_PLATFORM
    )
    with transaction():
        record("login_method.simulate", method=method, appId=method.app_id)
