"""The hard rules a direct booking must obey, as small named checks (spec rules 1, 5, 6).

Each ``check_*`` raises ``RuleBroken`` with a stable ``code`` naming the rule it enforces, so
pages can translate it and the API can report which rule a booking breaks. They read the
database but never write; ``app.services.booking.service`` calls them before it claims the slots.

The checks take ``SlotInfo`` values (a slot with what the rules read of its studio, base and
week), which the booking service reads in one plain query: booking is the hot path, and ORM
entities with their relationships cost more than the rules themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import bindparam, func, select

from app.extensions import db
from app.localtime import local_day
from app.models import (
    ACTIVE_STATUSES,
    Booking,
    BookingRequest,
    BookingSlot,
    Participant,
    PlanningWeek,
    Slot,
    SlotHold,
    Studio,
)
from app.models.vocabulary import RequestStatus, SlotState
from app.services.errors import ServiceError
from scheduler.domain import day_refusal, haversine_km


class BookingError(ServiceError):
    """A booking action refused; ``status`` is the HTTP answer, ``code`` a stable name."""

    status = 422
    code = "invalid"


class RuleBroken(BookingError):
    """The slots or the participant's week break a hard rule (422)."""

    status = 422


class SlotTaken(BookingError):
    """Another booking holds one of the slots (409); ``detail["slots"]`` names them."""

    status = 409
    code = "slot_taken"


@dataclass(frozen=True, slots=True)
class SlotInfo:
    """One slot as the rules read it: the slot, its studio and base, its week's state."""

    id: int
    code: str
    start: datetime
    end: datetime
    state: str
    published: bool
    week_start: date
    studio_id: int
    studio_code: str
    features: tuple[str, ...]
    hub_id: int
    hub_code: str
    hub_lat: float
    hub_lon: float
    #: the studio is retired: its slots are never booked again (kept bookings stay as they are)
    studio_retired: bool = False


@dataclass(frozen=True, slots=True)
class Booker:
    """The participant a booking is for, as the rules read them."""

    id: int
    code: str
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class WeekPolicy:
    """The planning week a booking counts in, and the part of its policy rule 6 reads."""

    id: int
    max_sessions_per_day: int | None
    same_day_same_base: bool


@dataclass(frozen=True)
class Session:
    """One active session of a participant: its booking, base and time span."""

    booking_id: int
    hub_id: int
    start: datetime
    end: datetime


def check_shape(slots: Sequence[SlotInfo], max_slots: int) -> None:
    """Rule 1: one studio, consecutive in time, between 1 and ``max_slots`` slots."""
    if not slots:
        raise RuleBroken("a booking needs at least one slot", code="wrong_length")
    if len(slots) > max_slots:
        raise RuleBroken(
            f"a booking may hold at most {max_slots} consecutive slots, got {len(slots)}",
            code="wrong_length",
            detail={"max": max_slots, "got": len(slots)},
        )
    if len({s.studio_id for s in slots}) > 1:
        raise RuleBroken("all slots of a booking must be in one studio", code="not_consecutive")
    for first, second in zip(slots, slots[1:], strict=False):
        if first.end != second.start:
            raise RuleBroken(
                f"slots {first.code} and {second.code} are not consecutive",
                code="not_consecutive",
                detail={"slots": [first.code, second.code]},
            )


def check_bookable(slots: Sequence[SlotInfo], now: datetime) -> None:
    """Only open slots of a published week, of a studio still in service, that have not started
    yet can be booked."""
    for slot in slots:
        if not slot.published:
            raise RuleBroken(
                f"slot {slot.code} is not published",
                code="not_published",
                detail={"slot": slot.code},
            )
        if slot.studio_retired:
            raise RuleBroken(
                f"slot {slot.code} is in a retired studio",
                code="studio_retired",
                detail={"slot": slot.code},
            )
        if slot.state != SlotState.OPEN:
            raise RuleBroken(
                f"slot {slot.code} is blocked", code="slot_blocked", detail={"slot": slot.code}
            )
        if slot.start <= now:
            raise RuleBroken(
                f"slot {slot.code} has already started", code="in_past", detail={"slot": slot.code}
            )


def check_request_fit(
    req: BookingRequest, participant: Booker | Participant, slots: Sequence[SlotInfo]
) -> None:
    """Rules 3–5 for a booking made against a request: length, window, base, distance, needs."""
    if req.participant_id != participant.id:
        raise RuleBroken(f"request {req.code} belongs to another participant", code="request")
    if req.status != RequestStatus.OPEN:
        raise RuleBroken(f"request {req.code} is {req.status}", code="request_closed")
    if len(slots) != req.length:
        raise RuleBroken(
            f"request {req.code} asks for {req.length} consecutive slot(s), got {len(slots)}",
            code="wrong_length",
            detail={"expected": req.length, "got": len(slots)},
        )
    if slots[0].start < req.window_start or slots[-1].end > req.window_end:
        raise RuleBroken(f"the slots lie outside request {req.code}'s window", code="window")
    first = slots[0]
    if not req.any_base and all(h.id != first.hub_id for h in req.allowed_hubs):
        raise RuleBroken(f"base {first.hub_code} is not allowed by request {req.code}", code="base")
    if req.max_km is not None:
        km = haversine_km(participant.lat, participant.lon, first.hub_lat, first.hub_lon)
        if km > req.max_km:
            raise RuleBroken(
                f"base {first.hub_code} is {km:.0f} km away, request {req.code} allows "
                f"{req.max_km:g}",
                code="max_km",
            )
    missing = sorted(set(req.needs or []) - set(first.features))
    if missing:
        raise RuleBroken(
            f"studio {first.studio_code} lacks {', '.join(missing)}",
            code="needs",
            detail={"missing": missing},
        )
    served = db.session.scalar(
        select(func.count(Booking.id)).where(
            Booking.request_id == req.id, Booking.status.in_(ACTIVE_STATUSES)
        )
    )
    if (served or 0) >= req.sessions:
        raise RuleBroken(
            f"request {req.code} already has its {req.sessions} session(s)", code="request_full"
        )


