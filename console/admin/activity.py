"""The Activity page (support and admin): every login event, filtered, newest first, each failure in words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import render_template, request
from wtforms import Field, IntegerField, SelectChoice, SelectField, StringField
from wtforms.validators import Length, NumberRange, Optional, ValidationError
from wtforms.widgets import TextInput

from console.admin import bp
from console.forms import ConsoleForm
from console.services import login_events
from console.services.inputs import MAX_ID, page_number
from console.services.login_events import CALLS, FAILED, OUTCOMES, ActivityFilter, activity_page
from console.services.login_methods import list_methods

FILTERS = ("call", "login_method", "outcome", "wechat_errcode", "openid", "user_id", "request_id", "since", "until")
MOMENT_FORMATS = (("%Y-%m-%dT%H:%M", timedelta(minutes=1)), ("%Y-%m-%d %H:%M", timedelta(minutes=1)))
DAY_FORMAT = ("%Y-%m-%d", timedelta(days=1))


class MomentField(Field):
    """A UTC moment typed as a day (YYYY-MM-DD) or a minute (YYYY-MM-DD HH:MM): `data` is its start, `end` the start
    of the next day or minute (None past the calendar's last), so "until 2026-03-01" includes all of that day."""

    widget = TextInput()

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.end: datetime | None = None

    def _value(self) -> str:
        return self.raw_data[0] if self.raw_data else ""

    def process_formdata(self, valuelist):
        self.data = self.end = None
        text = (valuelist[0] if valuelist else "").strip()
        if not text:
            return
        for pattern, length in (*MOMENT_FORMATS, DAY_FORMAT):
            try:
                start = datetime.strptime(text, pattern).replace(tzinfo=UTC)
            except ValueError:
                continue
            self.data = start
            try:
                self.end = start + length
            except OverflowError:  # the calendar's last day or minute: no bound at all
                self.end = None
            return
        raise ValueError("Not a date: write YYYY-MM-DD, or YYYY-MM-DD HH:MM (UTC).")


def _stripped(value):
    return value.strip() if isinstance(value, str) else value


class ActivityFilterForm(ConsoleForm):
    """The Activity page's filters, read from the query string."""

    class Meta:
        csrf = False  # a GET search changes nothing

    call = SelectField(
        "Call", default="", choices=[SelectChoice("", "any")] + [SelectChoice(key, name) for key, name in CALLS.items()]
    )
    login_method = StringField("Login method", validators=[Optional(), Length(max=64)], filters=[_stripped])
    outcome = SelectField(
        "Outcome",
        default="",
        choices=[SelectChoice("", "any"), SelectChoice(FAILED, "any failure")]
        + [SelectChoice(outcome) for outcome in OUTCOMES],
    )
    wechat_errcode = IntegerField("WeChat errcode", validators=[Optional(), NumberRange(min=-(2**31), max=2**31 - 1)])
    openid = StringField("openId", validators=[Optional(), Length(max=128)], filters=[_stripped])
    user_id = IntegerField("User id", validators=[Optional(), NumberRange(min=1, max=MAX_ID)])
    request_id = StringField("Request id", validators=[Optional(), Length(max=64)], filters=[_stripped])
    since = MomentField("From (UTC)", validators=[Optional()], render_kw={"placeholder": "YYYY-MM-DD HH:MM"})
    until = MomentField("To (UTC)", validators=[Optional()], render_kw={"placeholder": "YYYY-MM-DD HH:MM"})

    def validate_until(self, field):
        """A range that ends before it starts would silently show nothing: say so instead."""
        if field.data and self.since.data and not self.since.errors and field.end and field.end <= self.since.data:
            raise ValidationError("The end is before the start: swap the two, or clear one.")


def _filter_args() -> dict[str, str]:
    """The filters of the query string, for the pager: never whatever else came with them."""
    return {name: request.args[name] for name in FILTERS if request.args.get(name)}


@bp.get("/activity")
def activity_list():
    """Login events, newest first, filtered by call, login method, outcome, errcode, openId, user, request and time;
    an invalid filter is shown on the form (400), never silently ignored."""
    form = ActivityFilterForm(formdata=request.args)
    valid = form.validate()
    page = None
    if valid:
        activity_filter = ActivityFilter(
            call=form.call.data or None,
            login_method=form.login_method.data or None,
            outcome=form.outcome.data or None,
            wechat_errcode=form.wechat_errcode.data,
            openid=form.openid.data or None,
            user_id=form.user_id.data,
            request_id=form.request_id.data or None,
            since=form.since.data,
            until=form.until.end,
        )
        page = activity_page(activity_filter, page_number(request.args.get("page", 1)))
    return render_template(
        "admin/activity.html",
        form=form,
        page=page,
        filter_args=_filter_args(),
        method_names=[method.name for method in list_methods()],
        explain=login_events.explain,
        calls=CALLS,
    ), (200 if valid else 400)
