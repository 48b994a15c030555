"""Console sign-in and sign-out."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from console.auth import views  # noqa: E402,F401  (routes register on bp)
