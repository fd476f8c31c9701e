"""The week grid: studios × days × start times, each cell one slot and what holds it.

Built in three queries (slots, live holds with their bookings and participants, block reasons)
so a base's whole week renders at once on the operator's screen.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.localtime import local_zone
from app.models import Booking, Hub, Slot, SlotHold, Studio, TimetableWeek
from app.models.vocabulary import SlotState
from app.services.programme.categories import HeldSlot, clashing_slots
from app.services.timetable.service import block_reasons


@dataclass
class Cell:
    """One slot as the grid shows it: state is open, blocked, tentative, confirmed or locked."""

    slot: Slot
    state: str
    booking: Booking | None = None
    reason: str = ""
    #: the category this slot's session shares with another seller's session at the same time
    clash: str = ""


@dataclass
class StudioGrid:
    """One studio's week: ``rows`` are (label, [Cell | None per day])."""

    studio: Studio
    rows: list[tuple[str, list[Cell | None]]] = field(default_factory=list)


@dataclass
class WeekGrid:
    """The whole base's week, plus counts per state for the legend."""

    week: TimetableWeek | None
    days: list[date]
    studios: list[StudioGrid]
    counts: Counter


def live_holds(slot_ids: list[int]) -> dict[int, Booking]:
    """Slot id → the active booking holding it."""
    if not slot_ids:
        return {}
    rows = db.session.execute(
        select(SlotHold.slot_id, Booking)
        .join(Booking, Booking.id == SlotHold.booking_id)
        .where(SlotHold.slot_id.in_(slot_ids))
        .options(selectinload(Booking.participant))
    )
    return dict(rows.tuples().all())


def build_week_grid(hub: Hub, week: TimetableWeek | None, week_start: date) -> WeekGrid:
    """Lay out every slot of ``week`` by studio, local start time and day."""
    tz = local_zone()
    days = [week_start + timedelta(days=i) for i in range(7)]
    slots: list[Slot] = []
    if week is not None:
        slots = list(
            db.session.scalars(
                select(Slot).where(Slot.timetable_week_id == week.id).order_by(Slot.start)
            )
        )
    holds = live_holds([s.id for s in slots])
    reasons = block_reasons(slots)
    counts: Counter = Counter()
    clashes = clashing_slots(
        [
            HeldSlot(s.id, b.participant.category, b.participant_id, s.start, s.end)
            for s in slots
            if (b := holds.get(s.id)) is not None
        ]
    )
    counts["clash"] = len(clashes)
    by_studio: dict[int, dict[tuple[str, int], Cell]] = {}
    for slot in slots:
        local = slot.start.astimezone(tz)
        booking = holds.get(slot.id)
        if slot.state == SlotState.BLOCKED:
            state = "blocked"
        elif booking is not None:
            state = booking.status
        else:
            state = "open"
        counts[state] += 1
        cell = Cell(
            slot=slot,
            state=state,
            booking=booking,
            reason=reasons.get(slot.code, ""),
            clash=clashes.get(slot.id, ""),
        )
        label = f"{local:%H:%M}–{slot.end.astimezone(tz):%H:%M}"
        by_studio.setdefault(slot.studio_id, {})[(label, (local.date() - week_start).days)] = cell
    studios = []
    for studio in hub.studios:
        cells = by_studio.get(studio.id, {})
        labels = sorted({label for label, _ in cells})
        grid = StudioGrid(studio=studio)
        for label in labels:
            grid.rows.append((label, [cells.get((label, d)) for d in range(7)]))
        studios.append(grid)
    return WeekGrid(week=week, days=days, studios=studios, counts=counts)
