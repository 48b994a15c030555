"""Your own account (every role): its second factor, set up, renewed or turned off by its owner alone."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user

from console.admin import bp, show_refusal
from console.auth.forms import DisableTwoFactorForm, EnrolForm, RenewRecoveryCodesForm
from console.auth.views import SESSION_KEY
from console.errors import Refused
from console.services import console_accounts as accounts
from console.services import two_factor

SET_UP_ENDPOINT = "admin.account_two_factor"


@bp.before_request
def require_second_factor():
    """Where REQUIRE_2FA holds, a signed-in account without a second factor sets one up before any other page."""
    # Runs after require_sign_in (registered first), so the account is signed in here.
    if not current_app.config["REQUIRE_2FA"] or request.endpoint == SET_UP_ENDPOINT:
        return None
    if two_factor.is_enrolled(current_user):
        return None
    flash("This console requires two-factor sign-in: set it up to continue.", "warning")
    return redirect(url_for(SET_UP_ENDPOINT))


def _account_page(disable_form=None, renew_form=None, status: int = 200):
    return render_template(
        "account/account.html",
        since=two_factor.enrolled_since(current_user),
        codes_left=two_factor.recovery_codes_left(current_user),
        disable_form=disable_form or DisableTwoFactorForm(prefix="disable"),
        renew_form=renew_form or RenewRecoveryCodesForm(prefix="renew"),
    ), status


def _recovery_codes_page(codes: list[str]):
    return render_template("account/recovery_codes.html", codes=codes, onward=url_for(".account_index"))


@bp.get("/account")
def account_index():
    """Your account: its role, its last sign-in, its second factor."""
    return _account_page()


@bp.route("/account/two-factor", methods=["GET", "POST"])
def account_two_factor():
    """Set up two-factor sign-in: a QR code and the key as text, the app's first code; then the recovery codes, once."""
    if two_factor.is_enrolled(current_user):
        flash("Two-factor sign-in is already on.", "info")
        return redirect(url_for(".account_index"))
    form = EnrolForm()
    if form.validate_on_submit():
        try:
            codes = accounts.enrol_second_factor(current_user, form.code.data or "", session.get(SESSION_KEY))
        except Refused as refusal:
            show_refusal(refusal, form)
        else:
            flash("Two-factor sign-in is on. Your other sessions were signed out.", "success")
            return _recovery_codes_page(codes)
    enrolment = two_factor.begin_enrolment(current_user)
    status = 400 if form.errors else 200
    return render_template("account/enrol.html", form=form, enrolment=enrolment, at_sign_in=False), status


@bp.post("/account/two-factor/disable")
def account_two_factor_disable():
    """Turn your own second factor off, with your password and a code again."""
    form = DisableTwoFactorForm(prefix="disable")
    if form.validate_on_submit():
        try:
            accounts.disable_second_factor(
                current_user, form.password.data or "", form.code.data or "", request.remote_addr
            )
        except Refused as refusal:
            show_refusal(refusal)
        else:
            flash("Two-factor sign-in is off.", "success")
            return redirect(url_for(".account_index"))
    return _account_page(disable_form=form, status=400)


@bp.post("/account/recovery-codes")
def account_recovery_codes():
    """New recovery codes in place of the old ones, for a current code from the app; shown once."""
    form = RenewRecoveryCodesForm(prefix="renew")
    if form.validate_on_submit():
        try:
            codes = two_factor.renew_recovery_codes(current_user, form.code.data or "")
        except Refused as refusal:
            show_refusal(refusal, form)
        else:
            return _recovery_codes_page(codes)
    return _account_page(renew_form=form, status=400)
