"""The seed's element model: Meta auths.loginTypes.Meta -> Type -> Instance (a LoginMethod row).

Types register under their name; getElement finds a login method and wraps it in its Type."""

from __future__ import annotations

from typing import Any

from console.errors import LoginError
from console.models import LoginMethod
from console.services.login_methods import find_login_method

META = "auths.loginTypes.Meta"
ELEMENT_PREFIX = "auths.loginTypes."

# Type name -> class. The official Type registers itself; a project registers a subclass the same way.
TYPES: dict[str, type[Any]] = {}


def register_type(type_name: str):
    """Class decorator: make a login Type available under `type_name` (the `type` of an e.json)."""

    def decorate(cls):
        cls.typeName = type_name
        TYPES[type_name] = cls
        return cls

    return decorate


class Field:
    """One column of a RowData; the seed reads it as `.value`."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __repr__(self) -> str:
        return f"Field({self.value!r})"


class RowData:
    """The seed's RowData: `row.userId.value`; `row.to_dict()` gives the plain dict."""

    def __init__(self, data: dict):
        self._data = dict(data)

    def __getattr__(self, name: str) -> Field:
        try:
            return Field(self._data[name])
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, name: str):
        return self._data[name]

    def to_dict(self) -> dict:
        """The row as a plain dict."""
        return dict(self._data)

    def __repr__(self) -> str:
        return f"RowData({self._data!r})"


def element_for(method: LoginMethod):
    """The Type instance that serves a login method."""
    cls = TYPES.get(method.type_name)
    if cls is None:
        raise LoginError(
            "login_method_not_found",
            f"Login method {method.name!r} names the Type {method.type_name!r}, which is not registered.",
        )
    return cls(method)


def get_element(full_name: str):
    """The seed's getElement: 'auths.loginTypes.<name>' -> that login method's Type instance."""
    if not isinstance(full_name, str) or not full_name.startswith(ELEMENT_PREFIX):
        raise LoginError("login_method_not_found", f"Element names look like '{ELEMENT_PREFIX}<name>'.")
    return element_for(find_login_method(full_name[len(ELEMENT_PREFIX) :]))
