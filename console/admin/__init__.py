"""The console for people: admins configure login methods, support finds users and unbinds them."""

from __future__ import annotations

import functools
from datetime import datetime

from flask import Blueprint, flash, redirect
from flask_login import current_user
from werkzeug.exceptions import Forbidden

from console.auth.views import name_console_actor
from console.errors import Refused
from console.extensions import db, login_manager
from console.models import utcnow
from console.times import describe_time, describe_zone, show_time

bp = Blueprint("admin", __name__)


@bp.before_request
def require_sign_in():
    """Every console page needs a signed-in account; anonymous visitors go to sign-in."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    name_console_actor()
    return None


class AdminsOnly(Forbidden):
    """403 for a support account on a page that configures the service, said as such."""

    page_title = "Admins only"
    description = (
        "This page is for admin accounts: they configure login methods, corps and console accounts. Your support "
        "account finds users, unbinds them and issues bind tickets; ask an admin if you need something changed here."
    )


def admin_required(view):
    """Refuse support accounts (403, a page that says it is for admins) on pages that configure the service."""

    @functools.wraps(view)
    def guarded(*args, **kwargs):
        if not current_user.is_admin:
            raise AdminsOnly()
        return view(*args, **kwargs)

    return guarded


def found(model, ident: int, what: str):
    """The row of `model` with this id, or a 404 page that says "No <what> #<id>."."""
    return db.get_or_404(model, ident, description=f"No {what} #{ident}.")


@bp.app_template_filter("age")
def age(moment: datetime) -> str:
    """How long ago a moment was, in the largest whole unit: "3 days", "5 minutes"."""
    seconds = max(int((utcnow() - moment).total_seconds()), 0)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count > 1 else ''}"
    return "just now"


# Every time a page shows goes through these: the console's zone, named (console/times.py).
bp.add_app_template_filter(show_time, "localtime")  # {{ moment | localtime }}: "2026-11-25 14:03 CST"
bp.add_app_template_filter(describe_time, "localtime_full")  # for a tooltip: zone name and offset, seconds
bp.add_app_template_global(describe_zone, "console_zone")  # {{ console_zone() }}: "Asia/Shanghai (CST)"


def show_refusal(error: Refused, form=None) -> None:
    """Put a refusal next to the form field it names, or flash it."""
    field = getattr(error, "field", None)
    if form is not None and field and field in form:
        form[field].errors.append(error.message)
    else:
        flash(error.message, "danger")


def run_action(action, done: str, back: str):
    """Run a POST button's action; flash its outcome (or the refusal) and go back to the page it came from."""
    try:
        action()
    except Refused as refusal:
        show_refusal(refusal)
    else:
        flash(done, "success")
    return redirect(back)


from console.admin import (  # noqa: E402,F401
    account,
    accounts,
    activity,
    audit,
    corps,
    dashboard,
    login_methods,
    simulator,
    users,
)
