"""A request shows one status derived from its facts (never "awaiting placement" next to
"placed 2 of 2"), and a request for dates no base has published says so when filed."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from app.extensions import db
from app.models import Booking
from app.services.booking import lifecycle, request_state
from app.services.booking import requests as request_service
from app.services.booking import service as booking_service
from app.services.booking.request_state import RequestState
from tests.app.api.conftest import Api


def _file(world, **kw):
    args = {"sessions": 2, "length": 1, "window_start": world.local(0, 0),
            "window_end": world.local(3, 0), "now": world.local(-3, 12)}  # fmt: skip
    args.update(kw)
    return request_service.file_request(world.users["p1"], **args)


def test_the_state_follows_the_sessions(app, world, login):
    req = _file(world)
    assert request_state.facts(req).state == RequestState.WAITING
    first = booking_service.book(world.users["p1"], [world.slot("B001-S1", 0, 10)], request=req)
    assert request_state.facts(req).state == RequestState.PARTLY_PLACED
    second = booking_service.book(world.users["p1"], [world.slot("B001-S1", 1, 10)], request=req)
    db.session.execute(update(Booking).where(Booking.id == second.id).values(status="tentative"))
    db.session.commit()
    facts = request_state.facts(req)
    assert (facts.state, facts.placed, facts.to_accept) == (RequestState.TO_ACCEPT, 2, 1)
    p1 = login("p1")
    page = p1.get(f"/me/requests/{req.code}").get_data(as_text=True)
    assert 'data-testid="request-state">有待你确认的场次<' in page and "已安排 2 / 2 场" in page
    assert ">待安排<" not in page
    lifecycle.accept(world.users["p1"], db.session.get(Booking, second.id))
    page = p1.get(f"/me/requests/{req.code}?lang=en").get_data(as_text=True)
    assert 'data-testid="request-state">Placed<' in page
    assert "2 of 2 placed" in page and "Awaiting placement" not in page
    listing = p1.get("/me/requests?lang=en").get_data(as_text=True)
    assert f'data-testid="state-{req.code}">Placed<' in listing
    assert first.id  # the first session stays kept throughout
    request_service.withdraw_request(world.users["p1"], req)
    assert request_state.facts(req).state == RequestState.WITHDRAWN


def test_a_passed_window_has_ended(app, world):
    req = _file(world)
    later = world.local(4, 0)
    assert request_state.facts(req, now=later).state == RequestState.ENDED


def test_a_request_for_dates_nobody_published_says_so_when_filed(app, world, login):
    p1 = login("p1")
    week = world.week_start + timedelta(days=14)  # no base published that week
    response = p1.post(
        "/me/requests/new?lang=en",
        data={
            "sessions": "1",
            "length": "1",
            "window_start": week.isoformat(),
            "window_end": (week + timedelta(days=6)).isoformat(),
        },
        follow_redirects=True,
    )
    text = response.get_data(as_text=True)
    assert "No base has published its timetable" in text
    assert 'data-testid="no-timetable"' in text
    assert "No timetable published for these dates yet" in text
    body = Api(app, world).post(
        "/api/v1/requests",
        as_="p1",
        json={
            "sessions": 1,
            "window": {
                "start": world.local(14, 0).isoformat(),
                "end": world.local(16, 0).isoformat(),
            },
        },
    )
    assert body.status_code == 201 and body.get_json()["state"] == "no_timetable"
    published = Api(app, world).post(
        "/api/v1/requests",
        as_="p1",
        json={
            "sessions": 1,
            "window": {
                "start": world.local(0, 0).isoformat(),
                "end": world.local(2, 0).isoformat(),
            },
        },
    )
    assert published.get_json()["state"] == "waiting"
