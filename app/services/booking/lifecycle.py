"""A booking's life after it is made: cancel, confirm, lock, unlock, accept and decline.

Who may do what: the participant cancels (up to CANCEL_CUTOFF_HOURS before the start), accepts or
declines their own booking; the base's operators (and admins) confirm, lock, unlock and cancel,
with a reason. Every function commits its own transaction with an audit event in it; freeing
slots asks the placement to refill the capacity once that transaction has committed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Booking, BookingSlot, Role, Slot, SlotHold, Studio, User, utcnow
from app.models.vocabulary import BookingStatus
from app.services.accounts import audit
from app.services.accounts.access import Forbidden, can_operate_hub, is_admin
from app.services.booking.rules import BookingError, RuleBroken
from app.services.notify import messages as notify
from app.services.placement import trigger as placement
from app.services.webhooks import payloads as webhooks
from app.services.webhooks.events import BOOKING_CANCELLED, BOOKING_CONFIRMED
from config import settings


class InvalidState(BookingError):
    """The booking is not in a state this action applies to (409)."""

    status = 409
    code = "invalid_state"


class CutoffPassed(BookingError):
    """A participant may cancel only up to CANCEL_CUTOFF_HOURS before the start (422)."""

    status = 422
    code = "cancel_cutoff"


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


def require_staff(actor: User, booking: Booking) -> None:
    """Operators act only on bookings at their bases; admins everywhere."""
    if is_admin(actor):
        return
    hub_id = _booking_hub_id(booking)
    if actor.role != Role.OPERATOR or hub_id is None or not can_operate_hub(actor, hub_id):
        raise Forbidden("only the base's operators may do this", code="forbidden")


def _require_owner(actor: User, booking: Booking) -> None:
    if actor.role != Role.PARTICIPANT or actor.participant_id != booking.participant_id:
        raise Forbidden("only the booking's participant may do this", code="forbidden")


def release_slots(booking: Booking, now: datetime) -> None:
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
        require_staff(actor, booking)
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
    release_slots(booking, now)
    if by_staff:
        notify.booking_event("booking_cancelled", booking, reason=reason)
    webhooks.booking_event(BOOKING_CANCELLED, booking, reason=reason, by=str(actor.role))
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
    if previous == BookingStatus.TENTATIVE and to == BookingStatus.CONFIRMED:
        webhooks.booking_event(BOOKING_CONFIRMED, booking, by=str(actor.role))
    return _finish(f"booking.{action}", actor, booking, now or utcnow(), previous=previous)


def confirm(actor: User, booking: Booking, *, now: datetime | None = None) -> Booking:
    """An operator confirms a tentative booking at their base."""
    require_staff(actor, booking)
    result = _transition(
        "confirm", actor, booking, (BookingStatus.TENTATIVE,), BookingStatus.CONFIRMED, now
    )
    notify.booking_event("booking_confirmed", result)
    db.session.commit()
    return result


def lock(actor: User, booking: Booking, *, now: datetime | None = None) -> Booking:
    """An operator pins a booking so the optimizer never moves it."""
    require_staff(actor, booking)
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
    require_staff(actor, booking)
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
    release_slots(booking, now)
    webhooks.booking_event(BOOKING_CANCELLED, booking, by=str(actor.role), declined=True)
    done = _finish("booking.decline", actor, booking, now, previous=BookingStatus.TENTATIVE)
    placement.capacity_freed(done.planning_week_id, freed)
    return done
