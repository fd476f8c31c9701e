"""Queries made cheaper for the programme week give the same answers as before."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from app.extensions import db
from app.models import BookingRequest, PlanningWeek
from app.services.placement import waitlist
from tests.app.cli_helpers import seed

BEFORE_THE_WEEK = datetime(2026, 12, 1, tzinfo=UTC)


def test_a_place_in_line_is_its_position_on_the_whole_waiting_list(any_app):
    seed(any_app, bases=6, requests=240)
    week = db.session.scalars(select(PlanningWeek)).one()
    line = {w.request.id: w for w in waitlist.waiting(week, after=BEFORE_THE_WEEK)}
    assert len(line) > 100
    requests = db.session.scalars(select(BookingRequest).order_by(BookingRequest.id)).all()
    assert len(line) < len(requests), "every request is waiting: nothing tells them apart"
    for req in requests:
        entry = waitlist.place_of(req, after=BEFORE_THE_WEEK)
        expected = line.get(req.id)
        if expected is None:
            assert entry is None, req.code
        else:
            assert entry is not None, req.code
            assert (entry.request.id, entry.participant.id, entry.served, entry.place) == (
                expected.request.id,
                expected.participant.id,
                expected.served,
                expected.place,
            ), req.code


def _reference_free_slots(flt, participant, now):
    """The free-slot list as it was read before: the database ordered every row by time, base
    and studio code; then a stable sort by time and distance (or distance and time)."""
    from app.localtime import local_zone
    from app.models import Hub, Slot, SlotHold, Studio, TimetableWeek
    from app.services.booking.slots import DAYPARTS, FreeSlot, runs_of
    from scheduler.domain import haversine_km

    hours = DAYPARTS.get(flt.daypart or "")
    rows = db.session.execute(
        select(Slot, Studio, Hub, TimetableWeek.week_start)
        .join(Studio, Studio.id == Slot.studio_id)
        .join(Hub, Hub.id == Studio.hub_id)
        .join(TimetableWeek, TimetableWeek.id == Slot.timetable_week_id)
        .outerjoin(SlotHold, SlotHold.slot_id == Slot.id)
        .where(TimetableWeek.state == "published", Slot.state == "open")
        .where(SlotHold.slot_id.is_(None), Slot.start > now, Studio.retired_at.is_(None))
        .order_by(Slot.start, Hub.code, Studio.code)
    )
    found = []
    for slot, studio, hub, week_start in rows:
        km = haversine_km(participant.lat, participant.lon, hub.lat, hub.lon)
        if flt.features and not flt.features <= set(studio.features or ()):
            continue
        if flt.max_km is not None and km > flt.max_km:
            continue
        if hours and not hours[0] <= slot.start.astimezone(local_zone()).hour < hours[1]:
            continue
        found.append(
            FreeSlot(
                slot.code, slot.start, slot.end, slot.prime, studio.code, studio.name,
                tuple(studio.features or ()), hub.code, hub.name, hub.city, hub.province,
                hub.region, km, hub_id=hub.id, week_start=week_start,
            )
        )  # fmt: skip
    if flt.length > 1:
        found = runs_of(found, flt.length)
    if flt.nearest_first:
        found.sort(key=lambda r: (r.km or 0.0, r.start))
    else:
        found.sort(key=lambda r: (r.start, r.km or 0.0))
    return found


def test_free_slots_and_offers_are_as_before(any_app):
    from app.models import Participant
    from app.services.booking import search as finder
    from app.services.booking.rules import active_sessions
    from app.services.booking.slots import SlotFilter, find_free_slots

    seed(any_app, bases=8, requests=200)
    now = BEFORE_THE_WEEK
    person = db.session.scalars(select(Participant).order_by(Participant.code)).first()
    filters = [
        SlotFilter(),
        SlotFilter(length=2),
        SlotFilter(nearest_first=True),
        SlotFilter(daypart="evening", features=frozenset({"kitchen"})),
        SlotFilter(max_km=1500.0, length=2, nearest_first=True),
    ]
    for flt in filters:
        found, total = find_free_slots(flt, person, now=now, limit=None)
        expected = _reference_free_slots(flt, person, now)
        assert found == expected and total == len(expected) > 0, flt
    fit = finder.Fit(preferred=("B004", "B002"), prime=True)
    allowed = finder.bookable(expected, active_sessions(person.id))
    offers = finder.group(allowed, fit, now)
    by_time = {}
    for r in allowed:
        by_time.setdefault((r.start, r.end, r.base_code), []).append(r)
    assert len(offers) == len(by_time)
    for offer in offers:
        studios = by_time[(offer.start, offer.end, offer.base_code)]
        assert offer.score == min(finder.score(s, fit, now) for s in studios)
        assert offer.prime == any(s.prime for s in studios)
        assert offer.studios == tuple(
            sorted(studios, key=lambda s: (len(s.features), s.studio_code))
        )
    keys = [(o.score, o.start, o.base_code) for o in offers]
    assert keys == sorted(keys)


def _signed_in(app, username, password):
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    answer = client.post("/auth/login", data={"username": username, "password": password})
    assert answer.status_code == 302
    return client


def test_the_overview_shows_every_base_a_page_at_a_time_with_figures_for_all(app):
    import re

    from app.demo.seed import DEMO_PASSWORDS

    seed(app, bases=60, requests=120)
    admin = _signed_in(app, "admin", DEMO_PASSWORDS["admin"])
    pages = [
        admin.get(f"/operator/overview?week=2026-12-07&page={n}").get_data(as_text=True)
        for n in (1, 2)
    ]
    listed = [re.findall(r'<div class="small text-muted">(B\d{3}) ·', p) for p in pages]
    assert len(listed[0]) == 50 and len(listed[1]) == 10
    assert sorted(listed[0] + listed[1]) == [f"B{i:03d}" for i in range(1, 61)]
    assert all('<div class="cl-kpi">60</div>' in p for p in pages)
    assert 'rel="next"' in pages[0] and 'rel="prev"' in pages[1] and "week=2026-12-07" in pages[0]
