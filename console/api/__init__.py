"""The JSON API that mini programs call, under /api/v1."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from console.api import views  # noqa: E402,F401  (routes register on bp)
