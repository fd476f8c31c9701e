"""The request page's live part (polled while a placement works) and the operators' waiting list."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import BookingRequest, PlanningWeek
from app.services.booking import requests as svc
from app.services.booking import service as booking
from app.services.placement import place


@pytest.fixture(autouse=True)
def instant_placement(app):
    """Filing a request and freeing a slot enqueue placements (eager: they run inline)."""
    app.config["INSTANT_PLACEMENT"] = True


def _file(world, user, **kw):
    args = {"sessions": 1, "length": 1, "window_start": world.local(0, 0),
            "window_end": world.local(3, 0), "now": world.local(-3, 12)}  # fmt: skip
    args.update(kw)
    return svc.file_request(world.users[user], **args)


def _week_id(world) -> int:
    return db.session.scalar(
        select(PlanningWeek.id).where(PlanningWeek.week_start == world.week_start)
    )


def test_the_request_page_polls_while_placing_then_shows_the_proposal(app, world, login):
    req = _file(world, "p1")
    req.placement = "queued"  # as filed, before the job ran (eager queues run it at once)
    db.session.commit()
    p1 = login("p1")
    page = p1.get(f"/me/requests/{req.code}").get_data(as_text=True)
    assert 'data-poll="1"' in page and 'data-testid="placement-working"' in page
    assert "js/poll.js" in page and "<script>" not in page  # no inline script
    place.place_queued(_week_id(world))
    part = p1.get(f"/me/requests/{req.code}/status").get_data(as_text=True)
    assert 'data-poll="0"' in part and "placement-working" not in part
    assert "cl-state-tentative" in part and "接受截止" in part
    assert login("p2").get(f"/me/requests/{req.code}/status").status_code == 404


def test_a_short_request_shows_its_place_and_the_base_its_waiting_list(app, world, login):
    only = [world.slot("B002-S1", 0, 20)]
    booking.book(world.users["p2"], only, now=world.local(-3, 12))
    window = {"window_start": world.local(0, 20), "window_end": world.local(0, 22)}
    first = _file(world, "p1", bases=["B002"], **window)
    second = _file(world, "p3", bases=["B002"], **window)
    for r in (first, second):
        db.session.refresh(r)
        assert r.placement == "done"
    part = login("p3").get(f"/me/requests/{second.code}/status?lang=en").get_data(as_text=True)
    assert 'data-testid="waitlist-place"' in part and "place 2" in part
    week = world.week_start.isoformat()
    listed = login("op2").get(f"/operator/bases/B002/waitlist?week={week}&lang=en")
    text = listed.get_data(as_text=True)
    assert listed.status_code == 200 and text.index(first.code) < text.index(second.code)
    empty = login("op1").get(f"/operator/bases/B001/waitlist?week={week}").get_data(as_text=True)
    assert first.code not in empty and 'data-testid="waitlist-empty"' in empty
    assert login("op1").get(f"/operator/bases/B002/waitlist?week={week}").status_code == 404
    assert db.session.scalar(select(BookingRequest.placement).where(BookingRequest.id == 1))
