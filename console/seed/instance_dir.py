"""The seed's instance directory: `<name>/e.json` plus the business config its frontBundleEntry names."""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sqlalchemy import select

from console.database import transaction
from console.errors import Refused
from console.extensions import db
from console.models import LoginMethod
from console.seed.registry import TYPES
from console.services import gateway
from console.services.audit import record
from console.services.login_methods import (
    set_app_secret,
    validate_app_id,
    validate_app_secret,
    validate_name,
    validate_title,
)


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


def parse_instance(
    name: str, element_json: bytes, read_config: Callable[[str], bytes], secret_required: bool = True
) -> InstanceSpec:
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


def read_instance_upload(
    name: str, element_json: bytes, config_filename: str, config_json: bytes, secret_required: bool = True
) -> InstanceSpec:
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
            raise InstanceDirError(
                f"login method {spec.name!r} already exists; import it with --update to overwrite it"
            )
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


def instance_files(method: LoginMethod, include_secret: bool = False) -> dict[str, dict]:
    """{filename: JSON object} of a login method in the seed's format; the appSecret only if asked for."""
    config_name = f"{method.name}.json"
    auth = {"appId": method.app_id}
    if include_secret:
        auth["appSecret"] = gateway.app_secret(method)
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


def import_upload(
    name: str, element_json: bytes, config_filename: str, config_json: bytes, update: bool = False
) -> tuple[LoginMethod, bool]:
    """Import an uploaded e.json and configuration file as the instance `name`: (method, created)."""
    spec = read_instance_upload(name, element_json, config_filename, config_json, secret_required=False)
    return save_instance(spec, update)


def export_zip(method: LoginMethod, include_secret: bool = False) -> bytes:
    """A zip of the instance directory NAME/e.json + NAME/NAME.json; the appSecret only when asked for."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for filename, content in instance_files(method, include_secret).items():
            archive.writestr(f"{method.name}/{filename}", json.dumps(content, indent=2, ensure_ascii=False) + "\n")
    with transaction():
        record("login_method.export", method=method, includeSecret=include_secret)
    return buffer.getvalue()
