"""Corps: everyone sees the list; admins create and rename. Memberships are managed on the user's page."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for

from console.admin import admin_required, bp, found, show_refusal
from console.admin.forms import CorpForm, RenameCorpForm
from console.errors import Refused
from console.models import Corp
from console.services import corps


def _list_page(form: CorpForm, status: int = 200):
    return render_template(
        "admin/corps.html", corps=corps.list_corps(), members=corps.member_counts(), form=form
    ), status


@bp.get("/corps")
def corps_list():
    """Every corp with its number of members."""
    return _list_page(CorpForm())


@bp.post("/corps")
@admin_required
def corps_create():
    """Create a corp."""
    form = CorpForm()
    if form.validate_on_submit():
        try:
            corp = corps.create_corp((form.slug.data or "").strip(), form.name.data or "")
        except Refused as refusal:
            show_refusal(refusal, form)
        else:
            flash(f"Created the corp {corp.name}.", "success")
            return redirect(url_for(".corps_list"))
    return _list_page(form, 400)


@bp.route("/corps/<int:corp_id>/rename", methods=["GET", "POST"])
@admin_required
def corps_rename(corp_id: int):
    """Give a corp a new name (its corpId stays)."""
    corp = found(Corp, corp_id, "corp")
    form = RenameCorpForm(obj=corp)
    if form.validate_on_submit():
        try:
            corps.rename_corp(corp, form.name.data or "")
        except Refused as refusal:
            show_refusal(refusal, form)
        else:
            flash(f"Renamed the corp to {corp.name}.", "success")
            return redirect(url_for(".corps_list"))
    return render_template("admin/corp_rename.html", corp=corp, form=form)
