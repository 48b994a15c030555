"""The health checks that load balancers call, and the security headers of every page."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from console.extensions import db, limiter

bp = Blueprint("web", __name__)


# Pages load nothing from elsewhere and run no inline script or style: the browser enforces it.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; script-src 'self'; style-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)


# Outside the demo the console is served over TLS (nginx in front): browsers must never fall back to http.
STRICT_TRANSPORT_SECURITY = "max-age=31536000; includeSubDomains"
# The only answers any cache may keep: the API's public description and the static files (ours, Bootstrap's).
# Every other answer may carry a code, a token or personal data, so it is kept by no cache and no browser.
PUBLIC_ENDPOINTS = frozenset({"api.openapi", "static", "bootstrap.static"})


@bp.after_app_request
def protect_pages(response):
    """Security headers on every answer: nosniff, HSTS outside the demo, no-store unless public; CSP on pages."""
    from flask import current_app, request  # here, not at the top: readyz's imports there change on their own

    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if not current_app.config["CONSOLE_DEMO"]:  # the demo is plain http on a laptop: HSTS would pin 127.0.0.1
        response.headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
    if request.endpoint not in PUBLIC_ENDPOINTS:  # unmatched routes (None) included: error answers name things too
        response.headers["Cache-Control"] = "no-store"
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


@bp.get("/healthz")
@limiter.exempt
def healthz():
    """200 while the process lives."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
@limiter.exempt
def readyz():
    """200 while the database answers, 503 otherwise."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any failure to reach the database means not ready
        db.session.rollback()
        return jsonify({"status": "unavailable", "database": "unreachable"}), 503
    return jsonify({"status": "ok", "database": "ok"})
