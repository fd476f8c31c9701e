"""Home page, language switch and error pages: what every visitor touches."""

from flask import Blueprint

bp = Blueprint("main", __name__)

from app.main import routes  # noqa: E402,F401
