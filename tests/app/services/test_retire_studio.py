"""Retiring a studio: free future slots removed (blocked where history refers to them), booked
ones kept with their bookings, the studio out of search, generation and the solver's input;
editing a base's details with checks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Booking, PlanningWeek, Slot, Studio
from app.services.booking import lifecycle
from app.services.booking import service as svc
from app.services.booking.rules import RuleBroken
from app.services.booking.slots import SlotFilter, find_free_slots
from app.services.exchange.export import build_instance
from app.services.timetable import service as timetable
from app.services.timetable import studios
from app.services.timetable.service import TimetableError


def _now(world):
    return world.local(-3, 12)


def _studio(code):
    return db.session.scalar(select(Studio).where(Studio.code == code))


def test_retiring_keeps_bookings_and_removes_or_blocks_free_slots(world):
    kept = svc.book_slots(world.users["p1"], [world.slot("B001-S1", 1, 14)], now=_now(world))
    gone = svc.book_slots(world.users["p2"], [world.slot("B001-S1", 2, 10)], now=_now(world))
    lifecycle.cancel(world.users["p2"], gone, now=_now(world))
    done = studios.retire_studio(_studio("B001-S1"), world.users["op1"], now=_now(world))
    assert [b.code for _s, b in done.kept] == [kept.code]
    assert done.blocked == [world.slot("B001-S1", 2, 10)]  # a past booking refers to it
    assert len(done.removed) == 12 - 2
    left = set(db.session.scalars(select(Slot.code).where(Slot.code.like("B001-S1%"))))
    assert left == {world.slot("B001-S1", 1, 14), world.slot("B001-S1", 2, 10)}
    db.session.refresh(kept)
    assert kept.status == "confirmed" and kept.current_slots[0].code in left
    assert _studio("B001-S1").retired_at is not None
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "studio.retire")).one()
    assert event.detail["kept"] == [kept.code]


def test_a_retired_studio_is_out_of_search_generation_and_the_solver_input(world):
    kept = svc.book_slots(world.users["p1"], [world.slot("B001-S1", 1, 14)], now=_now(world))
    studios.retire_studio(_studio("B001-S1"), world.users["op1"], now=_now(world))
    lifecycle.cancel(world.users["op1"], kept, reason="studio closed", now=_now(world))
    found, _total = find_free_slots(SlotFilter(), None, now=_now(world), limit=None)
    assert not [s for s in found if s.studio_code == "B001-S1"]
    assert [s for s in found if s.studio_code == "B001-S2"]
    week = db.session.scalar(
        select(PlanningWeek).where(PlanningWeek.week_start == world.week_start)
    )
    instance = build_instance(db.session, week, freeze_until=_now(world), timezone="Asia/Shanghai")
    assert not [s for s in instance.slots if s.studio == "B001-S1"]
    spec = timetable.TemplateSpec(weekdays=(0,), open_minute=600, close_minute=720)
    timetable.save_template(world.hubs["B001"], spec, world.users["op1"])
    _week, added = timetable.generate_week(
        world.hubs["B001"], world.week_start + timedelta(days=14), world.users["op1"]
    )
    assert added == 1  # B001-S2 only


def test_a_kept_slot_freed_after_retirement_is_never_booked_again(world):
    """The slot a kept booking held opens on cancellation, but a retired studio takes no new
    booking: by code (API, CLI, a stale page) the booking is refused and nothing is written."""
    slot = world.slot("B001-S1", 1, 14)
    kept = svc.book_slots(world.users["p1"], [slot], now=_now(world))
    studios.retire_studio(_studio("B001-S1"), world.users["op1"], now=_now(world))
    lifecycle.cancel(world.users["op1"], kept, reason="studio closed", now=_now(world))
    count = db.session.scalar(select(func.count()).select_from(Booking))
    with pytest.raises(RuleBroken) as refused:
        svc.book_slots(world.users["p2"], [slot], now=_now(world))
    db.session.rollback()
    assert refused.value.code == "studio_retired"
    assert db.session.scalar(select(func.count()).select_from(Booking)) == count


def test_refusals_write_nothing(world):
    studios.retire_studio(_studio("B001-S1"), world.users["op1"], now=_now(world))
    count = db.session.scalar(select(func.count()).select_from(Slot))
    with pytest.raises(TimetableError) as again:
        studios.retire_studio(_studio("B001-S1"), world.users["op1"], now=_now(world))
    assert again.value.code == "retired"
    with pytest.raises(TimetableError) as last:
        studios.retire_studio(_studio("B001-S2"), world.users["op1"], now=_now(world))
    db.session.rollback()
    assert last.value.code == "last_studio"
    assert db.session.scalar(select(func.count()).select_from(Slot)) == count
    assert _studio("B001-S2").retired_at is None
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 0


@pytest.mark.parametrize(
    ("changes", "code"),
    [({"name": " "}, "base_name"), ({"city": ""}, "base_place"), ({"province": "x" * 61},
     "base_place"), ({"region": "mars"}, "base_region"), ({"lat": 91.0}, "base_coordinates"),
     ({"lon": -181.0}, "base_coordinates")],
)  # fmt: skip
def test_base_details_are_checked(world, changes, code):
    hub = world.hubs["B001"]
    base = {"name": "临沂新基地", "city": "临沂", "province": "山东省", "region": "east",
            "lat": 35.1, "lon": 118.35}  # fmt: skip
    with pytest.raises(TimetableError) as refused:
        studios.update_base(hub, studios.BaseDetails(**{**base, **changes}), world.users["op1"])
    db.session.rollback()
    assert refused.value.code == code and hub.name != "临沂新基地"
    studios.update_base(hub, studios.BaseDetails(**base), world.users["op1"])
    db.session.refresh(hub)
    assert hub.name == "临沂新基地"
