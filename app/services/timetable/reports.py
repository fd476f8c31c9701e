"""A base's week in figures (dashboard) and its bookings as CSV and ``.xlsx``.

Utilization counts slots held by an active booking over the slots not blocked; sessions are
bookings. Everything is computed from the database in a few queries so the dashboard stays
quick on a phone.
"""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import case, distinct, func, select
from sqlalchemy.orm import selectinload
from sqlalchemy.sql.elements import ColumnElement

from app.extensions import db
from app.localtime import local_zone
from app.models import (
    Booking,
    BookingSlot,
    Hub,
    Participant,
    Slot,
    SlotHold,
    Studio,
    TimetableWeek,
)
from app.models.vocabulary import BookingStatus, SlotState
from app.services.spreadsheet import csv_writer
from app.services.spreadsheet.workbook import write_workbook
from app.services.timetable.grid import live_holds


@dataclass
class Ratio:
    """``used`` of ``total``; ``share`` is 0 when there is nothing to use."""

    used: int = 0
    total: int = 0

    @property
    def share(self) -> float:
        return self.used / self.total if self.total else 0.0


@dataclass
class WeekFigures:
    """What the dashboard shows for one base and week."""

    week_start: date
    slots: int = 0
    blocked: int = 0
    held: int = 0
    by_status: Counter = field(default_factory=Counter)
    by_studio: dict[str, Ratio] = field(default_factory=dict)
    by_day: dict[date, Ratio] = field(default_factory=dict)
    by_kind: Counter = field(default_factory=Counter)
    by_region: Counter = field(default_factory=Counter)
    prime: Ratio = field(default_factory=Ratio)
    prime_sessions: int = 0
    sessions: int = 0

    @property
    def utilization(self) -> float:
        """Held slots over bookable (not blocked) slots."""
        bookable = self.slots - self.blocked
        return self.held / bookable if bookable else 0.0

    @property
    def prime_share(self) -> float:
        """Share of this week's sessions that start in prime time."""
        return self.prime_sessions / self.sessions if self.sessions else 0.0


def week_slots(hub: Hub, week_start: date) -> list[Slot]:
    """All slots of the base's week (any state), in time order."""
    return list(
        db.session.scalars(
            select(Slot)
            .join(TimetableWeek, TimetableWeek.id == Slot.timetable_week_id)
            .where(TimetableWeek.hub_id == hub.id, TimetableWeek.week_start == week_start)
            .order_by(Slot.start)
        )
    )


def week_figures(hub: Hub, week_start: date) -> WeekFigures:
    """Utilization per studio and day, sessions by kind and region, prime-time share."""
    tz = local_zone()
    figures = WeekFigures(week_start=week_start)
    studio_codes = {s.id: s.name or s.code for s in hub.studios}
    for studio in hub.studios:
        figures.by_studio[studio.name or studio.code] = Ratio()
    for i in range(7):
        figures.by_day[week_start + timedelta(days=i)] = Ratio()
    slots = week_slots(hub, week_start)
    holds = live_holds([s.id for s in slots])
    bookings: dict[int, Booking] = {}
    first_slot: dict[int, Slot] = {}
    for slot in slots:
        figures.slots += 1
        if slot.state == SlotState.BLOCKED:
            figures.blocked += 1
            continue
        held = slot.id in holds
        day = slot.start.astimezone(tz).date()
        for ratio in (
            figures.by_studio[studio_codes[slot.studio_id]],
            figures.by_day.setdefault(day, Ratio()),
        ):
            ratio.total += 1
            ratio.used += held
        if slot.prime:
            figures.prime.total += 1
            figures.prime.used += held
        if held:
            figures.held += 1
            booking = holds[slot.id]
            bookings[booking.id] = booking
            if booking.id not in first_slot or slot.start < first_slot[booking.id].start:
                first_slot[booking.id] = slot
    for booking in bookings.values():
        figures.sessions += 1
        figures.by_status[booking.status] += 1
        figures.by_kind[booking.participant.kind] += 1
        figures.by_region[booking.participant.region] += 1
        figures.prime_sessions += first_slot[booking.id].prime
    return figures


def week_bookings(hub: Hub, week_start: date, *, include_cancelled: bool = True) -> list[Booking]:
    """Bookings whose slots (now or last) lie in the base's week, earliest first."""
    ids = select(BookingSlot.booking_id).join(Slot, Slot.id == BookingSlot.slot_id)
    ids = ids.join(TimetableWeek, TimetableWeek.id == Slot.timetable_week_id).where(
        TimetableWeek.hub_id == hub.id, TimetableWeek.week_start == week_start
    )
    stmt = (
        select(Booking)
        .where(Booking.id.in_(ids))
        .options(
            selectinload(Booking.participant),
            selectinload(Booking.slot_history).selectinload(BookingSlot.slot),
        )
    )
    if not include_cancelled:
        stmt = stmt.where(Booking.status != BookingStatus.CANCELLED)
    rows = list(db.session.scalars(stmt))

    def start_of(b: Booking):
        slots = b.current_slots
        return (slots[0].start if slots else b.created_at, b.id)

    return sorted(rows, key=start_of)


