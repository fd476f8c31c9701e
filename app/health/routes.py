"""Health and metrics endpoints: JSON or Prometheus text, no login, no session, nothing secret.

``/healthz`` says the process answers. ``/readyz`` runs the readiness checks
(``app.observability.health``) and answers 200 or 503 naming the failed ones; ``?only=database,
migrations`` runs only those (for a load balancer that should keep a web host in service while
the scheduler restarts). ``/metrics`` is Prometheus' text format; with ``METRICS_TOKEN`` or
``METRICS_ALLOW_NETWORKS`` set it answers 403 to anyone else.
"""

from __future__ import annotations

import hmac
from ipaddress import ip_address, ip_network

from flask import Response, abort, jsonify, request

from app.extensions import csrf
from app.health import bp
from app.observability import health, metrics
from config import settings


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    only = [n.strip() for n in request.args.get("only", "").split(",") if n.strip()]
    unknown = [n for n in only if n not in health.CHECKS]
    if unknown:
        body = {"status": "bad_request", "error": f"unknown check(s): {', '.join(unknown)}"}
        return jsonify(body), 400
    ready, checks = health.readiness(only or None)
    failed = [name for name, result in checks.items() if not result["ok"]]
    body = {"status": "ready" if ready else "not_ready", "failed": failed, "checks": checks}
    return jsonify(body), 200 if ready else 503


def _may_scrape() -> bool:
    s = settings()
    if not s.METRICS_TOKEN and not s.METRICS_ALLOW_NETWORKS:
        return True
    if s.METRICS_TOKEN:
        given = request.headers.get("Authorization", "")
        if hmac.compare_digest(given.encode(), f"Bearer {s.METRICS_TOKEN}".encode()):
            return True
    if s.METRICS_ALLOW_NETWORKS and request.remote_addr:
        try:
            client = ip_address(request.remote_addr)
        except ValueError:
            return False
        return any(client in ip_network(n, strict=False) for n in s.METRICS_ALLOW_NETWORKS)
    return False


@bp.get("/metrics")
def metrics_page():
    if not _may_scrape():
        abort(403)
    rows, oldest = health.queue_depth()
    body, content_type = metrics.exposition(metrics.QueueCollector(rows, oldest))
    return Response(body, content_type=content_type)


csrf.exempt(bp)
