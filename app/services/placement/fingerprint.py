"""A placement's fingerprint: what its neighbourhood depends on, read once and again under locks.

Two readings make it: the area's slots (state and hold) and the involved participants' active
bookings this week. ``neighbourhood.build`` computes it from the very rows its instance was built
from; ``apply`` reads it again under its locks and refuses a neighbourhood that changed meanwhile.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from app.extensions import AnySession
from app.models import ACTIVE_STATUSES, Booking, BookingSlot, Slot, SlotHold


def area_rows(session: AnySession, slot_ids: list[int], *, lock: bool = False) -> list[tuple]:
    """(slot id, state, holding booking) of the area's slots; ``lock`` takes them FOR SHARE, so
    an operator cannot block one while a placement writes (as a direct booking does)."""
    if not slot_ids:
        return []
    stmt = (
        select(Slot.id, Slot.state, SlotHold.booking_id)
        .outerjoin(SlotHold, SlotHold.slot_id == Slot.id)
        .where(Slot.id.in_(slot_ids))
    )
    if lock:
        stmt = stmt.with_for_update(read=True, of=Slot)
    return sorted(tuple(r) for r in session.execute(stmt))


def participant_rows(session: AnySession, week_id: int, participant_ids: list[int]) -> list[tuple]:
    """(booking id, status, slot id, position) of the participants' active bookings this week."""
    if not participant_ids:
        return []
    rows = session.execute(
        select(Booking.id, Booking.status, BookingSlot.slot_id, BookingSlot.position)
        .join(BookingSlot, BookingSlot.booking_id == Booking.id)
        .where(Booking.planning_week_id == week_id, Booking.status.in_(ACTIVE_STATUSES))
        .where(Booking.participant_id.in_(participant_ids), BookingSlot.released_at.is_(None))
    )
    return sorted(tuple(r) for r in rows)


def digest_of(area: list[tuple], people: list[tuple]) -> str:
    """The neighbourhood's fingerprint: equal means nothing it depends on changed."""
    h = hashlib.sha256()
    for row in area:
        h.update(f"a|{row[0]}|{row[1]}|{row[2]}\n".encode())
    for row in people:
        h.update(f"p|{row[0]}|{row[1]}|{row[2]}|{row[3]}\n".encode())
    return h.hexdigest()