CSV_COLUMNS = (
    "booking",
    "status",
    "origin",
    "participant",
    "participant_name",
    "kind",
    "region",
    "studio",
    "slots",
    "start",
    "end",
    "prime",
)


def booking_rows(hub: Hub, week_start: date) -> list[list]:
    """The week's bookings at the base, one row of ``CSV_COLUMNS`` each (start and end as
    aware local times), cancelled ones included: what both exports write."""
    tz = local_zone()
    studios = {
        s.id: s.code for s in db.session.scalars(select(Studio).where(Studio.hub_id == hub.id))
    }
    rows = []
    for booking in week_bookings(hub, week_start):
        slots = booking.current_slots
        if not slots:
            continue
        rows.append(
            [
                booking.code,
                booking.status,
                booking.origin,
                booking.participant.code,
                booking.participant.name,
                booking.participant.kind,
                booking.participant.region,
                studios.get(slots[0].studio_id, ""),
                " ".join(s.code for s in slots),
                slots[0].start.astimezone(tz),
                slots[-1].end.astimezone(tz),
                "yes" if slots[0].prime else "no",
            ]
        )
    return rows


def bookings_csv(hub: Hub, week_start: date) -> str:
    """The week's bookings at the base as CSV (UTF-8 with BOM so Excel reads the Chinese)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv_writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in booking_rows(hub, week_start):
        writer.writerow([v.isoformat() if isinstance(v, datetime) else v for v in row])
    return out.getvalue()


def bookings_xlsx(hub: Hub, week_start: date) -> bytes:
    """The same rows as an ``.xlsx`` workbook: real date-times (local wall time), a frozen
    header, and no cell a spreadsheet would run as a formula."""
    return write_workbook(f"{hub.code} {week_start}", CSV_COLUMNS, booking_rows(hub, week_start))


@dataclass
class BaseRow:
    """One base's week in the overview table."""

    code: str
    name: str
    city: str
    region: str
    state: str | None
    slots: int = 0
    blocked: int = 0
    held: int = 0
    sessions: int = 0

    @property
    def utilization(self) -> float:
        bookable = self.slots - self.blocked
        return self.held / bookable if bookable else 0.0


def overview(hub_ids: set[int] | None, week_start: date) -> tuple[list[BaseRow], Counter]:
    """Every visible base's week (slots, blocked, held, sessions) and sessions per region of the
    participants, in four grouped queries whatever the number of bases."""
    hubs = select(Hub).order_by(Hub.code)
    if hub_ids is not None:
        hubs = hubs.where(Hub.id.in_(hub_ids or [-1]))
    rows = {h.id: BaseRow(h.code, h.name, h.city, h.region, None) for h in db.session.scalars(hubs)}
    if not rows:
        return [], Counter()
    # Every base (an admin's view) needs no list of 1,100 ids in each query.
    in_week: tuple[ColumnElement[bool], ...] = (TimetableWeek.week_start == week_start,)
    if hub_ids is not None:
        in_week += (TimetableWeek.hub_id.in_(rows),)
    for hub_id, state in db.session.execute(
        select(TimetableWeek.hub_id, TimetableWeek.state).where(*in_week)
    ):
        rows[hub_id].state = state
    counts = (
        select(
            TimetableWeek.hub_id,
            func.count(Slot.id),
            func.count(case((Slot.state == SlotState.BLOCKED, 1))),
            func.count(SlotHold.slot_id),
            func.count(distinct(SlotHold.booking_id)),
        )
        .join(Slot, Slot.timetable_week_id == TimetableWeek.id)
        .outerjoin(SlotHold, SlotHold.slot_id == Slot.id)
        .where(*in_week)
        .group_by(TimetableWeek.hub_id)
    )
    for hub_id, slots, blocked, held, sessions in db.session.execute(counts):
        row = rows[hub_id]
        row.slots, row.blocked, row.held, row.sessions = slots, blocked, held, sessions
    held_here = (
        select(SlotHold.booking_id)
        .join(Slot, Slot.id == SlotHold.slot_id)
        .join(TimetableWeek, TimetableWeek.id == Slot.timetable_week_id)
        .where(*in_week)
    )
    regions = Counter(
        dict(
            db.session.execute(
                select(Participant.region, func.count(distinct(Booking.id)))
                .join(Booking, Booking.participant_id == Participant.id)
                .where(Booking.id.in_(held_here))
                .group_by(Participant.region)
            )
            .tuples()
            .all()
        )
    )
    return list(rows.values()), regions
