"""Users (support and admin): search and filters, the CSV export, a user's page, editing a profile, unbind,
bind tickets, corps, tokens, sign out everywhere, disable."""

from __future__ import annotations

import segno
from flask import Response, flash, redirect, render_template, request, stream_with_context, url_for
from markupsafe import Markup
from wtforms import SelectChoice

from console.admin import bp, found, run_action, show_refusal
from console.admin.forms import (
    MembershipForm,
    ProfileForm,
    TicketForm,
    UnbindForm,
    UserFilterForm,
    UserSearchForm,
)
from console.errors import Refused
from console.extensions import db
from console.models import LoginMethod, User
from console.services import api_tokens, bindings, corps, login_events, user_data, users
from console.services.login_methods import list_methods

# The query keys that select users (the export link carries them as typed, so an invalid one is refused there too).
FILTERS = ("q", "login_method", "status", "corp", "since", "until")


def _user_filters() -> tuple[UserFilterForm, users.UserQuery]:
    """The filter form read from the query string, and the query it stands for (invalid filters left out, and
    shown as invalid by the form)."""
    form = UserFilterForm(formdata=request.args)
    form.login_method.choices = [SelectChoice("", "any")] + [
        SelectChoice(method.name, f"{method.title} ({method.name})") for method in list_methods()
    ]
    form.corp.choices = [SelectChoice("", "any")] + [
        SelectChoice(corp.slug, f"{corp.name} ({corp.slug})") for corp in corps.list_corps()
    ]
    form.validate()
    if not (form.since.errors or form.until.errors):
        try:
            users.check_last_login_range(form.since.data, form.until.data)
        except Refused as refusal:  # both ends are at fault: either may be the typo
            form.since.errors.append(refusal.message)
            form.until.errors.append(refusal.message)
    filters = {field.name: None if field.errors else field.data or None for field in form}
    return form, users.UserQuery.from_args(request.args, **filters)


def _users_page(filter_form: UserFilterForm, query: users.UserQuery, export_refused: str | None = None, status=200):
    form = UserSearchForm(
        formdata=None, q=query.q, sort=query.sort, dir="desc" if query.desc else "asc", per_page=str(query.per_page)
    )
    export_args = {name: request.args[name] for name in FILTERS if request.args.get(name)}
    return render_template(
        "admin/users.html",
        form=form,
        filter_form=filter_form,
        query=query,
        page=users.search_users(query),
        export_args=export_args,
        export_refused=export_refused,
    ), status


@bp.get("/users")
def users_list():
    """Users matching every search term and filter, with a whitelisted sort and page size; pager links keep them."""
    return _users_page(*_user_filters())


@bp.get("/users.csv")
def users_export():
    """The filtered users as a CSV file, audited; an invalid filter is refused with the page, before any byte."""
    form, query = _user_filters()
    invalid = [str(field.label.text) for field in form if field.errors]
    if invalid:
        fields = ", ".join(invalid)
        refused = f"Nothing was exported: fix the filter{'s' * (len(invalid) > 1)} {fields}."
        return _users_page(form, query, refused, 400)
    return Response(
        stream_with_context(users.export_users(query)),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=users.csv"},
    )


def _ticket_form(user: User) -> TicketForm:
    """Bind tickets are for the mini programs the user is not bound to yet."""
    bound = {binding.login_method_id for binding in user.bindings}
    form = TicketForm()
    form.login_method_id.choices = [
        SelectChoice(method.id, method.title) for method in list_methods() if method.id not in bound
    ]
    return form


def _membership_form(user: User) -> MembershipForm:
    """Memberships can be added for the corps the user is not in yet."""
    member_of = {membership.corp_id for membership in user.memberships}
    form = MembershipForm()
    form.corp_id.choices = [
        SelectChoice(corp.id, f"{corp.name} ({corp.slug})") for corp in corps.list_corps() if corp.id not in member_of
    ]
    return form


def _user_page(user: User, ticket_form=None, membership_form=None, status: int = 200):
    return render_template(
        "admin/user.html",
        user=user,
        bindings=bindings.user_bindings(user),
        tokens=api_tokens.active_tokens(user),
        history=users.user_history(user),
        activity=login_events.user_activity(user.id),
        explain=login_events.explain,
        calls=login_events.CALLS,
        ticket_form=ticket_form or _ticket_form(user),
        membership_form=membership_form or _membership_form(user),
    ), status


@bp.get("/users/<int:user_id>")
def users_detail(user_id: int):
    """A user's profile, corps, WeChat bindings (never a session key), live tokens, recent activity and history."""
    return _user_page(found(User, user_id, "user"))


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
def users_edit(user_id: int):
    """Edit a user's name and phone; the audit log keeps both values before and after."""
    user = found(User, user_id, "user")
    form = ProfileForm(obj=user)
    if form.validate_on_submit():
        try:
            changed = users.update_profile(user, form.name.data, form.phone.data)
        except Refused as refusal:
            show_refusal(refusal, form)
        else:
            flash(f"Saved {user.name}'s {' and '.join(changed)}." if changed else "Nothing changed.", "success")
            return redirect(url_for(".users_detail", user_id=user.id))
    # refused input is shown on the form, as the console's other edit pages do (a 400 page is a console error in
    # the browser)
    return render_template("admin/user_edit.html", user=user, form=form)


