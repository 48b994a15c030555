"""The console's forms. Presence and types are checked here; every business rule is the service's."""

from __future__ import annotations

from flask_wtf.file import FileField, FileRequired, FileSize
from markupsafe import Markup
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, NumberRange, Optional

from console.forms import ConsoleForm
from console.models import ROLE_SUPPORT, ROLES
from console.services.console_accounts import USERNAME_MAX
from console.services.inputs import MAX_ID
from console.services.login_methods import APP_ID_MAX, APP_SECRET_MAX, NAME_MAX, TITLE_MAX
from console.services.users import NAME_MAX as USER_NAME_MAX
from console.services.users import PAGE_SIZES, PHONE_INPUT_MAX, SINCE_LABEL, STATUSES, UNTIL_LABEL

MAX_UPLOAD = 256 * 1024


def _none_for_zero(value):
    """SelectField coercion: the "none" choice (0 or blank) is None."""
    return int(value) if value not in (None, "", "0", 0) else None


def _stripped(value):
    """Filter: surrounding blanks do not count as input."""
    return value.strip() if isinstance(value, str) else value


class MethodForm(ConsoleForm):
    """A login method's settings; the appSecret field is never filled back in (an unsaved one is kept sealed)."""

    name = StringField(
        "Instance name",
        validators=[InputRequired(), Length(max=NAME_MAX)],
        # Bootstrap-Flask renders a description as HTML: the placeholder <name> must be escaped to be seen.
        description=Markup("<code>auths.loginTypes.&lt;name&gt;</code>: a letter, then letters, digits or _. ")
        + "It cannot change later.",
    )
    title = StringField("Title", validators=[InputRequired(), Length(max=TITLE_MAX)])
    app_id = StringField(
        "appId", validators=[InputRequired(), Length(max=APP_ID_MAX)], render_kw={"autocomplete": "off"}
    )
    app_secret = PasswordField(
        "appSecret", validators=[Optional(), Length(max=APP_SECRET_MAX)], render_kw={"autocomplete": "new-password"}
    )
    allow_register = BooleanField("Allow registration of new WeChat users")
    enabled = BooleanField("Enabled", default=True)
    link_by_unionid = BooleanField("Link WeChat users to an existing account by unionId", default=True)
    default_corp_id = SelectField("Default corp of new users", coerce=_none_for_zero, validate_choice=True)
    # The appSecret typed before the page was re-rendered (Check credentials, a refusal), sealed by the service.
    kept_secret = HiddenField(validators=[Optional(), Length(max=4096)])
    save = SubmitField("Save")
    check = SubmitField("Check credentials", render_kw={"formnovalidate": True})


class DeleteMethodForm(ConsoleForm):
    """Confirmation of a deletion that unbinds users."""

    confirm = BooleanField("Unbind every user of this login method and delete it")


class ImportForm(ConsoleForm):
    """An instance uploaded as its two files."""

    name = StringField(
        "Instance name",
        validators=[InputRequired(), Length(max=NAME_MAX)],
        description="The directory's name in the seed's format, e.g. myWeChatMiniLogin.",
    )
    element = FileField(
        "e.json",
        validators=[
            FileRequired("Choose the instance's e.json file."),
            FileSize(MAX_UPLOAD, message=f"e.json can be {MAX_UPLOAD // 1024} KB at most: this file is larger."),
        ],
    )
    config = FileField(
        "Business configuration file (the one frontBundleEntry names)",
        validators=[
            FileRequired("Choose the business configuration file that e.json's frontBundleEntry names."),
            FileSize(
                MAX_UPLOAD,
                message=f"The configuration file can be {MAX_UPLOAD // 1024} KB at most: this one is larger.",
            ),
        ],
    )
    update = BooleanField(
        "Overwrite the login method of that name if it exists (an absent appSecret keeps the stored one)"
    )
    submit = SubmitField("Import")


class ExportForm(ConsoleForm):
    """An export, with or without the appSecret."""

    include_secret = BooleanField("Include the appSecret (keep the file safe)")
    submit = SubmitField("Export zip")


class UnbindForm(ConsoleForm):
    """Support's unbind, with the reason the audit log keeps."""

    reason = StringField(
        "Reason",
        validators=[DataRequired(), Length(max=200)],
        filters=[_stripped],
        description="Kept in the audit log, e.g. 'user changed phones, ticket #123'.",
    )


class TicketForm(ConsoleForm):
    """Which mini program a bind ticket is for."""

    login_method_id = SelectField("Mini program", coerce=int, validate_choice=True)
    submit = SubmitField("Issue bind ticket")


class MembershipForm(ConsoleForm):
    """A corp to add the user to."""

    corp_id = SelectField("Corp", coerce=int, validate_choice=True)
    submit = SubmitField("Add to corp")


class CorpForm(ConsoleForm):
    """A new corp."""

    slug = StringField(
        "corpId",
        validators=[InputRequired(), Length(max=64)],
        description="The public id mini programs see; it cannot change later.",
    )
    name = StringField("Name", validators=[InputRequired(), Length(max=128)])
    submit = SubmitField("Create corp")


