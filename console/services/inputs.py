"""The arguments of the login element, validated in one place for the Python API and the JSON API.

The JSON API's OpenAPI document is generated from these same models.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints, ValidationError

from console.errors import LoginError

WeChatCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=256)]
IssuedValue = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
# Every id column is PostgreSQL's `integer`: a larger number names no row (and PostgreSQL refuses to compare it).
MAX_ID = 2**31 - 1
# Page numbers past this are clamped: any page's offset then fits the databases' 64-bit OFFSET.
MAX_PAGE = 2**31 - 1

Url = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=512, pattern=r"^https?://")]


class Input(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")


class LoginInput(Input):
    """POST .../login"""

    code: WeChatCode = Field(description="The code from wx.login(), valid 5 minutes, single use.")


class RegisterInput(Input):
    """POST .../register"""

    bindCode: IssuedValue = Field(description="The bindCode that login answered for a new WeChat user.")
    name: Name | None = Field(default=None, description="Display name of the new user.")
    avatarUrl: Url | None = Field(default=None, description="http(s) URL of the user's avatar.")


class TokenInput(Input):
    """POST /auth/token"""

    loginCode: IssuedValue = Field(description="The loginCode from login or register, valid 120 seconds.")
    corpId: Name | None = Field(default=None, description="The corp to act in; one of the user's corpList.")


class BindInput(Input):
    """POST .../bind"""

    code: WeChatCode = Field(description="The code from wx.login() of the WeChat user to bind.")
    ticket: IssuedValue | None = Field(
        default=None, description="A one-time bind ticket from the console, instead of a bearer token."
    )


class DecryptInput(Input):
    """POST .../decrypt"""

    encryptedData: Annotated[str, StringConstraints(min_length=1, max_length=65536)] = Field(
        description="The encryptedData WeChat gave the mini program (base64)."
    )
    iv: Annotated[str, StringConstraints(min_length=1, max_length=64)] = Field(description="Its iv (base64, 16 bytes).")
    rawData: Annotated[str, StringConstraints(max_length=16384)] | None = Field(
        default=None, description="rawData, when the data came with a signature; checked before decrypting."
    )
    signature: Annotated[str, StringConstraints(max_length=128)] | None = Field(
        default=None, description="sha1(rawData + session_key) as WeChat computed it."
    )


class PhoneInput(Input):
    """POST .../phone"""

    code: WeChatCode = Field(description="The code from the getPhoneNumber button, valid 5 minutes, single use.")


class UserIdInput(Input):
    """The seed's userId argument."""

    userId: StrictInt = Field(ge=1, le=MAX_ID)


class EmptyInput(Input):
    """Endpoints whose body is {}."""


def page_number(value: object) -> int:
    """A page number from a query string: 1 for anything that is not a whole number, else clamped to 1..MAX_PAGE."""
    try:
        number = int(str(value))
    except ValueError:  # not a number, or more digits than int() reads
        return 1
    return min(max(number, 1), MAX_PAGE)


InputModel = TypeVar("InputModel", bound=Input)


def validated(model: type[InputModel], data: Any) -> InputModel:
    """Validate arguments against a model; raise invalid_request naming the first bad field."""
    if not isinstance(data, dict):
        raise LoginError("invalid_request", "The body must be a JSON object.")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        field = ".".join(str(part) for part in first["loc"]) or "body"
        message = "is required" if first["type"] == "missing" else first["msg"][0].lower() + first["msg"][1:]
        raise LoginError("invalid_request", f"Field '{field}' {message}.") from None
