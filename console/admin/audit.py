"""The audit log: filtered, paginated, and exported as CSV."""

from __future__ import annotations

from flask import Response, render_template, request, stream_with_context
from wtforms import SelectChoice

from console.admin import bp
from console.admin.forms import AuditFilterForm
from console.services.audit import AuditFilter, audit_actions, audit_csv, audit_page


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


@bp.get("/audit")
def audit_list():
    """Audit events, newest first, filtered by action, actor, user, login method and dates."""
    form, audit_filter = _filter()
    page = audit_page(audit_filter, request.args.get("page", 1, type=int))
    return render_template("admin/audit.html", form=form, page=page)


@bp.get("/audit.csv")
def audit_export():
    """The filtered audit events as a CSV file."""
    _, audit_filter = _filter()
    return Response(
        stream_with_context(audit_csv(audit_filter)),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=audit.csv"},
    )
