"""The web side of observability: logging set up once per process, a request id and the
request metrics on every web request.

The request id is the caller's ``X-Request-ID`` when it is sane (1..64 letters, digits, ``._:-``),
else a new one; it is bound to every log line of the request, stored with the jobs the request
enqueues, and returned in the response's ``X-Request-ID``.
"""

from __future__ import annotations

import contextlib
import time

from flask import Flask, g, request

from app.observability import logs, metrics
from config import settings

REQUEST_ID_HEADER = "X-Request-ID"


def init_app(app: Flask) -> None:
    """Configure logging (not under the test-suite, which has its own) and bind the hooks."""
    if not app.testing:
        s = settings(app)
        logs.configure(s.LOG_FORMAT, s.LOG_LEVEL.upper())

    @app.before_request
    def start_request() -> None:
        g.request_started = time.perf_counter()
        rid = logs.request_id_from(request.headers.get(REQUEST_ID_HEADER))
        g.request_id = rid
        g.log_token = logs.bind(request_id=rid)

    @app.after_request
    def finish_request(response):
        rid = g.get("request_id")
        if rid is not None:
            response.headers[REQUEST_ID_HEADER] = rid
        started = g.get("request_started")
        if started is not None:
            rule = request.url_rule
            endpoint = rule.rule if rule is not None else "<unmatched>"
            metrics.HTTP_REQUESTS.labels(request.method, endpoint, str(response.status_code)).inc()
            metrics.HTTP_LATENCY.labels(request.method, endpoint).observe(
                time.perf_counter() - started
            )
        return response

    @app.teardown_request
    def end_request(_exc) -> None:
        token = g.pop("log_token", None)
        if token is not None:
            # Bound in another context (a streamed response): nothing to undo.
            with contextlib.suppress(ValueError):
                logs.unbind(token)
