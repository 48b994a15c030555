"""The sign-in forms: the password, then a code; and the forms of an account's own second factor."""

from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import InputRequired, Length

from console.forms import ConsoleForm
from console.services.console_accounts import USERNAME_MAX


class SignInForm(ConsoleForm):
    """Username and password."""

    username = StringField(
        "Username",
        validators=[InputRequired(), Length(max=USERNAME_MAX)],
        render_kw={"autocomplete": "username", "autofocus": True},
    )
    password = PasswordField(
        "Password", validators=[InputRequired(), Length(max=256)], render_kw={"autocomplete": "current-password"}
    )
    submit = SubmitField("Sign in")


CODE_MAX = 64  # a recovery code typed with blanks or dashes fits; anything longer is no code of ours
_CODE_INPUT = {"autocomplete": "one-time-code", "spellcheck": "false", "autocapitalize": "off"}


class CodeForm(ConsoleForm):
    """The second step of a sign-in: a code from the authenticator app, or a recovery code."""

    code = StringField(
        "Authentication code",
        validators=[InputRequired(), Length(max=CODE_MAX)],
        description="The 6-digit code from your authenticator app, or one of your recovery codes.",
        render_kw={**_CODE_INPUT, "autofocus": True},
    )
    submit = SubmitField("Verify")


class EnrolForm(ConsoleForm):
    """The first code from a newly set-up authenticator app."""

    code = StringField(
        "Code from the app",
        validators=[InputRequired(), Length(max=CODE_MAX)],
        description="The 6-digit code the app shows for this account.",
        render_kw={**_CODE_INPUT, "inputmode": "numeric"},
    )
    submit = SubmitField("Turn on two-factor sign-in")


class DisableTwoFactorForm(ConsoleForm):
    """Your password and a code again, to turn your own second factor off."""

    password = PasswordField(
        "Your password", validators=[InputRequired(), Length(max=256)], render_kw={"autocomplete": "current-password"}
    )
    code = StringField(
        "Authentication code",
        validators=[InputRequired(), Length(max=CODE_MAX)],
        description="From your authenticator app, or a recovery code.",
        render_kw=_CODE_INPUT,
    )
    submit = SubmitField("Turn off two-factor sign-in")


class RenewRecoveryCodesForm(ConsoleForm):
    """A current code from the app, to replace the recovery codes."""

    code = StringField(
        "Code from the app",
        validators=[InputRequired(), Length(max=CODE_MAX)],
        render_kw={**_CODE_INPUT, "inputmode": "numeric"},
    )
    submit = SubmitField("Make new recovery codes")
