"""The one root of the service's refusals, the contract's error table, and the app's error handlers.

Refused is what a business rule raises; LoginError is a Refused that carries one of the contract's codes
(section 4), the one exception class the seed's Python API raises. The handlers answer the contract's
JSON under /api/ and a page elsewhere.
"""

from __future__ import annotations

import logging
import os

import redis
import sqlalchemy.exc
from flask import Flask, Response, current_app, g, jsonify, request
from flask_babel import gettext
from flask_login import AnonymousUserMixin
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from console.i18n import N_
from console.logs import note_error

log = logging.getLogger(__name__)
PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep

# code -> (HTTP status, the default sentence a developer can act on)
ERRORS: dict[str, tuple[int, str]] = {
    "invalid_request": (400, N_("The request is malformed.")),
    "login_method_not_found": (404, N_("No login method has that name.")),
    "login_method_disabled": (403, N_("This login method is switched off; ask an admin to enable it.")),
    "registration_closed": (
        403,
        N_("This WeChat user has no account and this login method does not allow registration."),
    ),
    "invalid_code": (
        400,
        N_("WeChat rejected the code: it is wrong, expired or for another app; call wx.login() again."),
    ),
    "code_used": (400, N_("This wx.login() code was already used; call wx.login() again.")),
    "user_blocked": (403, N_("WeChat's risk control blocked this user from logging in.")),
    "wechat_rate_limited": (429, N_("WeChat rate-limited this app; try again in a minute.")),
    "wechat_misconfigured": (
        502,
        N_("WeChat rejected this login method's appId or appSecret; an admin must correct them."),
    ),
    "wechat_unavailable": (503, N_("WeChat could not be reached or gave an unreadable answer; try again shortly.")),
    "invalid_bind_code": (
        400,
        N_("The bindCode is unknown, expired, already used or for another login method; log in again."),
    ),
    "already_registered": (409, N_("This WeChat user was registered meanwhile; log in again to get a loginCode.")),
    "invalid_login_code": (400, N_("The loginCode is unknown, expired or already used; log in again.")),
    "invalid_ticket": (400, N_("The bind ticket is unknown, expired, already used or for another login method.")),
    "not_a_member": (403, N_("The user is not a member of that corp.")),
    "unauthorized": (401, N_("A valid bearer access token is required.")),
    "account_disabled": (403, N_("This account is disabled.")),
    "user_not_found": (404, N_("No user has that id.")),
    "wechat_already_bound": (409, N_("This WeChat user is already bound to another account on this login method.")),
    "user_already_bound": (409, N_("This account already has a WeChat binding on this login method; unbind it first.")),
    "not_bound": (404, N_("This account has no WeChat binding on this login method.")),
    "last_login_method": (409, N_("This is the account's only way to sign in; bind another login method first.")),
    "session_key_stale": (409, N_("The stored session key does not open the data; call wx.login() and log in again.")),
    "watermark_mismatch": (422, N_("The decrypted data belongs to another appId.")),
    "invalid_signature": (400, N_("The signature is not sha1(rawData + session_key); the data may have been altered.")),
    "rate_limited": (429, N_("Too many requests; try again after the number of seconds in Retry-After.")),
    "service_unavailable": (
        503,
        N_(
            "The database or the shared cache cannot be reached right now; try again in a few seconds (Retry-After "
            "says when)."
        ),
    ),
    "not_found": (404, N_("There is no such endpoint.")),
    "method_not_allowed": (405, N_("This endpoint does not accept that HTTP method.")),
    "internal_error": (500, N_("Something went wrong on our side; it has been logged.")),
}


class Refused(Exception):
    """A request that a business rule refuses; the message is for the person, `field` names the input at fault."""

    def __init__(self, message: str, field: str | None = None):
        self.message = message
        self.field = field
        super().__init__(message)


class LoginError(Refused):
    """A refusal the caller can act on; `code` is one of the contract's error codes."""

    def __init__(self, code: str, message: str | None = None, *, wechat_errcode: int | None = None):
        status, default_message = ERRORS[code]
        super().__init__(message or default_message)
        self.code = code
        self.status = status
        self.wechat_errcode = wechat_errcode
        self.args = (f"{code}: {self.message}",)

    def to_dict(self) -> dict:
        """The body of the JSON error answer."""
        # In the caller's language (Accept-Language); a message that is not in the catalogue stays as it is.
        error: dict[str, str | int] = {"code": self.code, "message": gettext(self.message)}
        if self.wechat_errcode is not None:
            error["wechatErrcode"] = self.wechat_errcode
        return {"error": error}


