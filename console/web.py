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


@bp.after_app_request
def protect_pages(response):
    """Security headers on every HTML page."""
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
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
