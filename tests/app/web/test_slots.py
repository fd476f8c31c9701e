"""Slot search alone: what counts as free, ordering, runs, and alternatives to a taken slot."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import Slot
from app.services.booking import service as booking_service
from app.services.booking.slots import SlotFilter, alternatives, find_free_slots


def test_free_means_published_open_unheld_and_not_started(app, world):
    p1 = world.participants["P001"]
    booking_service.book_slots(world.users["p2"], [world.slot("B001-S1", 0, 10)])
    codes = {r.code for r in find_free_slots(SlotFilter(), p1, limit=1000)[0]}
    assert world.slot("B001-S1", 0, 10) not in codes  # held
    assert world.slot("B001-S2", 0, 10) not in codes  # blocked
    assert world.slot("B002-S1", 7, 10) not in codes  # draft week
    assert world.slot("B001-S1", 0, 12) in codes
    later = world.local(1, 0)
    after = {r.code for r in find_free_slots(SlotFilter(), p1, now=later, limit=1000)[0]}
    assert world.slot("B001-S1", 0, 12) not in after and world.slot("B001-S1", 1, 10) in after


def test_nearest_first_puts_the_closer_base_first(app, world):
    ganzhou_coop = world.participants["P002"]
    rows, total = find_free_slots(SlotFilter(nearest_first=True), ganzhou_coop, limit=5)
    assert total == 11 + 12 + 12  # B001-S1, B001-S2 (one blocked), B002-S1
    assert {r.base_code for r in rows} == {"B002"}
    assert rows[0].km < 10


def test_runs_join_consecutive_slots_of_one_studio_only(app, world):
    rows, _ = find_free_slots(SlotFilter(length=2, base="B002"), None, limit=100)
    assert all(len(r.slot_codes) == 2 for r in rows)
    assert len(rows) == 3 * 2  # per day: 10+12, 12+14; 14 and 20 are not consecutive
    assert all(r.end - r.start == timedelta(hours=4) for r in rows)


def test_alternatives_prefer_the_same_base_then_the_nearest_time(app, world):
    taken = db.session.scalar(select(Slot).where(Slot.code == world.slot("B001-S1", 1, 12)))
    booking_service.book_slots(world.users["p2"], [taken.code])
    options = alternatives(taken, world.participants["P001"])
    assert options and all(o.code != taken.code for o in options)
    assert options[0].base_code == "B001"
    assert all("kitchen" in o.features for o in options)
    gaps = [abs((o.start - taken.start).total_seconds()) for o in options if o.base_code == "B001"]
    assert gaps == sorted(gaps)