UNAVAILABLE_MESSAGES = {
    "database": N_("The database cannot be reached right now; try again in a few seconds (Retry-After says when)."),
    "redis": N_(
        "The shared cache (Redis) cannot be reached right now; try again in a few seconds (Retry-After says when)."
    ),
}


class ServiceUnavailable(LoginError):
    """A dependency cannot be reached: 503 service_unavailable with Retry-After; `dependency` names it."""

    def __init__(self, dependency: str):
        super().__init__(
            "service_unavailable", UNAVAILABLE_MESSAGES["database" if dependency == "database" else "redis"]
        )
        self.dependency = dependency


HTTP_STATUS_TO_CODE = {
    400: "invalid_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    413: "invalid_request",
    429: "rate_limited",
}

# How long a caller should wait after an outage answer. Restarts and fail-overs of Redis or PostgreSQL take seconds
# to a minute; a short wait brings callers back soon without a storm of retries while the dependency recovers.
RETRY_AFTER_UNAVAILABLE = 10

# The errors that mean a dependency cannot be reached (not a bug of ours): PEP 249's OperationalError (refused,
# dropped or timed-out connections, "database is locked"), a connection the driver found closed, a pool that could
# hand out no connection in time; Redis's refused, dropped or timed-out connections.
DATABASE_UNREACHABLE = (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError, sqlalchemy.exc.TimeoutError)
REDIS_UNREACHABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


def unreachable_dependency(error: BaseException) -> str | None:
    """The dependency ("database" or "redis") that `error`, or what it was raised from, says cannot be reached."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ServiceUnavailable):
            return current.dependency
        if isinstance(current, DATABASE_UNREACHABLE) or (
            isinstance(current, sqlalchemy.exc.DBAPIError) and current.connection_invalidated
        ):
            return "database"
        if isinstance(current, REDIS_UNREACHABLE):
            return "redis"
        # `raise ... from None` says on purpose that the new error is something else: stop there
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    return None


def one_line(error: BaseException) -> str:
    """The error's type, the innermost line of our code it passed through and the first line of its message, bounded:
    one log line, never a traceback. The first line of a database error is the driver's sentence; the SQL, the bound
    values and PostgreSQL's DETAIL (which quotes them) come on the lines after it."""
    where = ""
    frame = error.__traceback__
    while frame is not None:
        filename = frame.tb_frame.f_code.co_filename
        if filename.startswith(PROJECT_ROOT) and "/site-packages/" not in filename:
            where = (
                f" at {os.path.relpath(filename, PROJECT_ROOT)}:{frame.tb_lineno} in {frame.tb_frame.f_code.co_name}"
            )
        frame = frame.tb_next
    message = (str(error).strip().splitlines() or [""])[0][:200]
    return f"{type(error).__module__}.{type(error).__qualname__}{where}: {message}"


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path.startswith("/_wechat/")


def error_response(error: LoginError) -> Response:
    """The contract's JSON error answer, with the headers its status calls for."""
    note_error(error)
    response = jsonify(error.to_dict())
    response.status_code = error.status
    if error.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    if error.code == "service_unavailable":
        response.headers["Retry-After"] = str(RETRY_AFTER_UNAVAILABLE)
    return response


# The console's words for the HTTP errors people meet, used when the error carries Werkzeug's stock description.
PAGE_ERRORS: dict[int, tuple[str, str]] = {
    400: ("Bad request", "The console could not read what your browser sent. Go back, reload the page and try again."),
    403: ("Not allowed", "Your account may not open this page. Ask an admin if you need something done here."),
    404: ("Not found", "There is no page at this address. Check the link, or start again from the dashboard."),
    405: ("Not allowed", "This page cannot be used that way. Go back and use the page's own buttons."),
    413: ("Too large", "What you sent is larger than the console accepts (1 MB). Send a smaller file."),
    429: ("Too many requests", "Too many requests from your address: wait a minute, then try again."),
}


