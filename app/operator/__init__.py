"""Base operators' pages: base and studios, template, week grid, bookings, dashboard, exports."""

from flask import Blueprint

bp = Blueprint("operator", __name__, url_prefix="/operator")

from app.operator import (  # noqa: E402,F401
    bookfor,
    bookings,
    bulk,
    integrations,
    routes,
    sheets,
    studios,
    waitlist,
)
