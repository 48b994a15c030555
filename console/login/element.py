"""The seed's element model: Meta auths.loginTypes.Meta -> Type -> Instance (a LoginMethod row)."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import select

from console.errors import LoginError
from console.extensions import db
from console.models import LoginMethod
from console.sqlite import WRITE_OPTION

META = "auths.loginTypes.Meta"
ELEMENT_PREFIX = "auths.loginTypes."

# Type name -> class. The official Type registers itself; a project registers a subclass the same way.
TYPES: dict[str, type] = {}


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


def find_login_method(name: str) -> LoginMethod:
    """The login method called `name`; raise login_method_not_found."""
    method = db.session.scalar(select(LoginMethod).where(LoginMethod.name == name)) if isinstance(name, str) else None
    if method is None:
        raise LoginError("login_method_not_found", f"No login method is called {str(name)[:64]!r}.")
    return method


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
    return element_for(find_login_method(full_name[len(ELEMENT_PREFIX):]))


@contextmanager
def transaction():
    """Run the block as one write transaction: committed at its end, or rolled back whole if it raises."""
    if db.session().in_transaction():
        db.session.commit()  # end the read snapshot taken before the block: writes must begin as writes
    db.session.connection(execution_options={WRITE_OPTION: True})
    try:
        yield db.session
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def end_read() -> None:
    """Give the connection back before a slow outbound call, so no transaction or lock is held meanwhile."""
    db.session.commit()
