"""Calendar feeds: what they hold, and that their signed keys are scoped and revocable."""

from __future__ import annotations

from icalendar import Calendar

from app.extensions import db
from app.services.booking import lifecycle
from app.services.booking import service as booking_service
from app.services.timetable import calendar


def test_participant_feed_lists_active_sessions_in_utc(app, world):
    booking = booking_service.book_slots(world.users["p1"], [world.slot("B001-S1", 1, 20)])
    cancelled = booking_service.book_slots(world.users["p1"], [world.slot("B001-S1", 2, 20)])
    lifecycle.cancel(world.users["p1"], cancelled)
    feed = Calendar.from_ical(calendar.participant_feed(world.participants["P001"]))
    events = list(feed.walk("VEVENT"))
    assert [str(e["uid"]) for e in events] == [f"{booking.code}@chunlei"]
    start = events[0].decoded("dtstart")
    assert start == world.local(1, 20) and start.utcoffset().total_seconds() == 0
    assert "临沂直播基地" in str(events[0]["summary"])


def test_feed_keys_are_scoped_and_die_with_the_password(app, world):
    op1 = world.users["op1"]
    key = calendar.feed_key(op1, "base:B001")
    assert calendar.user_for_key(key, "base:B001") == op1
    assert calendar.user_for_key(key, "base:B002") is None
    assert calendar.user_for_key(key, "me") is None
    assert calendar.user_for_key(key + "x", "base:B001") is None
    op1.set_password("a new password 99")
    db.session.commit()
    assert calendar.user_for_key(key, "base:B001") is None


def test_another_operators_key_cannot_read_my_base(app, world):
    key = calendar.feed_key(world.users["op2"], "base:B001")  # op2 runs B002 only
    response = app.test_client().get(f"/operator/bases/B001/timetable.ics?key={key}")
    assert response.status_code == 404
