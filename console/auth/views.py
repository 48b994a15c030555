"""Sign-in with lockout and a rate limit, its second step (a code, or setting up a second factor where REQUIRE_2FA
asks for one), and a sign-out that revokes the session on the server."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from console.auth import bp
from console.auth.forms import CodeForm, EnrolForm, SignInForm
from console.errors import Refused
from console.extensions import limiter, login_manager
from console.i18n import SESSION_LANGUAGE, remember_language
from console.services import console_accounts as accounts
from console.services import two_factor
from console.services.audit import Actor, set_actor

SESSION_KEY = "console_session"
PENDING_KEY = "sign_in_pending"  # the second step's state, between the password and the code
NEXT_KEY = "sign_in_next"

login_manager.login_view = "auth.sign_in"
login_manager.login_message = "Sign in to see that page."
login_manager.login_message_category = "info"


@login_manager.user_loader
def load_account(account_id: str):
    """The signed-in account, only while its server-side session is live (sign-out kills copied cookies)."""
    account = accounts.account_for_session(session.get(SESSION_KEY))
    return account if account is not None and account.get_id() == account_id else None


def name_console_actor() -> None:
    """Audit events written during a console request name the console account and its address."""
    name = current_user.username if current_user.is_authenticated else "anonymous"
    set_actor(Actor("console", name, request.remote_addr))


bp.before_request(name_console_actor)


def local_path(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None (no scheme, no host, no //host or /\\host)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(char) < 32 for char in target):
        return None
    return target


def _sign_in_limit() -> str:
    return current_app.config["RATELIMIT_SIGN_IN"]


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(_sign_in_limit, methods=["POST"])
def sign_in():
    """The sign-in page; on success, go where `next` says when it is a local path (after the code, if one follows)."""
    if current_user.is_authenticated:
        return redirect(url_for("admin.dashboard_index"))
    form = SignInForm()
    if form.validate_on_submit():
        try:
            step = accounts.sign_in(form.username.data or "", form.password.data or "", request.remote_addr)
        except accounts.SignInRefused as refusal:
            flash(str(refusal), "danger")
        else:
            next_path = local_path(request.args.get("next"))
            if step.session_id is not None:
                return _signed_in(step.account, step.session_id, next_path)
            language = session.get(SESSION_LANGUAGE)
            session.clear()
            remember_language(language)
            session[PENDING_KEY], session[NEXT_KEY] = step.pending, next_path
            second = ".sign_in_code" if (step.pending or {}).get("step") == accounts.CODE_STEP else ".sign_in_enrol"
            return redirect(url_for(second))
    return render_template("auth/sign_in.html", form=form)


def _signed_in(account, session_id: str, next_path: str | None):
    language = account.language or session.get(SESSION_LANGUAGE)  # the account's choice, else this browser's
    session.clear()
    session[SESSION_KEY] = session_id
    remember_language(language)
    login_user(account)
    return redirect(next_path or url_for("admin.dashboard_index"))


def _waiting(step: str):
    """The account whose sign-in waits for this step, or None (then the password is asked for again)."""
    pending = session.get(PENDING_KEY)
    account = accounts.pending_account(pending, step)
    if account is None and pending is not None:
        session.pop(PENDING_KEY, None)
        flash("Sign in again: the second step must follow the password within five minutes.", "info")
    return account


@bp.route("/sign-in/code", methods=["GET", "POST"])
@limiter.limit(_sign_in_limit, methods=["POST"])
def sign_in_code():
    """The second step of a sign-in: a code from the authenticator app, or a recovery code."""
    if current_user.is_authenticated:
        return redirect(url_for("admin.dashboard_index"))
    account = _waiting(accounts.CODE_STEP)
    if account is None:
        return redirect(url_for(".sign_in"))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            session_id = accounts.sign_in_with_code(account, form.code.data or "", request.remote_addr)
        except accounts.SignInRefused as refusal:
            flash(str(refusal), "danger")
        else:
            return _signed_in(account, session_id, session.get(NEXT_KEY))
    return render_template("auth/sign_in_code.html", form=form)


@bp.route("/sign-in/enrol", methods=["GET", "POST"])
@limiter.limit(_sign_in_limit, methods=["POST"])
def sign_in_enrol():
    """The second step where REQUIRE_2FA asks for a second factor the account lacks: set one up, then sign in."""
    if current_user.is_authenticated:
        return redirect(url_for("admin.dashboard_index"))
    account = _waiting(accounts.ENROL_STEP)
    if account is None:
        return redirect(url_for(".sign_in"))
    form = EnrolForm()
    if form.validate_on_submit():
        try:
            session_id, codes = accounts.sign_in_enrolling(account, form.code.data or "", request.remote_addr)
        except Refused as refusal:
            form.code.errors.append(refusal.message)
        else:
            next_path = session.get(NEXT_KEY)
            _signed_in(account, session_id, next_path)
            return render_template(
                "account/recovery_codes.html", codes=codes, onward=next_path or url_for("admin.dashboard_index")
            )
    try:
        enrolment = two_factor.begin_enrolment(account)
    except Refused:  # set up meanwhile, in another browser: now a sign-in asks for a code
        session.pop(PENDING_KEY, None)
        flash("Two-factor sign-in is already on for this account: sign in again.", "info")
        return redirect(url_for(".sign_in"))
    status = 400 if form.errors else 200
    return render_template("account/enrol.html", form=form, enrolment=enrolment, at_sign_in=True), status


@bp.post("/language")
def choose_language():
    """Switch the console's language for this browser and, when signed in, for the account everywhere."""
    language = request.form.get("language")
    remember_language(language)
    if current_user.is_authenticated:
        accounts.set_language(current_user, session.get(SESSION_LANGUAGE))
    return redirect(local_path(request.form.get("next")) or url_for("admin.dashboard_index"))


@bp.post("/sign-out")
def sign_out():
    """Revoke the console session on the server and forget it in the browser."""
    accounts.sign_out(session.get(SESSION_KEY))
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.sign_in"))