def error_page(status: int, title: str, message: str, account=None) -> Response:
    """The console's error page, rendered from nothing: no database, no cache.

    Flask's render_template would run every context processor, and Flask-Login's loads the signed-in account from
    the database: the very thing that may be down. So the template gets what it needs, and the signed-in account
    only when the request had already loaded it (`account`), to show the console's navigation; should that fail,
    the page is drawn for an anonymous visitor.
    """
    template = current_app.jinja_env.get_template("errors/error.html")
    values = {"config": current_app.config, "request": request, "g": g, "status": status, "title": title}
    try:
        html = template.render(**values, message=message, current_user=account or AnonymousUserMixin())
    except Exception:
        if account is None:
            raise
        html = template.render(**values, message=message, current_user=AnonymousUserMixin())
    response = current_app.response_class(html, status=status, mimetype="text/html")
    if status == 503:
        response.headers["Retry-After"] = str(RETRY_AFTER_UNAVAILABLE)
    return response


def _signed_in_account():
    """The signed-in console account, for a 4xx page's navigation: the one the request already loaded (Flask-Login
    keeps it in g), else read now; None for a visitor, or when it cannot be read (the page then draws without it)."""
    if "_login_user" not in g:
        try:
            current_app.login_manager._load_user()  # type: ignore[attr-defined]  # how current_user loads it
        except Exception:  # whatever failed, an error page must still be drawn
            return None
    account = g.get("_login_user")
    return account if account is not None and account.is_authenticated else None


def _werkzeug(cls: type) -> bool:
    return cls.__module__ == "werkzeug.exceptions"


def http_error_page(error: HTTPException) -> Response:
    """A 4xx page in the console's words: the error's own description when a view gave one, else the table's."""
    status = error.code or 500
    title, message = PAGE_ERRORS.get(status, (error.name, error.description or ""))
    title = getattr(error, "page_title", title)
    # Werkzeug's own sentence for this kind of error: what a view that gave none leaves in place
    stock = next((getattr(cls, "description", None) for cls in type(error).__mro__ if _werkzeug(cls)), None)
    if error.description and error.description != stock:
        message = error.description  # the view's own sentence, e.g. "No user #42."
    if isinstance(error, CSRFError):
        title, message = "Form expired", f"{error.description} Reload the page, then send the form again."
    return error_page(status, title, message, _signed_in_account() if status < 500 else None)


def unavailable_response(dependency: str, error: BaseException) -> Response:
    """503 service_unavailable (JSON under /api/, the console's page elsewhere), and one warning line."""
    log.warning(
        "service_unavailable: %s unreachable on %s %s (request %s): %s",
        dependency,
        request.method,
        request.path,
        g.get("request_id"),
        one_line(error),
    )
    refusal = error if isinstance(error, ServiceUnavailable) else ServiceUnavailable(dependency)
    if _wants_json():
        return error_response(refusal)
    note_error(refusal)
    return error_page(
        503,
        "Service unavailable",
        "The console cannot reach its database or its cache right now. Try again in a minute.",
    )


def register_error_handlers(app: Flask) -> None:
    """Install the handlers on the app (blueprint handlers miss unmatched URLs, so these are app-wide)."""

    @app.errorhandler(ServiceUnavailable)
    def handle_service_unavailable(error: ServiceUnavailable):
        return unavailable_response(error.dependency, error)

    @app.errorhandler(LoginError)
    def handle_login_error(error: LoginError):
        return error_response(error)

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        status = error.code or 500
        if not _wants_json():
            return http_error_page(error)
        code = HTTP_STATUS_TO_CODE.get(status, "invalid_request" if status < 500 else "internal_error")
        message = None
        if status == 413:
            message = "The body is too large."
        elif status == 429:
            message = f"Too many requests ({error.description}); try again after Retry-After seconds."
        response = error_response(LoginError(code, message))
        response.status_code = status
        if status == 429:
            retry_after = getattr(error, "retry_after", None)
            response.headers["Retry-After"] = str(retry_after or 60)
        return response

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        dependency = unreachable_dependency(error)
        if dependency:
            return unavailable_response(dependency, error)
        # A bug of ours: one line with the request id, not a traceback per call (an anonymous caller could
        # otherwise fill the log); the request id finds the request's own log line.
        log.error(
            "internal_error on %s %s (request %s): %s",
            request.method,
            request.path,
            g.get("request_id"),
            one_line(error),
        )
        if _wants_json():
            return error_response(LoginError("internal_error"))
        note_error(LoginError("internal_error"))
        return error_page(500, "Server error", "Something went wrong on our side; it has been logged.")
