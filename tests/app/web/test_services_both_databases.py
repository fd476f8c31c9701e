"""The UI's services on SQLite and PostgreSQL alike: timetable, slot search, reports, feeds."""

from __future__ import annotations

from datetime import timedelta

from app.services.booking import service as booking_service
from app.services.booking.slots import SlotFilter, find_free_slots
from app.services.timetable import calendar, reports
from app.services.timetable import service as timetable
from tests.app.services.world import build_world


def test_timetable_search_reports_and_feeds(any_app):
    world = build_world()
    hub, op1 = world.hubs["B001"], world.users["op1"]
    spec = timetable.TemplateSpec(weekdays=(0, 1), open_minute=10 * 60, close_minute=14 * 60)
    timetable.save_template(hub, spec, op1)
    week = world.week_start + timedelta(days=7)
    tw, added = timetable.generate_week(hub, week, op1)
    assert added == 8 and len({s.code for s in tw.slots}) == 8
    timetable.publish_week(tw, op1)
    timetable.block_slot(tw.slots[0], "检修", op1)
    assert timetable.block_reasons(tw.slots) == {tw.slots[0].code: "检修"}

    p1 = world.participants["P001"]
    kitchens, total = find_free_slots(SlotFilter(features=frozenset({"kitchen"})), p1, limit=500)
    assert total == len(kitchens) and {r.studio_code for r in kitchens} == {"B001-S1", "B002-S1"}
    runs, _ = find_free_slots(SlotFilter(length=2, base="B001"), p1, limit=500)
    assert runs and all(len(r.slot_codes) == 2 for r in runs)

    booking_service.book_slots(world.users["p1"], [world.slot("B001-S1", 0, 20)])
    figures = reports.week_figures(hub, world.week_start)
    assert (figures.held, figures.sessions, figures.blocked) == (1, 1, 1)
    rows, regions = reports.overview(None, world.week_start)
    assert sum(r.sessions for r in rows) == 1 and regions == {"east": 1}
    assert reports.bookings_csv(hub, world.week_start).count("\r\n") == 2
    assert calendar.participant_feed(p1).count(b"BEGIN:VEVENT") == 1
