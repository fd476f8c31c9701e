"""iCalendar feeds: a base's published timetable, and a participant's sessions.

Calendar apps fetch feeds without a browser session, so each feed URL carries a signed key
(user id + a fingerprint of the password hash): changing the password revokes old feed links.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta

from flask import current_app
from icalendar import Calendar, Event
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Booking, BookingSlot, Hub, Participant, Slot, TimetableWeek, User
from app.models.vocabulary import ACTIVE_STATUSES, BookingStatus, SlotState, WeekState
from app.services.timetable.grid import live_holds

FEED_SALT = "chunlei-ical-feed"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=FEED_SALT)


def _fingerprint(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:12]


def feed_key(user: User, scope: str) -> str:
    """A key for ``scope`` ("base:B017" or "me") that stays valid until the password changes."""
    return _serializer().dumps({"u": user.id, "f": _fingerprint(user), "s": scope})


def user_for_key(key: str, scope: str) -> User | None:
    """The active user a feed key was made for, if it is genuine and for this scope."""
    try:
        data = _serializer().loads(key)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("s") != scope:
        return None
    user = db.session.get(User, data.get("u")) if isinstance(data.get("u"), int) else None
    if user is None or not user.active or data.get("f") != _fingerprint(user):
        return None
    return user


def _calendar(name: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", "-//Chunlei//livestream timetable//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", current_app.config["TIMEZONE"])
    return cal


def _event(uid: str, start: datetime, end: datetime, summary: str, where: str, stamp: datetime):
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    event.add("dtstart", start.astimezone(UTC))
    event.add("dtend", end.astimezone(UTC))
    event.add("summary", summary)
    event.add("location", where)
    return event


def base_feed(hub: Hub, *, today: date, weeks_back: int = 1) -> bytes:
    """Every slot of the base's published weeks from a week ago on: open, booked or blocked."""
    since = today - timedelta(days=7 * weeks_back + today.weekday())
    slots = list(
        db.session.scalars(
            select(Slot)
            .join(TimetableWeek, TimetableWeek.id == Slot.timetable_week_id)
            .where(
                TimetableWeek.hub_id == hub.id,
                TimetableWeek.state == WeekState.PUBLISHED,
                TimetableWeek.week_start >= since,
            )
            .options(selectinload(Slot.studio))
            .order_by(Slot.start)
        )
    )
    holds = live_holds([s.id for s in slots])
    cal = _calendar(f"{hub.name} · 春雷 Chunlei")
    stamp = datetime.now(UTC)
    where = f"{hub.name}, {hub.city}, {hub.province}"
    for slot in slots:
        studio = slot.studio.name or slot.studio.code
        booking = holds.get(slot.id)
        if slot.state == SlotState.BLOCKED:
            summary = f"{studio} · 已停用 blocked"
        elif booking is not None:
            summary = f"{studio} · {booking.participant.name} ({booking.status})"
        else:
            summary = f"{studio} · 空闲 open"
        cal.add_component(
            _event(f"{slot.code}@chunlei", slot.start, slot.end, summary, where, stamp)
        )
    return cal.to_ical()


def participant_feed(participant: Participant) -> bytes:
    """The participant's active sessions (tentative ones marked as such)."""
    bookings = db.session.scalars(
        select(Booking)
        .where(
            Booking.participant_id == participant.id,
            Booking.status.in_(ACTIVE_STATUSES),
        )
        .options(
            selectinload(Booking.slot_history)
            .selectinload(BookingSlot.slot)
            .selectinload(Slot.studio)
        )
    )
    cal = _calendar(f"{participant.name} · 春雷 Chunlei")
    stamp = datetime.now(UTC)
    for booking in bookings:
        slots = booking.current_slots
        if not slots:
            continue
        hub = slots[0].studio.hub
        studio = slots[0].studio.name or slots[0].studio.code
        mark = " (待确认 tentative)" if booking.status == BookingStatus.TENTATIVE else ""
        cal.add_component(
            _event(
                f"{booking.code}@chunlei",
                slots[0].start,
                slots[-1].end,
                f"直播 {hub.name} · {studio}{mark}",
                f"{hub.name}, {hub.city}, {hub.province}",
                stamp,
            )
        )
    return cal.to_ical()
