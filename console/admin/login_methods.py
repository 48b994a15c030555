"""Login methods (admin only): list, create, edit, check credentials, delete, import and export."""

from __future__ import annotations

import io

from flask import flash, redirect, render_template, send_file, url_for
from wtforms import SelectChoice

from console.admin import admin_required, bp, found, show_refusal
from console.admin.forms import DeleteMethodForm, ExportForm, ImportForm, MethodForm
from console.errors import Refused
from console.models import LoginMethod
from console.seed import instance_dir
from console.services import login_methods as methods
from console.services.corps import list_corps
from console.services.wechat_errors import explain_errcode

NO_CORP = SelectChoice(0, "— none —")


def _method_form(method: LoginMethod | None = None) -> MethodForm:
    form = MethodForm(obj=method)
    form.default_corp_id.choices = [NO_CORP] + [
        SelectChoice(corp.id, f"{corp.name} ({corp.slug})") for corp in list_corps()
    ]
    if method is not None:
        del form.name  # the instance name is fixed once created
    return form


def _settings(form: MethodForm, app_secret: str | None) -> dict[str, object]:
    """The fields of MethodSettings as the form has them; the service checks them."""
    return {
        "title": form.title.data,
        "app_id": form.app_id.data.strip(),
        "app_secret": app_secret,  # None keeps the stored secret
        "allow_register": form.allow_register.data,
        "enabled": form.enabled.data,
        "link_by_unionid": form.link_by_unionid.data,
        "default_corp_id": form.default_corp_id.data,
    }


# What "Check credentials" needs; the other fields may still be blank when an admin checks first.
CHECKED_FIELDS = ("csrf_token", "app_id", "app_secret", "kept_secret")


@bp.get("/login-methods")
@admin_required
def login_methods_list():
    """Every login method with its bindings; the appSecret only as its hint."""
    return render_template(
        "admin/login_methods.html",
        methods=methods.list_methods(),
        counts=methods.binding_counts(),
        import_form=ImportForm(),
    )


def _edit_page(form: MethodForm, method: LoginMethod | None, save):
    """Check credentials, or save through `save`, for the create and edit pages alike.

    An appSecret typed and not saved yet (the page came back with a verdict or a refusal) is kept: the re-rendered
    form carries it sealed, never in clear, and a blank appSecret field then means that one, not the stored one.
    """
    check = None
    typed = (
        (form.app_secret.data or methods.unseal_typed_secret(form.kept_secret.data)) if form.is_submitted() else None
    )
    valid = form.validate_on_submit()
    if form.is_submitted() and form.check.data:
        if not any(form[name].errors for name in CHECKED_FIELDS if name in form):
            for field in form:
                field.errors = []  # a check needs only the appId and an appSecret: say nothing of the rest
            try:
                check = _check(form.app_id.data.strip(), typed, method)
            except Refused as refusal:
                show_refusal(refusal, form)
    elif valid:
        try:
            saved = save(_settings(form, typed))
        except Refused as refusal:
            show_refusal(refusal, form)
        else:
            flash(f"Saved the login method {saved.name}.", "success")
            return redirect(url_for(".login_methods_list"))
    form.kept_secret.data = methods.seal_typed_secret(typed) if typed else ""
    return render_template(
        "admin/login_method_form.html",
        form=form,
        method=method,
        check=check,
        typed_hint=typed[-4:] if typed else None,
        export_form=ExportForm(),
    )


def _check(app_id: str, typed: str | None, method: LoginMethod | None) -> dict[str, object]:
    """WeChat's verdict on the appId with the typed appSecret (or the stored one), said for the page."""
    verdict = methods.check_credentials(app_id, typed, method)
    if typed:
        secret = f"the appSecret you typed (****{typed[-4:]})"
    else:
        secret = f"the stored appSecret (****{method.app_secret_hint if method else ''})"
    return {
        "right": verdict.right,
        "errcode": verdict.errcode,
        "app_id": app_id,
        "secret": secret,
        "typed": bool(typed),
        "explanation": None
        if verdict.right
        else explain_errcode(verdict.errcode)
        if verdict.errcode is not None
        else f"{verdict.problem}: try again in a minute; if it lasts, check that this server can reach WeChat.",
    }


@bp.route("/login-methods/new", methods=["GET", "POST"])
@admin_required
def login_methods_create():
    """Create a login method (the appSecret is required)."""
    form = _method_form()
    return _edit_page(form, None, lambda settings: methods.create_method(form.name.data.strip(), settings))


@bp.route("/login-methods/<int:method_id>", methods=["GET", "POST"])
@admin_required
def login_methods_edit(method_id: int):
    """Edit a login method; a blank appSecret keeps the stored one."""
    method = found(LoginMethod, method_id, "login method")
    form = _method_form(method)

    def save(settings):
        methods.update_method(method, settings)
        return method

    return _edit_page(form, method, save)


@bp.route("/login-methods/<int:method_id>/delete", methods=["GET", "POST"])
@admin_required
def login_methods_delete(method_id: int):
    """Delete a login method; with bindings only once confirmed, unbinding each user."""
    method = found(LoginMethod, method_id, "login method")
    form = DeleteMethodForm()
    if form.validate_on_submit():
        try:
            unbound = methods.delete_method(method, confirmed=form.confirm.data)
        except Refused as refusal:
            show_refusal(refusal, form)
        else:
            flash(f"Deleted the login method {method.name} ({unbound} user(s) unbound).", "success")
            return redirect(url_for(".login_methods_list"))
    bindings = methods.binding_counts().get(method.id, 0)
    return render_template("admin/login_method_delete.html", method=method, form=form, bindings=bindings)


@bp.post("/login-methods/import")
@admin_required
def login_methods_import():
    """Import an uploaded e.json and its configuration file."""
    form = ImportForm()
    if form.validate_on_submit():
        try:
            method, created = instance_dir.import_upload(
                form.name.data.strip(),
                form.element.data.read(),
                form.config.data.filename,
                form.config.data.read(),
                update=form.update.data,
            )
        except Refused as refusal:
            show_refusal(refusal, form)
        else:
            flash(f"{'Imported' if created else 'Updated'} the login method {method.name}.", "success")
            return redirect(url_for(".login_methods_list"))
    return render_template(
        "admin/login_methods.html", methods=methods.list_methods(), counts=methods.binding_counts(), import_form=form
    ), 400


@bp.post("/login-methods/<int:method_id>/export")
@admin_required
def login_methods_export(method_id: int):
    """Download the login method as a zip in the seed's directory format."""
    method = found(LoginMethod, method_id, "login method")
    form = ExportForm()
    if not form.validate_on_submit():
        return redirect(url_for(".login_methods_edit", method_id=method.id))
    archive = instance_dir.export_zip(method, include_secret=form.include_secret.data)
    response = send_file(
        io.BytesIO(archive), mimetype="application/zip", as_attachment=True, download_name=f"{method.name}.zip"
    )
    response.headers["Cache-Control"] = "no-store"
    return response