#: A participant's live sessions: one row per booking (built once; its cache key is memoized).
_ACTIVE_SESSIONS = (
    select(SlotHold.booking_id, Studio.hub_id, func.min(Slot.start), func.max(Slot.end))
    .join(Booking, Booking.id == SlotHold.booking_id)
    .join(Slot, Slot.id == SlotHold.slot_id)
    .join(Studio, Studio.id == Slot.studio_id)
    .where(
        Booking.participant_id == bindparam("participant_id"),
        Booking.status.in_(ACTIVE_STATUSES),
    )
    .group_by(SlotHold.booking_id, Studio.hub_id)
)


def active_sessions(participant_id: int) -> list[Session]:
    """The participant's active sessions (from live slot holds), one per booking."""
    rows = db.session.connection().execute(_ACTIVE_SESSIONS, {"participant_id": participant_id})
    return [Session(b, h, _aware(s), _aware(e)) for b, h, s, e in rows]


def _aware(value: datetime) -> datetime:
    """Aggregates bypass the column type on SQLite; tag naive UTC values again."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


_A_DAY = timedelta(days=1)


def participant_week_refusal(
    sessions: Sequence[Session],
    start: datetime,
    end: datetime,
    hub_id: int,
    policy: PlanningWeek | WeekPolicy,
    *,
    ignore_booking_id: int | None = None,
) -> tuple[str, Session | None] | None:
    """Rule 6 for one more session ``start``..``end`` at ``hub_id``, given the participant's
    active ``sessions`` (tentative proposals count: they hold their slots until answered).

    ``("overlap", the session it overlaps)``, ``("daily_cap", None)``,
    ``("same_day_same_base", None)`` or None. The booking service and the slot search both ask
    this, so search never offers what booking would refuse.
    """
    day = None
    same_day = []
    for s in sessions:
        if s.booking_id == ignore_booking_id:
            continue
        if s.start < end and start < s.end:
            return "overlap", s
        if abs(s.start - start) < _A_DAY:  # only then can both start on one local day
            day = day or local_day(start)
            if local_day(s.start) == day:
                same_day.append(s)
    refusal = day_refusal(policy, len(same_day), [s.hub_id for s in same_day], hub_id)
    return (refusal, None) if refusal is not None else None


def check_participant_week(
    participant_id: int,
    slots: Sequence[SlotInfo],
    policy: PlanningWeek | WeekPolicy,
    *,
    ignore_booking_id: int | None = None,
) -> None:
    """Rule 6: no overlap, at most ``max_sessions_per_day`` a day, one base a day."""
    start, end = slots[0].start, slots[-1].end
    refusal = participant_week_refusal(
        active_sessions(participant_id),
        start,
        end,
        slots[0].hub_id,
        policy,
        ignore_booking_id=ignore_booking_id,
    )
    if refusal is None:
        return
    code, other = refusal
    day = local_day(start)
    if code == "overlap" and other is not None:
        raise RuleBroken(
            "the participant already has a session at that time",
            code="overlap",
            detail={"booking": _code(other.booking_id)},
        )
    if code == "daily_cap":
        raise RuleBroken(
            f"at most {policy.max_sessions_per_day} session(s) per day ({day.isoformat()})",
            code="daily_cap",
            detail={"day": day.isoformat(), "max": policy.max_sessions_per_day},
        )
    raise RuleBroken(
        f"all sessions of {day.isoformat()} must be at one base",
        code="same_day_same_base",
        detail={"day": day.isoformat()},
    )


def _code(booking_id: int) -> str | None:
    return db.session.scalar(select(Booking.code).where(Booking.id == booking_id))


def taken_error(slot_ids: Sequence[int], participant_id: int) -> SlotTaken | None:
    """Why slots are not free, or None when none is held: ``already_yours`` when the
    participant's own booking holds one (booked a moment ago, say from a second tab), with that
    booking in ``detail``; else ``slot_taken``, naming the slots."""
    rows = db.session.execute(
        select(Slot.code, Booking.code, Booking.participant_id)
        .join(SlotHold, SlotHold.slot_id == Slot.id)
        .join(Booking, Booking.id == SlotHold.booking_id)
        .where(Slot.id.in_(slot_ids))
        .order_by(Slot.start)
    ).all()
    if not rows:
        return None
    codes = [slot for slot, _booking, _who in rows]
    mine = [booking for _slot, booking, who in rows if who == participant_id]
    if mine:
        return SlotTaken(
            f"booking {mine[0]} of this participant already holds slot(s) {', '.join(codes)}",
            code="already_yours",
            detail={"slots": codes, "booking": mine[0]},
        )
    return SlotTaken(f"slot(s) already taken: {', '.join(codes)}", detail={"slots": codes})


def current_slot_rows(booking_id: int) -> list[BookingSlot]:
    """The booking's unreleased slot rows, in position order."""
    return list(
        db.session.scalars(
            select(BookingSlot)
            .where(BookingSlot.booking_id == booking_id, BookingSlot.released_at.is_(None))
            .order_by(BookingSlot.position)
        )
    )
