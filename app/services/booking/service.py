"""The one booking service: pages, the API and the CLI all book and cancel through here.

A direct booking is confirmed at once. The hard rules are checked first (``booking_rules``),
but what guarantees "one booking per slot" is the database: ``slot_holds.slot_id`` is a
primary key, so of two transactions claiming one slot, exactly one commits and the other gets
an integrity error, which surfaces here as ``SlotTaken``. Every function commits its own
transaction, writes an audit event in it, and leaves the session clean when it refuses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import (
    Booking,
    BookingRequest,
    BookingSlot,
    Hub,
    Participant,
    PlanningWeek,
    Role,
    Slot,
    SlotHold,
    Studio,
    TimetableWeek,
    User,
    utcnow,
)
from app.models.vocabulary import BookingStatus, Origin, WeekState
from app.services.accounts import audit
from app.services.accounts.access import Forbidden, can_operate_hub, is_admin
from app.services.booking.rules import (
    Booker,
    BookingError,
    RuleBroken,
    SlotInfo,
    SlotTaken,
    WeekPolicy,
    check_bookable,
    check_participant_week,
    check_request_fit,
    check_shape,
    held_slot_codes,
)
from app.services.booking.slots import select_slots
from app.services.booking.write import insert_booking
from app.services.notify import messages as notify
from app.services.placement import trigger as placement
from app.services.timetable.weeks import planning_week_for
from config import settings

__all__ = [
    "BookingError",
    "RuleBroken",
    "SlotTaken",
    "InvalidState",
    "CutoffPassed",
    "book",
    "book_slots",
    "NewBooking",
    "cancel",
    "confirm",
    "lock",
    "unlock",
    "accept",
    "decline",
    "booking_span",
    "planning_week_for",
]


class InvalidState(BookingError):
    """The booking is not in a state this action applies to (409)."""

    status = 409
    code = "invalid_state"


class CutoffPassed(BookingError):
    """A participant may cancel only up to CANCEL_CUTOFF_HOURS before the start (422)."""

    status = 422
    code = "cancel_cutoff"


#: The slots a booking names, by code or id, with what the rules read of their studio, base and
#: week, their live hold and the planning week they count in: one query, built once.
_SLOTS = (
    select_slots(
        Slot.id,
        Slot.code,
        Slot.start,
        Slot.end,
        Slot.state,
        TimetableWeek.state.label("week_state"),
        TimetableWeek.week_start,
        Studio.id.label("studio_id"),
        Studio.code.label("studio_code"),
        Studio.features,
        Hub.id.label("hub_id"),
        Hub.code.label("hub_code"),
        Hub.lat.label("hub_lat"),
        Hub.lon.label("hub_lon"),
        SlotHold.booking_id.label("held_by"),
        PlanningWeek.id.label("policy_id"),
        PlanningWeek.max_sessions_per_day,
        PlanningWeek.same_day_same_base,
    )
    .outerjoin(PlanningWeek, PlanningWeek.week_start == TimetableWeek.week_start)
    .where(
        or_(
            Slot.code.in_(bindparam("codes", expanding=True)),
            Slot.id.in_(bindparam("ids", expanding=True)),
        )
    )
    # FOR SHARE OF slots: an operator blocking one of them (FOR UPDATE) waits for this
    # booking to commit or sees it first, so a slot is never both blocked and booked.
    .with_for_update(read=True, of=Slot)
)


def _load_slots(refs: Sequence[str | int]) -> tuple[list[SlotInfo], list[str], WeekPolicy | None]:
    """The slots by code or id, sorted by start; the codes of those already held; the planning
    week of the first slot (``None`` while that week has no planning week yet).

    Unknown references are a RuleBroken.
    """
    if not isinstance(refs, list | tuple) or not all(isinstance(r, str | int) for r in refs):
        raise RuleBroken("slots must be a list of slot ids", code="invalid")
    if len(set(refs)) != len(refs):
        raise RuleBroken("a slot is listed twice", code="not_consecutive")
    if not refs:
        return [], [], None  # check_shape names the rule
    params = {
        "codes": [r for r in refs if isinstance(r, str)],
        "ids": [r for r in refs if isinstance(r, int)],
    }
    rows = sorted(db.session.connection().execute(_SLOTS, params).all(), key=lambda r: r.start)
    found = [
        SlotInfo(
            id=r.id,
            code=r.code,
            start=r.start,
            end=r.end,
            state=r.state,
            published=r.week_state == WeekState.PUBLISHED,
            week_start=r.week_start,
            studio_id=r.studio_id,
            studio_code=r.studio_code,
            features=tuple(r.features or ()),
            hub_id=r.hub_id,
            hub_code=r.hub_code,
            hub_lat=r.hub_lat,
            hub_lon=r.hub_lon,
        )  # fmt: skip
        for r in rows
    ]
    known = {s.code for s in found} | {s.id for s in found}
    missing = [r for r in refs if r not in known]
    if missing:
        raise RuleBroken(
            f"unknown slot(s): {', '.join(map(str, missing))}",
            code="unknown_slot",
            detail={"slots": missing},
        )
    held = [r.code for r in rows if r.held_by is not None]
    first = rows[0]
    week = None
    if first.policy_id is not None:
        week = WeekPolicy(first.policy_id, first.max_sessions_per_day, first.same_day_same_base)
    return found, held, week


#: The participant a booking is for, locked until the transaction ends (built once).
_LOCK_PARTICIPANT = (
    select(Participant.id, Participant.code, Participant.lat, Participant.lon)
    .where(Participant.id == bindparam("id"))
    .with_for_update()
)


def _booker(actor: User, participant: Participant | None) -> tuple[Booker, str]:
    """Who the booking is for, and its origin; participants book only for themselves.

    The participant's row is locked (SELECT ... FOR UPDATE) until the transaction ends, which
    serialises one participant's bookings so the daily cap cannot be raced past.
    """
    if actor.role == Role.PARTICIPANT:
        if participant is not None and participant.id != actor.participant_id:
            raise Forbidden("participants book only for themselves", code="role_cannot_book")
        wanted = actor.participant_id
        origin = Origin.PARTICIPANT
    elif participant is None:
        raise Forbidden(
            "only participants book slots; staff must name the participant",
            code="role_cannot_book",
        )
    else:
        wanted, origin = participant.id, Origin.OPERATOR
    row = (
        db.session.connection().execute(_LOCK_PARTICIPANT, {"id": wanted}).first()
        if wanted
        else None
    )
    if row is None:
        raise Forbidden("this account has no participant", code="role_cannot_book")
    return Booker(*row), origin


@dataclass(frozen=True, slots=True)
class NewBooking:
    """A booking just made, as the booking service knows it without reading it back."""

    id: int
    code: str
    status: str
    origin: str
    participant_code: str
    request_code: str | None
    slots: tuple[SlotInfo, ...]
    created_at: datetime


def book(
    actor: User,
    slots: Sequence[str | int],
    *,
    participant: Participant | None = None,
    request: BookingRequest | None = None,
    now: datetime | None = None,
) -> NewBooking:
    """Book consecutive ``slots`` (codes or ids) directly; the booking is confirmed at once.

    Raises ``Forbidden`` (wrong role or base), ``RuleBroken`` (which rule, in ``code``) or
    ``SlotTaken``. Staff may book for a ``participant`` at a base they operate. Commits.
    """
    now = now or utcnow()
    max_slots = settings().MAX_SLOTS_PER_BOOKING
    chosen_ids: list[int] = []
    try:
        who, origin = _booker(actor, participant)
        chosen, taken, week = _load_slots(slots)
        chosen_ids = [s.id for s in chosen]
        check_shape(chosen, max_slots)
        first = chosen[0]
        if origin == Origin.OPERATOR and not can_operate_hub(actor, first.hub_id):
            raise Forbidden(f"you do not operate base {first.hub_code}", code="other_base")
        check_bookable(chosen, now)
        if taken:
            raise SlotTaken(f"slot(s) already taken: {', '.join(taken)}", detail={"slots": taken})
        if request is not None:
            check_request_fit(request, who, chosen)
            week = request.planning_week
        elif week is None:
            week = planning_week_for(first.week_start)
        check_participant_week(who.id, chosen, week)
        booking_id, code = insert_booking(who, origin, actor, request, week, chosen, now)
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        taken = held_slot_codes(chosen_ids)
        if taken:
            raise SlotTaken(
                f"slot(s) already taken: {', '.join(taken)}", detail={"slots": taken}
            ) from exc
        raise
    except Exception:
        db.session.rollback()
        raise
    return NewBooking(
        id=booking_id,
        code=code,
        status=BookingStatus.CONFIRMED,
        origin=origin,
        participant_code=who.code,
        request_code=request.code if request is not None else None,
        slots=tuple(chosen),
        created_at=now,
    )


def book_slots(
    actor: User,
    slots: Sequence[str | int],
    *,
    participant: Participant | None = None,
    request: BookingRequest | None = None,
    now: datetime | None = None,
) -> Booking:
    """``book``, returning the stored booking (for pages and commands that go on using it)."""
    made = book(actor, slots, participant=participant, request=request, now=now)
    return db.session.get(Booking, made.id)


#: What callers read from a booking (slots, base, participant, request), in one query.
BOOKING_LOAD = (
    joinedload(Booking.slot_history)
    .joinedload(BookingSlot.slot)
    .joinedload(Slot.studio)
    .joinedload(Studio.hub),
    joinedload(Booking.participant),
    joinedload(Booking.request),
)


def booking_span(booking: Booking) -> tuple[datetime, datetime] | None:
    """Start and end of the slots the booking holds (or last held, if cancelled)."""
    slots = booking.current_slots
    if not slots:
        return None
    return min(s.start for s in slots), max(s.end for s in slots)


def _booking_hub_id(booking: Booking) -> int | None:
    slots = booking.current_slots
    return slots[0].studio.hub_id if slots else None


def _require_staff(actor: User, booking: Booking) -> None:
    """Operators act only on bookings at their bases; admins everywhere."""
    if is_admin(actor):
        return
    hub_id = _booking_hub_id(booking)
    if actor.role != Role.OPERATOR or hub_id is None or not can_operate_hub(actor, hub_id):
        raise Forbidden("only the base's operators may do this", code="forbidden")


def _require_owner(actor: User, booking: Booking) -> None:
    if actor.role != Role.PARTICIPANT or actor.participant_id != booking.participant_id:
        raise Forbidden("only the booking's participant may do this", code="forbidden")


def _release(booking: Booking, now: datetime) -> None:
    """Free the booking's slots: delete its holds, close its slot history rows."""
    db.session.execute(delete(SlotHold).where(SlotHold.booking_id == booking.id))
    db.session.execute(
        update(BookingSlot)
        .where(BookingSlot.booking_id == booking.id, BookingSlot.released_at.is_(None))
        .values(released_at=now)
    )


