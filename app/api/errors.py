"""JSON errors for the API: one body shape for every refusal, never HTML, never a traceback.

``{"error": {"code": 409, "status": "Conflict", "reason": "slot_taken", "message": "...",
"detail": {...}}}`` — ``code`` and ``status`` are the HTTP status, ``reason`` a stable name a
client can switch on, ``message`` one English sentence. The site's own handler answers the
same shape for errors raised outside the API's views (unknown /api/ paths, 405s).
"""

from __future__ import annotations

from apiflask import HTTPError
from flask import Response, current_app, jsonify
from flask.typing import HeadersValue
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.http import HTTP_STATUS_CODES

from app.extensions import db
from app.services.errors import ServiceError

_REASONS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
    500: "internal_error",
}


def error_response(
    status: int,
    message: str,
    *,
    reason: str | None = None,
    detail: dict | None = None,
    headers: HeadersValue | None = None,
) -> tuple[Response, int, HeadersValue]:
    """The API's error answer."""
    body = {
        "code": status,
        "status": HTTP_STATUS_CODES.get(status, "Error"),
        "reason": reason or _REASONS.get(status, "error"),
        "message": message,
    }
    if detail:
        body["detail"] = detail
    return jsonify({"error": body}), status, headers or {}


def from_apiflask(error: HTTPError):
    """APIFlask's errors (input validation, ``abort``, auth) in the API's shape."""
    status = error.status_code
    if status == 422 and error.detail:
        return error_response(
            422, "invalid input", reason="validation", detail=error.detail, headers=error.headers
        )
    message = error.message or HTTP_STATUS_CODES.get(status, "error")
    reason = (error.extra_data or {}).get("reason")
    return error_response(status, message, reason=reason, headers=error.headers)


def from_service(error: ServiceError):
    """A typed refusal from a service (rule broken, slot taken, not found, forbidden)."""
    return error_response(
        error.status, error.message, reason=error.code, detail=getattr(error, "detail", None)
    )


def from_http(error: HTTPException):
    """Werkzeug's HTTP errors raised inside an API view (bad JSON, 404 from a lookup, ...)."""
    from app.main.errors import kept_headers

    status = error.code or 500
    return error_response(status, error.description or error.name, headers=kept_headers(error))


def from_crash(error: InternalServerError):
    """A bug inside an API view: roll back, log, answer a plain JSON 500."""
    db.session.rollback()
    current_app.logger.error("API error: %r", getattr(error, "original_exception", error))
    return error_response(500, "internal error")


def register(bp) -> None:
    """Install the handlers on the API blueprint (they apply to errors from its views)."""
    bp.register_error_handler(ServiceError, from_service)
    bp.register_error_handler(HTTPError, from_apiflask)
    bp.register_error_handler(InternalServerError, from_crash)
    bp.register_error_handler(HTTPException, from_http)
