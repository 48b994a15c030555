"""The audit log: filtered, paginated, and exported as CSV."""

from __future__ import annotations

from flask import Response, render_template, request, stream_with_context
from wtforms import SelectChoice

from console.admin import bp
from console.admin.forms import AuditFilterForm
from console.services.audit import AuditFilter, audit_actions, audit_csv, audit_page, describe_events, filter_problems
from console.services.inputs import page_number

FILTERS = ("action", "actor", "user_id", "login_method", "since", "until")


def _filter() -> tuple[AuditFilterForm, AuditFilter | None]:
    """The filter form read from the query string, and the filter it stands for: None while any field is invalid,
    each invalid field carrying the sentence that says what to do."""
    form = AuditFilterForm(formdata=request.args)
    actions = audit_actions()
    form.action.choices = [SelectChoice("", "any")] + [SelectChoice(action) for action in actions]
    form.validate()

    def valid(field):
        return None if field.errors else field.data or None

    audit_filter = AuditFilter(
        action=valid(form.action),
        actor=valid(form.actor),
        user_id=valid(form.user_id),
        login_method=valid(form.login_method),
        since=valid(form.since),
        until=valid(form.until),
    )
    for name, problem in filter_problems(audit_filter, actions).items():
        form[name].errors = [*form[name].errors, problem]
    return form, None if any(field.errors for field in form) else audit_filter


def _filter_args() -> dict[str, str]:
    """The filters of the query string, for the export link and the pager: never whatever else came with them
    (url_for takes keys such as `endpoint` or `_scheme` as its own)."""
    return {name: request.args[name] for name in FILTERS if request.args.get(name)}


def _invalid_fields(form: AuditFilterForm) -> str:
    return ", ".join(str(field.label.text) for field in form if field.errors)


def _audit_page(form: AuditFilterForm, audit_filter: AuditFilter | None, refusal: str | None = None):
    page = rows = None
    if audit_filter is not None:
        page = audit_page(audit_filter, page_number(request.args.get("page", 1)))
        rows = describe_events(page.items)
    html = render_template(
        "admin/audit.html",
        form=form,
        page=page,
        rows=rows,
        filter_args=_filter_args(),
        invalid=_invalid_fields(form),
        export_refused=refusal,
    )
    return html, 200 if audit_filter is not None else 400


@bp.get("/audit")
def audit_list():
    """Audit events, newest first, filtered by action, actor, user, login method and dates; an invalid filter is
    400 with the page saying what to fix, and no events (they would not be the ones asked for)."""
    form, audit_filter = _filter()
    return _audit_page(form, audit_filter)


@bp.get("/audit.csv")
def audit_export():
    """The filtered audit events as a CSV file; an invalid filter is refused with the page, before any byte."""
    form, audit_filter = _filter()
    if audit_filter is None:
        invalid = _invalid_fields(form)
        plural = "s" * ("," in invalid)
        return _audit_page(form, None, f"Nothing was exported: fix the filter{plural} {invalid}.")
    return Response(
        stream_with_context(audit_csv(audit_filter)),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=audit.csv"},
    )