@bp.route("/users/<int:user_id>/bindings/<int:method_id>/unbind", methods=["GET", "POST"])
def users_unbind(user_id: int, method_id: int):
    """Confirm and remove a user's WeChat binding to one mini program, with a reason for the audit log."""
    user = found(User, user_id, "user")
    method = found(LoginMethod, method_id, "login method")
    form = UnbindForm()
    if form.validate_on_submit():
        try:
            bindings.remove_binding(method, user.id, reason=form.reason.data)
        except Refused as refusal:
            show_refusal(refusal, form)
        else:
            flash(f"Unbound {user.name} from {method.title}.", "success")
            return redirect(url_for(".users_detail", user_id=user.id))
    return render_template("admin/unbind.html", user=user, method=method, form=form)


@bp.post("/users/<int:user_id>/bindings/<int:method_id>/check-session-key")
def users_check_session_key(user_id: int, method_id: int):
    """Ask WeChat whether the binding's stored session key is still valid, and say so."""
    user = found(User, user_id, "user")
    method = found(LoginMethod, method_id, "login method")
    try:
        verdict = user_data.check_session_key(method, user.id)
    except Refused as refusal:
        show_refusal(refusal)
    else:
        if verdict["valid"]:
            flash(f"WeChat still accepts {user.name}'s session key for {method.title}.", "success")
        else:
            flash(
                f"WeChat no longer accepts {user.name}'s session key for {method.title}: data they send cannot be "
                "decrypted until the mini program calls wx.login() and logs in again.",
                "warning",
            )
    return redirect(url_for(".users_detail", user_id=user.id))


@bp.post("/users/<int:user_id>/ticket")
def users_ticket(user_id: int):
    """Issue a one-time bind ticket and show it once, as text and as a QR code."""
    user = found(User, user_id, "user")
    ticket_form = _ticket_form(user)
    if not ticket_form.validate_on_submit():
        return _user_page(user, ticket_form=ticket_form, status=400)
    method = db.get_or_404(LoginMethod, ticket_form.login_method_id.data)
    try:
        ticket = bindings.issue_bind_ticket(method, user.id)
    except Refused as refusal:
        show_refusal(refusal)
        return redirect(url_for(".users_detail", user_id=user.id))
    qr = Markup(segno.make(ticket, error="m").svg_inline(scale=5, title="Bind ticket"))
    response = render_template("admin/ticket.html", user=user, method=method, ticket=ticket, qr=qr)
    return response, 200, {"Cache-Control": "no-store"}


@bp.post("/users/<int:user_id>/corps")
def users_add_membership(user_id: int):
    """Add the user to a corp."""
    user = found(User, user_id, "user")
    form = _membership_form(user)
    if not form.validate_on_submit():
        return _user_page(user, membership_form=form, status=400)
    try:
        corps.add_membership(user, form.corp_id.data)
    except Refused as refusal:
        show_refusal(refusal, form)
        return _user_page(user, membership_form=form, status=400)
    flash("Added the membership.", "success")
    return redirect(url_for(".users_detail", user_id=user.id))


def _act(user: User, action, done: str):
    """Run a POST button's action on a user and go back to the user's page."""
    return run_action(action, done, url_for(".users_detail", user_id=user.id))


@bp.post("/users/<int:user_id>/corps/<int:corp_id>/remove")
def users_remove_membership(user_id: int, corp_id: int):
    """Remove the user from a corp."""
    user = found(User, user_id, "user")
    return _act(user, lambda: corps.remove_membership(user, corp_id), "Removed the membership.")


@bp.post("/users/<int:user_id>/tokens/<int:token_id>/revoke")
def users_revoke_token(user_id: int, token_id: int):
    """Revoke one of the user's access tokens."""
    user = found(User, user_id, "user")
    return _act(user, lambda: api_tokens.revoke_token(user, token_id), "Revoked the access token.")


@bp.post("/users/<int:user_id>/sign-out-everywhere")
def users_sign_out_everywhere(user_id: int):
    """Revoke every access token of the user and void their pending loginCodes and bind tickets."""
    user = found(User, user_id, "user")
    revoked, _ = users.sign_out_everywhere(user)
    flash(f"Signed {user.name} out everywhere: {revoked} access token(s) revoked.", "success")
    return redirect(url_for(".users_detail", user_id=user.id))


@bp.post("/users/<int:user_id>/disable")
def users_disable(user_id: int):
    """Disable the user: their tokens stop working and they cannot log in."""
    user = found(User, user_id, "user")
    return _act(user, lambda: users.set_user_disabled(user, True), f"Disabled {user.name}.")


@bp.post("/users/<int:user_id>/enable")
def users_enable(user_id: int):
    """Enable the user again."""
    user = found(User, user_id, "user")
    return _act(user, lambda: users.set_user_disabled(user, False), f"Enabled {user.name}.")
