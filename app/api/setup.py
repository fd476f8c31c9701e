"""Wiring the API into the app: error shape, spec filtering, CSRF exemption, the blueprint.

The site itself answers HTML errors; APIFlask is created with ``json_errors=False`` so it
leaves those alone, and the API's own handlers (``app.api.errors``) answer JSON under /api/.
"""

from __future__ import annotations

from apiflask import APIFlask

from app.api import errors, schemas
from app.api.paging import LINK_HEADER

DESCRIPTION = """Chunlei (春雷) livestream-base booking API.

1. `POST /api/v1/tokens` with `{"username", "password"}` returns a token.
2. Send it as `Authorization: Bearer <token>` on every other call.

Ids are public codes (base `B017`, slot `SL004211`, booking `K000123`, request `R000381`);
times are ISO 8601 with the `+08:00` offset (Asia/Shanghai). Every error is JSON:
`{"error": {"code": 409, "status": "Conflict", "reason": "slot_taken", "message": "..."}}`.
"""


#: Answers any operation may give besides its own: bad input caught before the view, the rate
#: limit, a bug. Each is the API's JSON error.
COMMON_ERRORS = {
    "400": "Bad request: a NUL byte, a date outside 2000..2100, malformed or over-nested JSON",
    "422": "Invalid input (reason: validation; detail names each field)",
    "429": "Too many requests (reason: too_many_requests); retry later",
    "500": "Internal error (reason: internal_error); nothing was changed",
}
#: Operations that list: their 200 carries the next page's ``Link`` header.
PAGED = {
    "/api/v1/bases",
    "/api/v1/slots",
    "/api/v1/bookings",
    "/api/v1/requests",
    "/api/v1/webhooks/{code}/attempts",
}


def _error_response(description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}},
    }


def _only_api_paths(spec: dict) -> dict:
    """The spec documents /api/v1 only (the site's HTML pages are not part of the API), every
    operation's common errors, and the paging header of the lists."""
    spec["paths"] = {p: v for p, v in spec.get("paths", {}).items() if p.startswith("/api/v1/")}
    spec.setdefault("info", {})["description"] = DESCRIPTION
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for status, description in COMMON_ERRORS.items():
                responses.setdefault(status, _error_response(description))
            if path in PAGED and method == "get" and "200" in responses:
                responses["200"].setdefault("headers", {}).update(LINK_HEADER)
    return spec


def register(app: APIFlask) -> None:
    """Register the API blueprint and make its errors, spec and CSRF behave."""
    from app.api import bp
    from app.extensions import csrf

    app.config["HTTP_ERROR_SCHEMA"] = schemas.ErrorOut
    app.config["VALIDATION_ERROR_SCHEMA"] = schemas.ErrorOut
    app.config["VALIDATION_ERROR_DESCRIPTION"] = "Invalid input (reason: validation)"
    app.error_callback = errors.from_apiflask
    # APIFlask hands the callback the spec as a dict (its type also allows a YAML string).
    app.spec_callback = _only_api_paths  # type: ignore[assignment]
    csrf.exempt(bp)
    app.register_blueprint(bp)
