"""Sign-in with lockout and a rate limit, and a sign-out that revokes the session on the server."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from console.auth import bp
from console.auth.forms import SignInForm
from console.extensions import limiter, login_manager
from console.i18n import SESSION_LANGUAGE, remember_language
from console.services import console_accounts as accounts
from console.services.audit import Actor, set_actor

SESSION_KEY = "console_session"

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
    """The sign-in page; on success, go where `next` says when it is a local path."""
    if current_user.is_authenticated:
        return redirect(url_for("admin.dashboard_index"))
    form = SignInForm()
    if form.validate_on_submit():
        try:
            account, session_id = accounts.sign_in(
                form.username.data or "", form.password.data or "", request.remote_addr
            )
        except accounts.SignInRefused as refusal:
            flash(str(refusal), "danger")
        else:
            language = account.language or session.get(SESSION_LANGUAGE)  # the account's choice, else this browser's
            session.clear()
            session[SESSION_KEY] = session_id
            remember_language(language)
            login_user(account)
            return redirect(local_path(request.args.get("next")) or url_for("admin.dashboard_index"))
    return render_template("auth/sign_in.html", form=form)


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
