"""GET /api/v1/requests/<id>: a request's placement state and the sessions proposed for it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import TimetableWeek


@pytest.fixture(autouse=True)
def instant_placement(app):
    """Filing a request and freeing a slot enqueue placements (eager: they run inline)."""
    app.config["INSTANT_PLACEMENT"] = True


def _body(world, **over):
    window = {"start": world.local(0, 8).isoformat(), "end": world.local(3, 0).isoformat()}
    body = {"sessions": 2, "length": 1, "window": window, "bases": ["B001"], "needs": []}
    body.update(over)
    return body


def test_a_filed_request_is_placed_and_its_proposals_served(api, world):
    r = api.post("/api/v1/requests", as_="p1", json=_body(world))
    assert r.status_code == 201
    filed = r.get_json()  # the queue is eager in tests: the placement ran before the answer
    assert (filed["placement"], filed["served"], filed["placement_reason"]) == ("done", 2, None)
    got = api.get(f"/api/v1/requests/{filed['id']}", as_="p1").get_json()
    assert (got["placement"], got["served"], got["placement_reason"]) == ("done", 2, None)
    mine = api.get("/api/v1/bookings", as_="p1").get_json()
    assert sorted(b["status"] for b in mine) == ["tentative", "tentative"]
    assert {b["request"] for b in mine} == {filed["id"]}


def test_a_request_for_an_unpublished_week_says_so(api, world):
    for tw in db.session.scalars(select(TimetableWeek)):
        tw.state = "draft"
    db.session.commit()
    r = api.post("/api/v1/requests", as_="p1", json=_body(world))
    body = r.get_json()
    assert r.status_code == 201 and body["placement"] == "failed"
    assert "published" in body["placement_reason"] and body["served"] == 0
