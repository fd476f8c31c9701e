"""Wiring the API into the app: error shape, spec filtering, CSRF exemption, the blueprint.

The site itself answers HTML errors; APIFlask is created with ``json_errors=False`` so it
leaves those alone, and the API's own handlers (``app.api.errors``) answer JSON under /api/.
"""

from __future__ import annotations

from apiflask import APIFlask

from app.api import errors, schemas

DESCRIPTION = """Chunlei (春雷) livestream-base booking API.

1. `POST /api/v1/tokens` with `{"username", "password"}` returns a token.
2. Send it as `Authorization: Bearer <token>` on every other call.

Ids are public codes (base `B017`, slot `SL004211`, booking `K000123`, request `R000381`);
times are ISO 8601 with the `+08:00` offset (Asia/Shanghai). Every error is JSON:
`{"error": {"code": 409, "status": "Conflict", "reason": "slot_taken", "message": "..."}}`.
"""


def _only_api_paths(spec: dict) -> dict:
    """The spec documents /api/v1 only (the site's HTML pages are not part of the API)."""
    spec["paths"] = {p: v for p, v in spec.get("paths", {}).items() if p.startswith("/api/v1/")}
    spec.setdefault("info", {})["description"] = DESCRIPTION
    return spec


def register(app: APIFlask) -> None:
    """Register the API blueprint and make its errors, spec and CSRF behave."""
    from app.api import bp
    from app.extensions import csrf

    app.config["HTTP_ERROR_SCHEMA"] = schemas.ErrorOut
    app.config["VALIDATION_ERROR_SCHEMA"] = schemas.ErrorOut
    app.config["VALIDATION_ERROR_DESCRIPTION"] = "Invalid input (reason: validation)"
    app.error_callback = errors.from_apiflask
    app.spec_callback = _only_api_paths
    csrf.exempt(bp)
    app.register_blueprint(bp)
