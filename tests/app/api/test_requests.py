"""POST/GET /api/v1/requests."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, BookingRequest
from tests.app.api.conftest import assert_error


def _body(world, **over):
    body = {
        "sessions": 2,
        "length": 1,
        "window": {"start": world.local(0, 8).isoformat(), "end": world.local(4, 0).isoformat()},
        "bases": ["B002", "B001"],
        "max_km": 800,
        "needs": ["kitchen"],
        "prefer": {"bases": ["B001"], "prime": True},
    }
    body.update(over)
    return body


def test_file_a_request_and_read_it_back(api, world):
    r = api.post("/api/v1/requests", as_="p2", json=_body(world))
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["id"] == "R000001" and body["participant"] == "P002"
    assert body["bases"] == ["B001", "B002"] and body["prefer"] == {
        "bases": ["B001"],
        "prime": True,
    }
    assert body["window"]["start"] == world.local(0, 8).isoformat()
    assert (body["status"], body["served"], body["needs"]) == ("open", 0, ["kitchen"])
    assert api.get("/api/v1/requests", as_="p2").get_json() == [body]
    assert api.get("/api/v1/requests", as_="p1").get_json() == []
    assert_error(api.get("/api/v1/requests/R000001", as_="p1"), 404, "not_found")
    assert [x["id"] for x in api.get("/api/v1/requests", as_="op2").get_json()] == ["R000001"]
    event = db.session.scalars(select(AuditEvent)).one()
    assert (event.action, event.subject) == ("request.create", "R000001")


def test_any_base_request(api, world):
    r = api.post("/api/v1/requests", as_="p1", json=_body(world, bases=None, max_km=None))
    assert r.status_code == 201 and r.get_json()["bases"] is None


def test_invalid_requests_are_422_and_write_nothing(api, world):
    w = world
    cases = [
        ({"sessions": 0}, "sessions"),
        ({"length": 9}, "length"),
        ({"bases": ["B404"]}, "unknown_base"),
        ({"bases": []}, "bases"),
        ({"prefer": {"bases": ["B404"]}}, "unknown_base"),
        ({"max_km": -5}, "validation"),
        ({"max_km": 0}, "validation"),
        ({"max_km": 1e308}, "validation"),
        ({"needs": ["teleporter"]}, "validation"),
        ({"needs": ["x" * 40] * 1000}, "validation"),
        ({"needs": ["kitchen"] * 1000}, "validation"),
        (
            {"window": {"start": w.local(2, 0).isoformat(), "end": w.local(1, 0).isoformat()}},
            "window",
        ),
        (
            {"window": {"start": w.local(6, 0).isoformat(), "end": w.local(8, 0).isoformat()}},
            "window",
        ),
        ({"window": {"start": "2026-12-08T00:00:00", "end": "2026-12-09T00:00:00"}}, "window"),
        ({"sessions": "two"}, "validation"),
        ({"colour": "red"}, "validation"),
    ]
    for over, reason in cases:
        r = api.post("/api/v1/requests", as_="p1", json=_body(world, **over))
        assert_error(r, 422, reason)
    assert db.session.scalar(select(func.count()).select_from(BookingRequest)) == 0


def test_staff_do_not_file_requests(api, world):
    for user in ("op1", "admin"):
        assert_error(api.post("/api/v1/requests", as_=user, json=_body(world)), 403)


def test_the_service_refuses_unknown_features_and_far_distances_for_every_caller(app, world):
    import pytest

    from app.services.booking.requests import RequestInvalid, file_request

    w = world
    base = {"sessions": 1, "length": 1, "window_start": w.local(0, 8), "window_end": w.local(3, 0)}
    for bad, code in (
        ({"needs": ["teleporter"]}, "needs"),
        ({"needs": ["kitchen"] * 1000}, "needs"),
        ({"max_km": 1e308}, "max_km"),
        ({"max_km": 0.5}, "max_km"),
        ({"max_km": float("nan")}, "max_km"),
    ):
        with pytest.raises(RequestInvalid) as refused:
            file_request(w.users["p1"], **base, **bad)
        assert refused.value.code == code
    assert db.session.scalar(select(func.count()).select_from(BookingRequest)) == 0
