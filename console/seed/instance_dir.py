"""The seed's instance directory: `<name>/e.json` plus the business config its frontBundleEntry names."""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Annotated, Literal, TypeVar

from annotated_types import MinLen
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, ValidationError
from sqlalchemy import select

from console.database import transaction
from console.errors import Refused
from console.extensions import db
from console.models import LoginMethod
from console.seed.registry import TYPES
from console.services import gateway
from console.services.audit import record
from console.services.login_methods import AppId, AppSecret, InstanceName, Title, set_app_secret
from console.services.rules import Rule, checked, refusal


class InstanceDirError(Refused):
    """The directory or upload is not a valid instance; the message says what is wrong in one line."""


def _registered(type_name: str) -> str:
    if type_name not in TYPES:  # read at each check: a project registers its own Types at start-up
        raise ValueError("no such Type")
    return type_name


def _not_a_bool(value: object) -> object:
    if isinstance(value, bool):  # JSON's true and false are no numbers, though pydantic's Literal takes them as 1, 0
        raise ValueError("a boolean")
    return value


class Format(BaseModel):
    """A JSON file of the seed's format: its fields as JSON types them ("1" is not a number), others ignored."""

    model_config = ConfigDict(strict=True)


class ElementFile(Format):
    """e.json: the Type that serves the instance, its title, registration, and where its configuration is."""

    type: Annotated[str, AfterValidator(_registered), Rule("{label} must be one of {types}, not {value!r}")]
    title: Title
    allowRegister: Annotated[
        Literal[0, 1], BeforeValidator(_not_a_bool), Rule("{label} must be 1 or 0, not {value!r}")
    ] = 0
    backendBundleEntry: Annotated[Literal["."], Rule('{label} must be "."')]
    frontBundleEntry: Annotated[str, MinLen(1), Rule("{label} must name the business configuration file")]


class AuthConfig(Format):
    """The WeChat credentials of the instance; an export without secrets leaves the appSecret out."""

    appId: AppId
    appSecret: AppSecret | None = None


class BusinessConfig(Format):
    """The business configuration file that e.json's frontBundleEntry names."""

    authConfig: Annotated[AuthConfig, Rule("{label} is required (an object with appId and appSecret)")]


@dataclass
class InstanceSpec:
    """What an instance directory declares."""

    name: str
    type_name: str
    title: str
    allow_register: bool
    app_id: str
    app_secret: str | None


FormatT = TypeVar("FormatT", bound=Format)


def _parse(model: type[FormatT], data: bytes, source: str, labels: Mapping[str, str]) -> FormatT:
    """The JSON file `source` read as `model`; an InstanceDirError of one line saying what is wrong with it."""
    try:
        # Decoded first, as json.loads does, so a file saved as UTF-8 with a BOM (Windows editors), UTF-16 or
        # UTF-32 still reads; pydantic's parser takes UTF-8 alone.
        return model.model_validate_json(data.decode(json.detect_encoding(data)))
    except UnicodeDecodeError:
        # The codec's own words (a byte's value and offset) tell a person nothing: say what to do instead.
        raise InstanceDirError(
            f"{source} is not valid JSON: it is not text in UTF-8 (nor UTF-16 or UTF-32). Save it as UTF-8 in an "
            "editor, or export the login method again, and retry."
        ) from None
    except ValidationError as error:
        fault = error.errors()[0]
        if fault["type"] == "json_invalid":
            raise InstanceDirError(
                f"{source} is not valid JSON: {fault['ctx']['error']}. Correct it there and retry."
            ) from None
        if not fault["loc"]:
            raise InstanceDirError(f"{source} must hold a JSON object") from None
        raise refusal(error, model, labels, InstanceDirError, types=", ".join(sorted(TYPES))) from None


def _read_file(path: Path, label: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InstanceDirError(f"{label} is missing ({path})") from None


def parse_instance(name: str, element_json: bytes, read_config: Callable[[str], bytes]) -> InstanceSpec:
    """Check an instance's e.json and the configuration file it names (read through `read_config(entry)`)."""
    checked(InstanceName, name)
    element = _parse(
        ElementFile, element_json, "e.json", {field: f"e.json: {field}" for field in ElementFile.model_fields}
    )
    entry = element.frontBundleEntry
    # How the messages have always named the configuration's fields (the appId's without the file's name).
    labels = {"authConfig": f"{entry}: authConfig", "authConfig.appSecret": f"{entry}: authConfig.appSecret"}
    auth = _parse(BusinessConfig, read_config(entry), entry, labels).authConfig
    return InstanceSpec(name, element.type, element.title, element.allowRegister == 1, auth.appId, auth.appSecret)


def read_instance_dir(directory: str | os.PathLike) -> InstanceSpec:
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

    return parse_instance(root.name, _read_file(root / "e.json", "e.json"), read_config)


def read_instance_upload(name: str, element_json: bytes, config_filename: str, config_json: bytes) -> InstanceSpec:
    """Check an uploaded e.json and configuration file, as if they were the directory `name`."""

    def read_config(entry: str) -> bytes:
        if PurePosixPath(entry) != PurePosixPath(config_filename):
            raise InstanceDirError(
                f"e.json: frontBundleEntry {entry!r} does not name the uploaded configuration file {config_filename!r}:"
                " upload the file it names, or correct frontBundleEntry in e.json",
                field="config",
            )
        return config_json

    return parse_instance(name, element_json, read_config)


def import_instance_dir(directory: str | os.PathLike, update: bool = False) -> tuple[LoginMethod, bool]:
    """Create (or, with update, overwrite) the login method a directory declares; return (method, created)."""
    return save_instance(read_instance_dir(directory), update)


# How to overwrite an existing login method, in the words of the command line and of the console's import form.
OVERWRITE_ON_THE_COMMAND_LINE = "import it with --update to overwrite it"
OVERWRITE_IN_THE_CONSOLE = "tick “Overwrite the login method of that name” to replace it, or choose another name"


def save_instance(
    spec: InstanceSpec, update: bool = False, overwrite: str = OVERWRITE_ON_THE_COMMAND_LINE
) -> tuple[LoginMethod, bool]:
    """Create (or, with update, overwrite) the login method an instance declares; return (method, created).

    On update an absent appSecret keeps the stored one, so an export without secrets can be re-imported. `overwrite`
    says how the caller's user asks for an update.
    """
    with transaction():
        method = db.session.scalar(select(LoginMethod).where(LoginMethod.name == spec.name))
        if method is not None and not update:
            raise InstanceDirError(f"login method {spec.name!r} already exists; {overwrite}", field="update")
        created = method is None
        if created:
            checked(AppSecret, spec.app_secret, "authConfig.appSecret")  # a new login method needs its secret
        holder = db.session.scalar(select(LoginMethod).where(LoginMethod.app_id == spec.app_id))
        if holder is not None and holder is not method:
            raise InstanceDirError(f"appId {spec.app_id} is already used by login method {holder.name!r}")
        if method is None:
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
    spec = read_instance_upload(name, element_json, config_filename, config_json)
    return save_instance(spec, update, OVERWRITE_IN_THE_CONSOLE)


def export_zip(method: LoginMethod, include_secret: bool = False) -> bytes:
    """A zip of the instance directory NAME/e.json + NAME/NAME.json; the appSecret only when asked for."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for filename, content in instance_files(method, include_secret).items():
            archive.writestr(f"{method.name}/{filename}", json.dumps(content, indent=2, ensure_ascii=False) + "\n")
    with transaction():
        record("login_method.export", method=method, includeSecret=include_secret)
    return buffer.getvalue()
