"""Who may see and change what — the one place pages and the API ask.

Admins see and change everything. Operators see and change only the bases they are bound to
(and the bookings and requests at those bases). Participants see and change only their own
requests and bookings. An object outside a user's sight answers "not found" rather than
"forbidden", so ids of other bases and participants leak nothing.
"""

from __future__ import annotations

from sqlalchemy import Select, select

from app.extensions import db
from app.models import (
    Booking,
    BookingRequest,
    BookingSlot,
    Hub,
    Participant,
    Role,
    Slot,
    Studio,
    User,
    operator_hubs,
)
from app.services.errors import ServiceError


class AccessError(ServiceError):
    """A refusal for who is asking: not theirs to see (404) or not theirs to do (403)."""

    status = 403
    code = "forbidden"


class NotFound(AccessError):
    """The object does not exist, or the user may not know it exists."""

    status = 404
    code = "not_found"


class Forbidden(AccessError):
    """The user sees the object but may not do this to it."""

    status = 403
    code = "forbidden"


def is_admin(user: User) -> bool:
    """Admins may do everything."""
    return user.role == Role.ADMIN


def operated_hub_ids(user: User) -> set[int] | None:
    """Ids of the bases ``user`` operates; ``None`` means every base (admin)."""
    if is_admin(user):
        return None
    if user.role == Role.OPERATOR:
        return set(
            db.session.scalars(
                select(operator_hubs.c.hub_id).where(operator_hubs.c.user_id == user.id)
            )
        )
    return set()


def can_operate_hub(user: User, hub: Hub | int) -> bool:
    """True when ``user`` may change ``hub`` (its timetable, its bookings)."""
    ids = operated_hub_ids(user)
    return ids is None or (hub if isinstance(hub, int) else hub.id) in ids


def participant_of(user: User) -> Participant | None:
    """The participant a participant account books for; ``None`` for staff accounts."""
    if user.role != Role.PARTICIPANT or user.participant_id is None:
        return None
    return db.session.get(Participant, user.participant_id)


def booking_hub_ids(booking: Booking) -> set[int]:
    """The base(s) a booking's slots belong to (one in practice; a set to stay honest)."""
    rows = db.session.scalars(
        select(Studio.hub_id)
        .join(Slot, Slot.studio_id == Studio.id)
        .join(BookingSlot, BookingSlot.slot_id == Slot.id)
        .where(BookingSlot.booking_id == booking.id)
        .distinct()
    )
    return set(rows)


def can_view_booking(user: User, booking: Booking) -> bool:
    """Participants see their own bookings, operators those at their bases, admins all."""
    if is_admin(user):
        return True
    if user.role == Role.PARTICIPANT:
        return booking.participant_id == user.participant_id
    ids = operated_hub_ids(user) or set()
    return bool(booking_hub_ids(booking) & ids)


def get_booking(user: User, code_or_id: str | int, *, for_update: bool = False) -> Booking:
    """Load a booking the user may see, by code ("K000123") or id; otherwise NotFound."""
    stmt = select(Booking)
    if isinstance(code_or_id, int):
        stmt = stmt.where(Booking.id == code_or_id)
    else:
        stmt = stmt.where(Booking.code == code_or_id)
    if for_update:
        stmt = stmt.with_for_update()
    booking = db.session.scalars(stmt).first()
    if booking is None or not can_view_booking(user, booking):
        raise NotFound(f"no booking {code_or_id}")
    return booking


def get_request(user: User, code_or_id: str | int) -> BookingRequest:
    """Load a request the user may see, by code ("R000381") or id; otherwise NotFound.

    Operators see requests only when the request may be served at one of their bases.
    """
    stmt = select(BookingRequest)
    if isinstance(code_or_id, int):
        stmt = stmt.where(BookingRequest.id == code_or_id)
    else:
        stmt = stmt.where(BookingRequest.code == code_or_id)
    req = db.session.scalars(stmt).first()
    if req is None or not can_view_request(user, req):
        raise NotFound(f"no request {code_or_id}")
    return req


def can_view_request(user: User, req: BookingRequest) -> bool:
    """Participants see their own requests; operators those their bases may serve."""
    if is_admin(user):
        return True
    if user.role == Role.PARTICIPANT:
        return req.participant_id == user.participant_id
    ids = operated_hub_ids(user) or set()
    if req.any_base:
        return bool(ids)
    return any(h.id in ids for h in req.allowed_hubs)


def visible_bookings(user: User) -> Select[tuple[Booking]]:
    """A query of the bookings ``user`` may see: mine, my bases', or all (admin)."""
    stmt = select(Booking)
    if is_admin(user):
        return stmt
    if user.role == Role.PARTICIPANT:
        return stmt.where(Booking.participant_id == (user.participant_id or -1))
    at_my_bases = (
        select(BookingSlot.booking_id)
        .join(Slot, Slot.id == BookingSlot.slot_id)
        .join(Studio, Studio.id == Slot.studio_id)
        .join(operator_hubs, operator_hubs.c.hub_id == Studio.hub_id)
        .where(operator_hubs.c.user_id == user.id)
    )
    return stmt.where(Booking.id.in_(at_my_bases))


def visible_requests(user: User) -> Select[tuple[BookingRequest]]:
    """A query of the requests ``user`` may see (see ``can_view_request``)."""
    stmt = select(BookingRequest)
    if is_admin(user):
        return stmt
    if user.role == Role.PARTICIPANT:
        return stmt.where(BookingRequest.participant_id == (user.participant_id or -1))
    ids = operated_hub_ids(user) or set()
    if not ids:
        return stmt.where(BookingRequest.id == -1)
    from app.models import request_allowed_hubs

    allowed_here = select(request_allowed_hubs.c.request_id).where(
        request_allowed_hubs.c.hub_id.in_(ids)
    )
    return stmt.where(BookingRequest.any_base.is_(True) | BookingRequest.id.in_(allowed_here))
