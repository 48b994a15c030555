"""The seed's instance directory: `<name>/e.json` plus the business config its frontBundleEntry names."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sqlalchemy import select

from console.errors import Refused
from console.extensions import db
from console.login.audit import record
from console.login.element import TYPES, transaction
from console.models import LoginMethod
from console.security.keyring import keyring

NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
APP_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class InstanceDirError(Refused):
    """The directory or upload is not a valid instance; the message says what is wrong in one line."""


@dataclass
class InstanceSpec:
    """What an instance directory declares."""

    name: str
    type_name: str
    title: str
    allow_register: bool
    app_id: str
    app_secret: str | None


def _parse_json(text: bytes | str, label: str) -> dict:
    try:
        data = json.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InstanceDirError(f"{label} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InstanceDirError(f"{label} must hold a JSON object")
    return data


def _read_file(path: Path, label: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InstanceDirError(f"{label} is missing ({path})") from None


def validate_name(name: str) -> str:
    """An instance name: a letter, then letters, digits or _ (64 at most)."""
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise InstanceDirError(
            f"{name!r} is not a valid instance name: use a letter, then letters, digits or _ (64 at most)", field="name"
        )
    return name


def validate_app_id(app_id, label: str = "authConfig.appId") -> str:
    """A WeChat appId: 1 to 64 letters, digits, _ or -."""
    if not isinstance(app_id, str) or not APP_ID_PATTERN.match(app_id):
        raise InstanceDirError(
            f"{label} must be a WeChat appId (letters and digits, e.g. wx1234567890abcdef)", field="app_id"
        )
    return app_id


def validate_title(title, label: str = "title") -> str:
    """A display name: a text of 1 to 128 characters, stripped."""
    if not isinstance(title, str) or not title.strip() or len(title) > 128:
        raise InstanceDirError(f"{label} is required (a text of at most 128 characters)", field="title")
    return title.strip()


def validate_app_secret(app_secret, label: str = "authConfig.appSecret") -> str:
    """An AppSecret: a text of 1 to 256 characters."""
    if not isinstance(app_secret, str) or not app_secret.strip() or len(app_secret) > 256:
        raise InstanceDirError(f"{label} is required (the mini program's AppSecret)", field="app_secret")
    return app_secret


def parse_instance(name: str, element_json: bytes, read_config: Callable[[str], bytes], secret_required: bool = True) -> InstanceSpec:
    """Check an instance's e.json and the configuration file it names (read through `read_config(entry)`)."""
    validate_name(name)
    element = _parse_json(element_json, "e.json")
    type_name = element.get("type")
    if not isinstance(type_name, str) or type_name not in TYPES:
        raise InstanceDirError(f"e.json: type must be one of {', '.join(sorted(TYPES))}, not {type_name!r}")
    title = validate_title(element.get("title"), "e.json: title")
    allow_register = element.get("allowRegister", 0)
    if allow_register not in (0, 1) or isinstance(allow_register, bool):
        raise InstanceDirError(f"e.json: allowRegister must be 1 or 0, not {allow_register!r}")
    if element.get("backendBundleEntry") != ".":
        raise InstanceDirError('e.json: backendBundleEntry must be "."')
    entry = element.get("frontBundleEntry")
    if not isinstance(entry, str) or not entry:
        raise InstanceDirError("e.json: frontBundleEntry must name the business configuration file")
    config = _parse_json(read_config(entry), entry)

    auth = config.get("authConfig")
    if not isinstance(auth, dict):
        raise InstanceDirError(f"{entry}: authConfig is required (an object with appId and appSecret)")
    app_id = validate_app_id(auth.get("appId"))
    app_secret = auth.get("appSecret")
    if app_secret is not None or secret_required:
        validate_app_secret(app_secret, f"{entry}: authConfig.appSecret")
    return InstanceSpec(name, type_name, title, bool(allow_register), app_id, app_secret)


