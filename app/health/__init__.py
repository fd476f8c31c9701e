"""``/healthz``, ``/readyz`` and ``/metrics``: for load balancers, orchestrators and Prometheus."""

from flask import Blueprint

bp = Blueprint("health", __name__)

from app.health import routes  # noqa: E402,F401