def _finish(action: str, actor: User, booking: Booking, now: datetime, **detail) -> Booking:
    booking.updated_at = now
    audit.record(action, actor=actor, booking=booking, **detail)
    db.session.commit()
    db.session.refresh(booking)
    return booking


def cancel(
    actor: User, booking: Booking, *, reason: str | None = None, now: datetime | None = None
) -> Booking:
    """Cancel an active booking and free its slots.

    The participant may cancel a tentative or confirmed booking up to CANCEL_CUTOFF_HOURS
    before it starts; the base's operators (and admins) may cancel any active booking, with a
    reason, and the participant is notified.
    """
    now = now or utcnow()
    reason = (reason or "").strip() or None
    if not booking.is_active:
        raise InvalidState(f"booking {booking.code} is already {booking.status}")
    by_staff = actor.role != Role.PARTICIPANT
    if by_staff:
        _require_staff(actor, booking)
        if reason is None:
            raise RuleBroken("a reason is required to cancel someone's booking", code="reason")
    else:
        _require_owner(actor, booking)
        if booking.status == BookingStatus.LOCKED:
            raise InvalidState(f"booking {booking.code} is locked by the base", code="locked")
        span = booking_span(booking)
        cutoff = timedelta(hours=settings().CANCEL_CUTOFF_HOURS)
        if span is not None and now > span[0] - cutoff:
            raise CutoffPassed(
                f"bookings can be cancelled up to {cutoff.total_seconds() / 3600:g} h before start",
                detail={"cutoff_hours": cutoff.total_seconds() / 3600},
            )
    previous = booking.status
    freed = {s.studio.hub_id for s in booking.current_slots}
    booking.status = BookingStatus.CANCELLED
    booking.cancelled_at = now
    _release(booking, now)
    if by_staff:
        notify.booking_event("booking_cancelled", booking, reason=reason)
    done = _finish("booking.cancel", actor, booking, now, reason=reason, previous=previous)
    placement.capacity_freed(done.planning_week_id, freed)
    return done


