"""Many bookings at once: an operator confirms, locks or cancels a selection with one reason.

All or nothing. Every chosen booking is checked first (it exists, it lies at a base the operator
runs, its state allows the action); only when all pass are they changed, in one transaction,
each with the same audit event and notice to its participant as the one-by-one action. A
refusal names every booking that stopped it and writes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Booking, BookingSlot, Slot, Studio, User, utcnow
from app.models.vocabulary import BookingStatus
from app.services.accounts import audit
from app.services.accounts.access import Forbidden
from app.services.booking.lifecycle import release_slots, require_staff
from app.services.booking.rules import BookingError, RuleBroken
from app.services.notify import messages as notify
from app.services.placement import trigger as placement
from app.services.webhooks import payloads as webhooks
from app.services.webhooks.events import BOOKING_CANCELLED, BOOKING_CONFIRMED

#: The most bookings one bulk action takes (a base's busiest week is about 150).
MAX_BULK = 500
#: The longest reason a participant is sent (the single-booking form's limit).
MAX_REASON = 300

#: action → (states it applies to, state it leads to, audit action)
BULK_ACTIONS: dict[str, tuple[tuple[BookingStatus, ...], BookingStatus]] = {
    "confirm": ((BookingStatus.TENTATIVE,), BookingStatus.CONFIRMED),
    "lock": ((BookingStatus.TENTATIVE, BookingStatus.CONFIRMED), BookingStatus.LOCKED),
    "cancel": (
        (BookingStatus.TENTATIVE, BookingStatus.CONFIRMED, BookingStatus.LOCKED),
        BookingStatus.CANCELLED,
    ),
}


class BulkRefused(BookingError):
    """Some chosen bookings cannot take the action; ``detail["refused"]`` maps each code to why
    (``unknown``, ``forbidden`` or its current state). Nothing was changed."""

    status = 409
    code = "bulk_refused"


def _clean_codes(codes: Sequence[str]) -> list[str]:
    cleaned = sorted({c.strip().upper() for c in codes if c and c.strip()})
    if not cleaned:
        raise RuleBroken("choose at least one booking", code="bulk_empty")
    if len(cleaned) > MAX_BULK:
        raise RuleBroken(
            f"at most {MAX_BULK} bookings at once", code="bulk_too_many", detail={"max": MAX_BULK}
        )
    return cleaned


def check_reason(action: str, reason: str | None) -> str | None:
    """The reason, stripped; cancelling needs one, and none may exceed ``MAX_REASON``."""
    text = (reason or "").strip()
    if len(text) > MAX_REASON:
        raise RuleBroken(
            f"a reason has at most {MAX_REASON} characters",
            code="reason_long",
            detail={"max": MAX_REASON},
        )
    if action == "cancel" and not text:
        raise RuleBroken("a reason is required to cancel someone's booking", code="reason")
    return text or None


def load_for_bulk(actor: User, action: str, codes: Sequence[str]) -> list[Booking]:
    """The chosen bookings, locked, once each has passed the checks; else ``BulkRefused``."""
    if action not in BULK_ACTIONS:
        raise RuleBroken(f"unknown bulk action {action!r}", code="bulk_action")
    wanted = _clean_codes(codes)
    allowed, _to = BULK_ACTIONS[action]
    rows = db.session.scalars(
        select(Booking)
        .where(Booking.code.in_(wanted))
        .order_by(Booking.id)
        .with_for_update()
        .options(
            selectinload(Booking.participant),
            selectinload(Booking.slot_history)
            .selectinload(BookingSlot.slot)
            .selectinload(Slot.studio)
            .selectinload(Studio.hub),
        )
        .execution_options(populate_existing=True)
    ).all()
    found = {b.code: b for b in rows}
    refused: dict[str, str] = {}
    for code in wanted:
        booking = found.get(code)
        if booking is None:
            refused[code] = "unknown"
            continue
        try:
            require_staff(actor, booking)
        except Forbidden:
            refused[code] = "forbidden"
            continue
        if booking.status not in allowed:
            refused[code] = str(booking.status)
    if refused:
        raise BulkRefused(
            f"{len(refused)} of {len(wanted)} bookings cannot be changed: "
            + ", ".join(f"{c} ({why})" for c, why in sorted(refused.items())),
            detail={"refused": refused, "action": action},
        )
    return [found[c] for c in wanted]


def bulk_action(
    actor: User,
    action: str,
    codes: Sequence[str],
    *,
    reason: str | None = None,
    now: datetime | None = None,
) -> list[Booking]:
    """Confirm, lock or cancel every booking of ``codes`` in one transaction; returns them."""
    text = check_reason(action, reason)
    bookings = load_for_bulk(actor, action, codes)
    _allowed, to = BULK_ACTIONS[action]
    now = now or utcnow()
    freed: dict[int, set[int]] = defaultdict(set)
    for booking in bookings:
        previous = booking.status
        if action == "cancel":
            freed[booking.planning_week_id] |= {s.studio.hub_id for s in booking.current_slots}
            booking.cancelled_at = now
            release_slots(booking, now)
        booking.status = to
        booking.updated_at = now
        detail: dict = {"previous": previous, "bulk": len(bookings)}
        if text is not None:
            detail["reason"] = text
        audit.record(f"booking.{action}", actor=actor, booking=booking, **detail)
        if action == "confirm":
            notify.booking_event("booking_confirmed", booking)
            webhooks.booking_event(BOOKING_CONFIRMED, booking, by=str(actor.role))
        elif action == "cancel":
            notify.booking_event("booking_cancelled", booking, reason=text)
            webhooks.booking_event(BOOKING_CANCELLED, booking, reason=text, by=str(actor.role))
    db.session.commit()
    for week_id, hubs in freed.items():
        placement.capacity_freed(week_id, hubs)
    return bookings
