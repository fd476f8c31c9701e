"""Merchants' and producers' pages: profile, find and book slots, requests, my sessions."""

from flask import Blueprint

bp = Blueprint("participant", __name__, url_prefix="/me")

from app.participant import lots, profile, requests, routes, search  # noqa: E402,F401
