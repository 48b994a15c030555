"""The front page and the health checks that load balancers call."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template
from sqlalchemy import select, text

from console.extensions import db, limiter
from console.models import LoginMethod

bp = Blueprint("web", __name__)


@bp.get("/")
def index():
    """What this service is, and where its API and simulator are."""
    methods = db.session.scalars(select(LoginMethod).order_by(LoginMethod.name)).all()
    return render_template("index.html", methods=methods, simulator=current_app.config["WECHAT_SIMULATOR"])


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