def _transition(
    action: str,
    actor: User,
    booking: Booking,
    allowed: tuple[BookingStatus, ...],
    to: BookingStatus,
    now,
) -> Booking:
    if booking.status not in allowed:
        raise InvalidState(f"booking {booking.code} is {booking.status}, cannot {action}")
    previous = booking.status
    booking.status = to
    return _finish(f"booking.{action}", actor, booking, now or utcnow(), previous=previous)


def confirm(actor: User, booking: Booking, *, now: datetime | None = None) -> Booking:
    """An operator confirms a tentative booking at their base."""
    _require_staff(actor, booking)
    result = _transition(
        "confirm", actor, booking, (BookingStatus.TENTATIVE,), BookingStatus.CONFIRMED, now
    )
    notify.booking_event("booking_confirmed", result)
    db.session.commit()
    return result


def lock(actor: User, booking: Booking, *, now: datetime | None = None) -> Booking:
    """An operator pins a booking so the optimizer never moves it."""
    _require_staff(actor, booking)
    return _transition(
        "lock",
        actor,
        booking,
        (BookingStatus.TENTATIVE, BookingStatus.CONFIRMED),
        BookingStatus.LOCKED,
        now,
    )


def unlock(actor: User, booking: Booking, *, now: datetime | None = None) -> Booking:
    """An operator releases the pin; the booking stays confirmed."""
    _require_staff(actor, booking)
    return _transition(
        "unlock", actor, booking, (BookingStatus.LOCKED,), BookingStatus.CONFIRMED, now
    )


def accept(actor: User, booking: Booking, *, now: datetime | None = None) -> Booking:
    """The participant accepts a tentative session the optimizer proposed."""
    _require_owner(actor, booking)
    return _transition(
        "accept", actor, booking, (BookingStatus.TENTATIVE,), BookingStatus.CONFIRMED, now
    )


def decline(actor: User, booking: Booking, *, now: datetime | None = None) -> Booking:
    """The participant declines a tentative session; its slots become free again."""
    _require_owner(actor, booking)
    if booking.status != BookingStatus.TENTATIVE:
        raise InvalidState(f"booking {booking.code} is {booking.status}, cannot decline")
    now = now or utcnow()
    freed = {s.studio.hub_id for s in booking.current_slots}
    booking.status = BookingStatus.CANCELLED
    booking.cancelled_at = now
    _release(booking, now)
    done = _finish("booking.decline", actor, booking, now, previous=BookingStatus.TENTATIVE)
    placement.capacity_freed(done.planning_week_id, freed)
    return done
