"""The health checks that load balancers call, and the security headers of every page."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import select

from console.extensions import db, limiter
from console.models import LoginMethod

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
    """200 while every call would work, 503 otherwise; the body names each dependency's state (docs/dependencies.md).

    The database must answer a query on one of our tables (on SQLite that reads the file itself; a bare SELECT 1
    would not), and the shared cache's Redis must answer PING where REDIS_URL is set. The rate limits' Redis is
    named but does not make the service unready: while it is down, limits are counted in memory and calls work.
    """
    states = {"database": _database_state()}
    if current_app.config.get("REDIS_URL"):
        states["redis"] = _redis_state(current_app.extensions["shared_redis"])
    probe = current_app.extensions.get("ratelimit_redis")
    if probe is not None:
        same = current_app.config["RATELIMIT_STORAGE_URI"] == current_app.config.get("REDIS_URL")
        states["rateLimitStorage"] = states["redis"] if same else _redis_state(probe)  # one wait, not two
    ready = states["database"] == "ok" and states.get("redis", "ok") == "ok"
    return jsonify({"status": "ok" if ready else "unavailable", **states}), 200 if ready else 503


def _database_state() -> str:
    try:
        db.session.execute(select(LoginMethod.id).limit(1))
    except Exception:  # whatever the failure, the calls that need the database would fail the same way
        return "unreachable"
    finally:
        db.session.rollback()  # end the read: no transaction stays open between probes
    return "ok"


def _redis_state(client) -> str:
    try:
        client.ping()
    except Exception:  # a refused, dropped or silent Redis: its callers would fail the same way
        return "unreachable"
    return "ok"
