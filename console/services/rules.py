"""Rules as pydantic types: each carries the one sentence that refuses any value it rejects.

The services' inputs (a login method's fields, a console account's) and the seed's instance directory
format are validated by pydantic models built from these types; `refusal` says the first fault as the
service's Refused, with the form field it belongs to.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import TypeAdapter, ValidationError

from console.errors import Refused

# rules use them too.


@dataclass(frozen=True)
class Rule:
    """Annotated metadata: the one sentence that refuses a value, whatever pydantic found wrong with it.

    The sentence may name {label} (the input as the caller's user knows it) and {value} (what was given);
    `field` is the form field the console shows the refusal next to.
    """

    sentence: str
    field: str | None = None


def refusal(
    error: ValidationError,
    schema: object,
    labels: Mapping[str, str] | None = None,
    kind: type[Refused] = Refused,
    **facts: object,
) -> Refused:
    """The first fault pydantic found in a value of `schema`, said in the sentence of its Rule, as a `kind`."""
    fault = error.errors()[0]
    path = ".".join(str(part) for part in fault["loc"])
    label = (labels or {}).get(path, path)
    rule = _rule_on(schema, fault["loc"])
    if rule is None:  # a field no user types (a checkbox, a select): pydantic's own words will do
        return kind(f"{label}: {fault['msg']}", field=path or None)
    value = None if fault["type"] == "missing" else fault["input"]
    return kind(rule.sentence.format(label=label, value=value, **facts), field=rule.field)


def _rule_on(schema: object, loc: tuple[int | str, ...]) -> Rule | None:
    """The innermost Rule on the way from `schema` (a model or an Annotated type) down to the field at `loc`."""
    found = _rule_in(schema)
    for part in loc:
        fields = getattr(schema, "model_fields", {})
        field = next((info for name, info in fields.items() if part in (name, info.alias)), None)
        if field is None:
            break
        schema = field.annotation
        found = _rule_in(field.metadata) or _rule_in(schema) or found
    return found


def _rule_in(annotation: object) -> Rule | None:
    """The Rule of an Annotated type (of X in `X | None`), or among a field's metadata."""
    if get_origin(annotation) in (Union, UnionType):
        return next(filter(None, map(_rule_in, get_args(annotation))), None)
    if get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[1:]
    if isinstance(annotation, list | tuple):
        return next((item for item in annotation if isinstance(item, Rule)), None)
    return None


def storable(text: str) -> str:
    """An AfterValidator: refuse text no database keeps as given (a NUL, which PostgreSQL refuses; a lone surrogate,
    which no UTF-8 carries). The web's edge refuses them too; files, such as an uploaded e.json, reach a rule first."""
    if any(char == "\x00" or "\ud800" <= char <= "\udfff" for char in text):
        raise ValueError("a NUL or a lone surrogate")
    return text


@functools.cache
def _adapter(rule_type: Any) -> TypeAdapter[Any]:
    return TypeAdapter(rule_type)


def checked(rule_type: Any, value: object, label: str = "") -> Any:
    """`value` as the Annotated type `rule_type` makes it; otherwise its Rule's refusal, naming it `label`."""
    try:
        return _adapter(rule_type).validate_python(value)
    except ValidationError as error:
        raise refusal(error, rule_type, {"": label}) from None


def ordered_dates(since: date | None, until: date | None, since_label: str, until_label: str) -> None:
    """Refuse a date range whose start is after its end, naming both ends: such a filter would match nothing."""
    if since is not None and until is not None and since > until:
        raise Refused(
            f"{since_label} ({since.isoformat()}) is after {until_label} ({until.isoformat()}): "
            "swap the dates or clear one."
        )
