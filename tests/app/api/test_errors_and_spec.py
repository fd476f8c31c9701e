"""Errors under /api are JSON (never HTML, never a traceback); the OpenAPI spec validates;
the docs page works offline."""

from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate
from sqlalchemy import text

from app.extensions import db
from tests.app.api.conftest import assert_error

REQUIRED = {
    "/api/v1/tokens": {"post"},
    "/api/v1/bases": {"get"},
    "/api/v1/slots": {"get"},
    "/api/v1/bookings": {"get", "post"},
    "/api/v1/bookings/{code}": {"get", "delete"},
    "/api/v1/requests": {"get", "post"},
}


def test_router_level_errors_are_json(api):
    assert_error(api.get("/api/v1/no-such-thing", as_="p1"), 404)
    assert_error(api.client.put("/api/v1/bases"), 405)
    assert_error(api.get("/api/v1/bookings/K999999", as_="p1"), 404, "not_found")


def test_malformed_bodies_are_json(api):
    r = api.client.post(
        "/api/v1/bookings",
        data="{not json",
        headers={**api.headers("p1"), "Content-Type": "application/json"},
    )
    assert r.status_code in (400, 422) and r.is_json and "error" in r.get_json()
    r = api.post("/api/v1/bookings", as_="p1", data="slots=1")
    assert_error(r, 422)


def test_an_unexpected_failure_is_a_json_500_without_a_traceback(api, app):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    db.session.execute(text("DROP TABLE slot_holds"))  # a real database failure mid-request
    db.session.commit()
    r = api.get("/api/v1/slots", as_="p1")
    error = assert_error(r, 500)
    assert error["message"] == "internal error"
    assert "Traceback" not in r.get_data(as_text=True)
    db.create_all()  # put the table back for the next test's teardown


def test_openapi_spec_validates_and_covers_the_api(api):
    r = api.client.get("/api/v1/openapi.json")
    assert r.status_code == 200 and r.is_json
    spec = r.get_json()
    validate(spec)
    assert spec["openapi"].startswith("3.")
    for path, methods in REQUIRED.items():
        assert methods <= set(spec["paths"][path]), path
    assert all(p.startswith("/api/v1/") for p in spec["paths"])
    schemes = spec["components"]["securitySchemes"]
    assert any(s.get("scheme", "").lower() == "bearer" for s in schemes.values())
    booking = spec["paths"]["/api/v1/bookings"]["post"]
    assert {"201", "403", "409", "422"} <= set(booking["responses"])
    assert booking["security"]
    assert "security" not in spec["paths"]["/api/v1/tokens"]["post"]


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_docs_page_lists_every_operation_and_loads_nothing_external(api):
    r = api.client.get("/api/v1/docs")
    assert r.status_code == 200 and r.mimetype == "text/html"
    page = r.get_data(as_text=True)
    for path in REQUIRED:
        assert f"<code>{path}</code>" in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "<script" not in page


def test_the_api_needs_no_csrf_token_even_when_forms_do(api, world, app):
    """Bearer-token calls are exempt from CSRF; the site's forms keep it."""
    app.config["WTF_CSRF_ENABLED"] = True
    r = api.post("/api/v1/bookings", as_="p1", json={"slots": [world.slot("B001-S1", 1, 10)]})
    assert r.status_code == 201, r.get_json()
    r = api.client.post("/api/v1/tokens", json={"username": "p2", "password": "wrong"})
    assert_error(r, 401, "bad_credentials")
    page = api.client.post("/auth/login", data={"username": "p2", "password": "x"})
    assert page.status_code == 400  # the site's form without its CSRF token is refused


def test_every_operation_documents_its_errors_and_405_names_the_allowed_methods(api):
    spec = api.client.get("/api/v1/openapi.json").get_json()
    detail = spec["components"]["schemas"]["ErrorBody"]["properties"]["detail"]
    assert detail.get("type") == "object" and detail.get("additionalProperties", True) is not False
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status in ("400", "422", "429", "500"):
                assert status in operation["responses"], (method, path, status)
    assert "Link" in spec["paths"]["/api/v1/requests"]["get"]["responses"]["200"]["headers"]
    for method in ("TRACE", "PATCH"):
        r = api.client.open("/api/v1/bases", method=method)
        assert_error(r, 405, "method_not_allowed")
        assert "GET" in r.headers["Allow"]
