"""A tiny database world for model tests: one base, one studio, three slots, two participants."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from app.extensions import db
from app.models import (
    Booking,
    BookingRequest,
    BookingSlot,
    Hub,
    Participant,
    PlanningWeek,
    Slot,
    SlotHold,
    Studio,
    TimetableWeek,
)

WEEK = date(2026, 12, 7)
T0 = datetime(2026, 12, 8, 12, 0, tzinfo=UTC)  # 20:00 in Shanghai


def tiny_world() -> dict:
    """Rows for a minimal week, flushed; returns them by name."""
    week = PlanningWeek(week_start=WEEK, name="week-2026-12-07")
    hub = Hub(
        code="B001",
        name="义乌市直播基地",
        city="义乌市",
        province="浙江省",
        region="east",
        lat=29.306775,
        lon=120.075106,
    )
    studio = Studio(code="B001-S1", hub=hub, features=["kitchen"])
    tw = TimetableWeek(hub=hub, week_start=WEEK, state="published")
    slots = [
        Slot(
            code=f"SL{k + 1:06d}",
            studio=studio,
            timetable_week=tw,
            start=T0 + timedelta(hours=2 * k),
            end=T0 + timedelta(hours=2 * k + 2),
            prime=k < 1,
        )
        for k in range(3)
    ]
    people = [
        Participant(
            code=f"P0000{k + 1}",
            name=f"合作社{k + 1}",
            kind="producer",
            province="浙江省",
            region="east",
            lat=29.3,
            lon=120.1,
            priority=3,
        )
        for k in range(2)
    ]
    db.session.add_all([week, hub, studio, tw, *slots, *people])
    db.session.flush()
    request = BookingRequest(
        code="R000001",
        participant=people[0],
        planning_week=week,
        sessions=2,
        length=1,
        window_start=T0 - timedelta(days=1),
        window_end=T0 + timedelta(days=1),
    )
    db.session.add(request)
    db.session.flush()
    return {
        "week": week,
        "hub": hub,
        "studio": studio,
        "slots": slots,
        "people": people,
        "request": request,
    }


def booking(w: dict, code: str, who: int, slot: Slot, status: str = "confirmed") -> Booking:
    """A booking with its history row and (if active) its hold, flushed."""
    b = Booking(
        code=code,
        participant=w["people"][who],
        planning_week=w["week"],
        status=status,
        origin="participant",
        request=w["request"] if who == 0 else None,
    )
    db.session.add(b)
    db.session.flush()
    db.session.add(BookingSlot(booking_id=b.id, slot_id=slot.id, position=0))
    if status != "cancelled":
        db.session.add(SlotHold(booking_id=b.id, slot_id=slot.id))
    db.session.flush()
    return b
