"""The audit log: filtered, paginated, and exported as CSV."""

from __future__ import annotations

from flask import Response, render_template, request, stream_with_context
from wtforms import SelectChoice

from console.admin import bp
from console.admin.forms import AuditFilterForm
from console.services.audit import AuditFilter, audit_actions, audit_csv, audit_page
from console.services.inputs import page_number

FILTERS = ("action", "actor", "user_id", "login_method", "since", "until")


def _filter() -> tuple[AuditFilterForm, AuditFilter]:
    """The filter form read from the query string, and the filter it stands for (invalid fields are ignored)."""
    form = AuditFilterForm(formdata=request.args)
    form.action.choices = [SelectChoice("", "any")] + [SelectChoice(action) for action in audit_actions()]
    form.validate()

    def valid(field):
        return None if field.errors else field.data or None

    return form, AuditFilter(
        action=valid(form.action),
        actor=valid(form.actor),
        user_id=valid(form.user_id),
        login_method=valid(form.login_method),
        since=valid(form.since),
        until=valid(form.until),
    )


def _filter_args() -> dict[str, str]:
    """The filters of the query string, for the export link and the pager: never whatever else came with them
    (url_for takes keys such as `endpoint` or `_scheme` as its own)."""
    return {name: request.args[name] for name in FILTERS if request.args.get(name)}


def _audit_page(form: AuditFilterForm, audit_filter: AuditFilter, refusal: str | None = None, status: int = 200):
    page = audit_page(audit_filter, page_number(request.args.get("page", 1)))
    return render_template(
        "admin/audit.html", form=form, page=page, filter_args=_filter_args(), export_refused=refusal
    ), status


@bp.get("/audit")
def audit_list():
    """Audit events, newest first, filtered by action, actor, user, login method and dates."""
    form, audit_filter = _filter()
    return _audit_page(form, audit_filter)


@bp.get("/audit.csv")
def audit_export():
    """The filtered audit events as a CSV file; an invalid filter is refused with the page, before any byte."""
    form, audit_filter = _filter()
    invalid = [str(field.label.text) for field in form if field.errors]
    if invalid:
        fields = ", ".join(invalid)
        return _audit_page(
            form, audit_filter, f"Nothing was exported: fix the filter{'s' * (len(invalid) > 1)} {fields}.", 400
        )
    return Response(
        stream_with_context(audit_csv(audit_filter)),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=audit.csv"},
    )
