"""Console accounts (admin only): create, disable and enable, reset passwords and second factors, unlock, change
roles."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from console.admin import admin_required, bp, run_action, show_refusal
from console.admin.forms import AccountForm, PasswordForm, RoleForm
from console.errors import Refused
from console.extensions import db
from console.models import ROLES, AdminAccount
from console.services import console_accounts as accounts
from console.services import two_factor


def _list_page(form: AccountForm, status: int = 200):
    every = accounts.list_accounts()
    locks = accounts.lock_states([account.username for account in every])
    second_factors = two_factor.enrolled_ids([account.id for account in every])
    return render_template(
        "admin/accounts.html", accounts=every, locks=locks, second_factors=second_factors, form=form, roles=ROLES
    ), status


@bp.get("/accounts")
@admin_required
def accounts_list():
    """Every console account."""
    return _list_page(AccountForm())


@bp.post("/accounts")
@admin_required
def accounts_create():
    """Create a console account."""
    form = AccountForm()
    if form.validate_on_submit():
        try:
            account = accounts.create_account(form.username.data.strip(), form.role.data, form.password.data)
        except Refused as refusal:
            show_refusal(refusal, form)
        else:
            flash(f"Created the {account.role} account {account.username}.", "success")
            return redirect(url_for(".accounts_list"))
    return _list_page(form, 400)


def _act(action, done: str):
    return run_action(action, done, url_for(".accounts_list"))


@bp.post("/accounts/<int:account_id>/disable")
@admin_required
def accounts_disable(account_id: int):
    """Disable an account and end its sessions (never your own)."""
    account = db.get_or_404(AdminAccount, account_id)
    return _act(lambda: accounts.set_account_active(account, False, current_user), f"Disabled {account.username}.")


@bp.post("/accounts/<int:account_id>/enable")
@admin_required
def accounts_enable(account_id: int):
    """Enable an account again."""
    account = db.get_or_404(AdminAccount, account_id)
    return _act(lambda: accounts.set_account_active(account, True, current_user), f"Enabled {account.username}.")


@bp.post("/accounts/<int:account_id>/unlock")
@admin_required
def accounts_unlock(account_id: int):
    """Lift every lock on an account and its slowdown after failed sign-ins."""
    account = db.get_or_404(AdminAccount, account_id)
    return _act(lambda: accounts.unlock(account), f"Unlocked {account.username}.")


@bp.post("/accounts/<int:account_id>/two-factor/reset")
@admin_required
def accounts_two_factor_reset(account_id: int):
    """Remove the second factor of an account that lost it (never your own): its sessions end, its locks lift."""
    account = db.get_or_404(AdminAccount, account_id)
    return _act(
        lambda: accounts.reset_second_factor(account, current_user),
        f"Reset the second factor of {account.username}: signed out, they sign in with their password and set up a new "
        "one.",
    )


@bp.post("/accounts/<int:account_id>/role")
@admin_required
def accounts_role(account_id: int):
    """Change an account's role (never your own)."""
    account = db.get_or_404(AdminAccount, account_id)
    form = RoleForm()
    if not form.validate_on_submit():
        flash("Choose admin or support.", "danger")
        return redirect(url_for(".accounts_list"))
    return _act(
        lambda: accounts.change_role(account, form.role.data, current_user),
        f"{account.username} is now {form.role.data}.",
    )


@bp.route("/accounts/<int:account_id>/password", methods=["GET", "POST"])
@admin_required
def accounts_password(account_id: int):
    """Set a new password for an account; its sessions end and a lock is lifted."""
    account = db.get_or_404(AdminAccount, account_id)
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            accounts.reset_password(account, form.password.data)
        except Refused as refusal:
            show_refusal(refusal, form)
        else:
            flash(f"Set a new password for {account.username}.", "success")
            return redirect(url_for(".accounts_list"))
    return render_template("admin/account_password.html", account=account, form=form)
