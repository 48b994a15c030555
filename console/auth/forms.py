"""The sign-in form."""

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