class RenameCorpForm(ConsoleForm):
    """A corp's new name."""

    name = StringField("Name", validators=[InputRequired(), Length(max=128)])
    submit = SubmitField("Rename")


class AccountForm(ConsoleForm):
    """A new console account."""

    username = StringField(
        "Username", validators=[InputRequired(), Length(max=USERNAME_MAX)], render_kw={"autocomplete": "off"}
    )
    # Least privilege first: a new account is support unless the admin says otherwise.
    role = SelectField(
        "Role", choices=[SelectChoice(role) for role in ROLES], validate_choice=True, default=ROLE_SUPPORT
    )
    password = PasswordField(
        "Password", validators=[InputRequired(), Length(max=256)], render_kw={"autocomplete": "new-password"}
    )
    confirm = PasswordField("Repeat the password", validators=[EqualTo("password", "The passwords differ.")])
    submit = SubmitField("Create account")


class PasswordForm(ConsoleForm):
    """A new password for an account."""

    password = PasswordField(
        "New password", validators=[InputRequired(), Length(max=256)], render_kw={"autocomplete": "new-password"}
    )
    confirm = PasswordField("Repeat the password", validators=[EqualTo("password", "The passwords differ.")])
    submit = SubmitField("Set password")


class RoleForm(ConsoleForm):
    """An account's role."""

    role = SelectField("Role", choices=[SelectChoice(role) for role in ROLES], validate_choice=True)


class SaidIntegerField(IntegerField):
    """An IntegerField whose refusal of text that is no number says what to type."""

    def __init__(self, *args, unreadable: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.unreadable = unreadable

    def process_formdata(self, valuelist):
        """Read the number; text that is none is refused with this field's own sentence."""
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(self.unreadable) from None


class SaidDateField(DateField):
    """A DateField whose refusal of text that is no date says how to write one."""

    def process_formdata(self, valuelist):
        """Read the date; text that is none is refused with a sentence that shows the format."""
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError("Type a date as YYYY-MM-DD, e.g. 2025-03-01.") from None


class AuditFilterForm(ConsoleForm):
    """The audit log's filters, read from the query string (the service says which can match nothing)."""

    class Meta:
        csrf = False  # a GET search changes nothing

    action = SelectField("Action", validate_choice=False)
    actor = StringField(
        "Actor",
        validators=[Optional(), Length(max=128, message="At most 128 characters.")],
        render_kw={"placeholder": "account or login method"},
    )
    user_id = SaidIntegerField(
        "User id",
        validators=[
            Optional(),
            NumberRange(min=1, max=MAX_ID, message="A user id is a whole number from 1 up, as on the user's page."),
        ],
        unreadable="A user id is a whole number, e.g. 42, as on the user's page.",
    )
    login_method = StringField(
        "Login method", validators=[Optional(), Length(max=64, message="At most 64 characters (an instance name).")]
    )
    since = SaidDateField("From", validators=[Optional()])
    until = SaidDateField("To", validators=[Optional()])


class UserSearchForm(ConsoleForm):
    """The user list's search box, sort and page size."""

    class Meta:
        csrf = False

    q = StringField(
        "Search",
        validators=[Optional(), Length(max=200)],
        render_kw={"placeholder": "name, phone, user id, openId or unionId"},
    )
    sort = SelectField(
        "Sort by",
        choices=[SelectChoice("created", "Created"), SelectChoice("name", "Name"), SelectChoice("id", "User id")],
    )
    dir = SelectField("Order", choices=[SelectChoice("desc", "Descending"), SelectChoice("asc", "Ascending")])
    per_page = SelectField("Per page", choices=[SelectChoice(str(size)) for size in PAGE_SIZES])


class UserFilterForm(ConsoleForm):
    """The user list's filters, read from the query string; the login method and corp choices are the view's."""

    class Meta:
        csrf = False  # a GET search changes nothing

    login_method = SelectField("Login method", default="", validate_choice=True)
    status = SelectField(
        "Status", default="", choices=[SelectChoice("", "any")] + [SelectChoice(status) for status in STATUSES]
    )
    corp = SelectField("Corp", default="", validate_choice=True)
    since = DateField(SINCE_LABEL, validators=[Optional()])
    until = DateField(UNTIL_LABEL, validators=[Optional()])


class ProfileForm(ConsoleForm):
    """A user's name and phone as support edits them; the service holds their rules."""

    name = StringField("Name", validators=[InputRequired(), Length(max=USER_NAME_MAX)])
    phone = StringField(
        "Phone",
        validators=[Optional(), Length(max=PHONE_INPUT_MAX)],
        description="A Chinese mobile (13800138000) or + and the country code (+14155550123); empty: no phone.",
        render_kw={"inputmode": "tel", "autocomplete": "off"},
    )
    submit = SubmitField("Save")
