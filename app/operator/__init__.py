"""Base operators' pages: base and studios, template, week grid, bookings, dashboard, exports."""

from flask import Blueprint

bp = Blueprint("operator", __name__, url_prefix="/operator")

from app.operator import bookfor, bookings, bulk, routes, sheets, waitlist  # noqa: E402,F401
