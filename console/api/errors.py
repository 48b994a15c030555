"""Error answers: the contract's JSON under /api/, an HTML page elsewhere."""

from __future__ import annotations

import logging

from flask import jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from console.errors import LoginError
from console.logs import note_error

log = logging.getLogger(__name__)

HTTP_STATUS_TO_CODE = {
    400: "invalid_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    413: "invalid_request",
    429: "rate_limited",
}


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path.startswith("/_wechat/")


def error_response(error: LoginError):
    """The contract's JSON error answer, with the headers its status calls for."""
    note_error(error)
    response = jsonify(error.to_dict())
    response.status_code = error.status
    if error.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def register_error_handlers(app) -> None:
    """Install the handlers on the app (blueprint handlers miss unmatched URLs, so these are app-wide)."""

    @app.errorhandler(LoginError)
    def handle_login_error(error: LoginError):
        return error_response(error)

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        if not _wants_json():
            return render_template("errors/error.html", error=error), error.code
        code = HTTP_STATUS_TO_CODE.get(error.code, "invalid_request" if error.code < 500 else "internal_error")
        message = None
        if error.code == 413:
            message = "The body is too large."
        elif error.code == 429:
            message = f"Too many requests ({error.description}); try again after Retry-After seconds."
        response = error_response(LoginError(code, message))
        response.status_code = error.code
        if error.code == 429:
            retry_after = getattr(error, "retry_after", None)
            response.headers["Retry-After"] = str(retry_after or 60)
        return response

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        if _wants_json():
            return error_response(LoginError("internal_error"))
        return render_template("errors/error.html", error=None), 500
