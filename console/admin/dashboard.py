"""The console's front page."""

from __future__ import annotations

from flask import current_app, render_template

from console.admin import bp
from console.services.dashboard import dashboard
from console.services.gateway import WECHAT_ERROR_CODES


@bp.get("/")
def dashboard_index():
    """Users, bindings per login method, today's activity, a 30-day chart and WeChat's refusals."""
    return render_template(
        "admin/dashboard.html",
        report=dashboard(),
        error_codes=WECHAT_ERROR_CODES,
        simulator=current_app.config["WECHAT_SIMULATOR"],
    )
