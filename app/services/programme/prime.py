"""Prime-time history: how many prime-time sessions each participant had in the weeks before.

``prime_recent`` (exchange format) is a participant's prime-time sessions in the four weeks
before a week: sessions of an active booking holding at least one prime slot. A week imported
from a file keeps the file's values (``PrimeRecent``); otherwise it is counted from the four
planning weeks before, when the site has any of them, and is not known (None) when it has none.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from sqlalchemy import func, select

from app.extensions import AnySession
from app.models import (
    ACTIVE_STATUSES,
    Booking,
    BookingSlot,
    Participant,
    PlanningWeek,
    PrimeRecent,
    Slot,
)

#: How far back ``prime_recent`` looks.
WEEKS_BACK = 4


def prime_sessions_by_week(
    session: AnySession, first: date, before: date, participant_id: int | None = None
) -> dict[tuple[str, date], int]:
    """Prime-time sessions per (participant code, week start) of the planning weeks starting in
    ``first`` .. ``before`` (exclusive), optionally of one participant."""
    prime_bookings = (
        select(BookingSlot.booking_id)
        .join(Slot, Slot.id == BookingSlot.slot_id)
        .where(Slot.prime.is_(True), BookingSlot.released_at.is_(None))
    )
    query = (
        select(Participant.code, PlanningWeek.week_start, func.count(Booking.id))
        .join(Participant, Participant.id == Booking.participant_id)
        .join(PlanningWeek, PlanningWeek.id == Booking.planning_week_id)
        .where(PlanningWeek.week_start >= first, PlanningWeek.week_start < before)
        .where(Booking.status.in_(ACTIVE_STATUSES), Booking.id.in_(prime_bookings))
        .group_by(Participant.code, PlanningWeek.week_start)
    )
    if participant_id is not None:
        query = query.where(Booking.participant_id == participant_id)
    return {(code, start): n for code, start, n in session.execute(query)}


def prime_recent(session: AnySession, week: PlanningWeek) -> dict[str, int] | None:
    """Each participant's ``prime_recent`` for ``week`` (by code), or None when not known."""
    imported = (
        session.execute(
            select(Participant.code, PrimeRecent.sessions)
            .join(Participant, Participant.id == PrimeRecent.participant_id)
            .where(PrimeRecent.planning_week_id == week.id)
        )
        .tuples()
        .all()
    )
    if imported:
        return dict(imported)
    first = week.week_start - timedelta(weeks=WEEKS_BACK)
    history = session.scalar(
        select(func.count(PlanningWeek.id)).where(
            PlanningWeek.week_start >= first, PlanningWeek.week_start < week.week_start
        )
    )
    if not history:
        return None
    counts: Counter[str] = Counter()
    for (code, _), n in prime_sessions_by_week(session, first, week.week_start).items():
        counts[code] += n
    return {code: counts[code] for code in session.scalars(select(Participant.code))}