def read_instance_dir(directory: str | os.PathLike, secret_required: bool = True) -> InstanceSpec:
    """Read and check an instance directory; raise InstanceDirError with one clear line."""
    root = Path(directory)
    if not root.is_dir():
        raise InstanceDirError(f"{root} is not a directory")
    root = root.resolve()

    def read_config(entry: str) -> bytes:
        path = (root / entry).resolve()
        if not path.is_relative_to(root):
            raise InstanceDirError(f"e.json: frontBundleEntry {entry!r} points outside the instance directory")
        return _read_file(path, entry)

    return parse_instance(root.name, _read_file(root / "e.json", "e.json"), read_config, secret_required)


def read_instance_upload(name: str, element_json: bytes, config_filename: str, config_json: bytes,
                         secret_required: bool = True) -> InstanceSpec:
    """Check an uploaded e.json and configuration file, as if they were the directory `name`."""

    def read_config(entry: str) -> bytes:
        if PurePosixPath(entry) != PurePosixPath(config_filename):
            raise InstanceDirError(
                f"e.json: frontBundleEntry {entry!r} does not name the uploaded configuration file {config_filename!r}"
            )
        return config_json

    return parse_instance(name, element_json, read_config, secret_required)


def import_instance_dir(directory: str | os.PathLike, update: bool = False) -> tuple[LoginMethod, bool]:
    """Create (or, with update, overwrite) the login method a directory declares; return (method, created)."""
    return save_instance(read_instance_dir(directory, secret_required=False), update)


def save_instance(spec: InstanceSpec, update: bool = False) -> tuple[LoginMethod, bool]:
    """Create (or, with update, overwrite) the login method an instance declares; return (method, created).

    On update an absent appSecret keeps the stored one, so an export without secrets can be re-imported.
    """
    with transaction():
        method = db.session.scalar(select(LoginMethod).where(LoginMethod.name == spec.name))
        if method is not None and not update:
            raise InstanceDirError(f"login method {spec.name!r} already exists; import it with --update to overwrite it")
        if method is None and spec.app_secret is None:
            raise InstanceDirError("authConfig.appSecret is required (the mini program's AppSecret)")
        holder = db.session.scalar(select(LoginMethod).where(LoginMethod.app_id == spec.app_id))
        if holder is not None and holder is not method:
            raise InstanceDirError(f"appId {spec.app_id} is already used by login method {holder.name!r}")
        created = method is None
        if created:
            method = LoginMethod(name=spec.name)
            db.session.add(method)
        method.type_name = spec.type_name
        method.title = spec.title
        method.allow_register = spec.allow_register
        method.app_id = spec.app_id
        if spec.app_secret is not None:
            set_app_secret(method, spec.app_secret)
        db.session.flush()
        record("login_method.import" if created else "login_method.update", method=method, appId=method.app_id)
    return method, created


def set_app_secret(method: LoginMethod, app_secret: str) -> None:
    """Store an appSecret encrypted, with its last four characters as the visible hint."""
    method.app_secret_ciphertext = keyring().encrypt(app_secret)
    method.app_secret_hint = app_secret[-4:]


def instance_files(method: LoginMethod, include_secret: bool = False) -> dict[str, dict]:
    """{filename: JSON object} of a login method in the seed's format; the appSecret only if asked for."""
    config_name = f"{method.name}.json"
    auth = {"appId": method.app_id}
    if include_secret:
        auth["appSecret"] = keyring().decrypt(method.app_secret_ciphertext)
    element = {
        "type": method.type_name,
        "title": method.title,
        "allowRegister": 1 if method.allow_register else 0,
        "backendBundleEntry": ".",
        "frontBundleEntry": f"./{config_name}",
    }
    return {"e.json": element, config_name: {"authConfig": auth}}


def export_instance_dir(method: LoginMethod, directory: str | os.PathLike, include_secret: bool = False) -> Path:
    """Write a login method as the instance directory `directory` (created if missing)."""
    root = Path(directory)
    if root.exists() and not root.is_dir():
        raise InstanceDirError(f"{root} exists and is not a directory")
    root.mkdir(parents=True, exist_ok=True)
    for filename, content in instance_files(method, include_secret).items():
        path = root / filename
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if include_secret else 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(content, handle, indent=2, ensure_ascii=False)
            handle.write("\n")
    with transaction():
        record("login_method.export", method=method, includeSecret=include_secret)
    return root
