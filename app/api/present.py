"""Rows → API dictionaries: public codes instead of ids, local ISO 8601 times."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from app.extensions import db
from app.localtime import local_zone
from app.models import Booking, BookingRequest, Hub
from app.services.booking.lifecycle import BOOKING_LOAD
from app.services.booking.request_state import RequestFacts, facts_of
from app.services.booking.service import NewBooking


def iso(value: datetime | None) -> str | None:
    """An instant as ISO 8601 in the product's zone (``2026-12-08T20:00:00+08:00``)."""
    if value is None:
        return None
    return value.astimezone(local_zone()).isoformat()


def base_dict(hub: Hub) -> dict:
    """A base with its studios, as GET /bases shows it."""
    return {
        "id": hub.code,
        "name": hub.name,
        "city": hub.city,
        "province": hub.province,
        "region": hub.region,
        "lat": hub.lat,
        "lon": hub.lon,
        "studios": [
            {"id": s.code, "name": s.name, "features": list(s.features or [])} for s in hub.studios
        ],
    }


def booking_dict(booking: Booking | NewBooking) -> dict:
    """A booking as the API shows it: its slots in order, its base and studio, local times.

    Takes a stored booking or one ``booking.book`` just made (the same answer, no read-back).
    """
    if isinstance(booking, NewBooking):
        slots = booking.slots
        first, last = slots[0], slots[-1]
        return _booking_shape(
            booking, booking.participant_code, booking.request_code,
            first.hub_code, first.studio_code, first.start, last.end, [s.code for s in slots],
        )  # fmt: skip
    held = booking.current_slots
    head, tail = (held[0], held[-1]) if held else (None, None)
    return _booking_shape(
        booking,
        booking.participant.code,
        booking.request.code if booking.request is not None else None,
        head.studio.hub.code if head else None,
        head.studio.code if head else None,
        head.start if head else None,
        tail.end if tail else None,
        [s.code for s in held],
    )


def _booking_shape(booking, participant, request, base, studio, start, end, slots) -> dict:
    return {
        "id": booking.code,
        "status": booking.status,
        "origin": booking.origin,
        "participant": participant,
        "request": request,
        "base": base,
        "studio": studio,
        "start": iso(start),
        "end": iso(end),
        "slots": slots,
        "created_at": iso(booking.created_at),
        "cancelled_at": iso(getattr(booking, "cancelled_at", None)),
    }


def load_booking(booking_id: int) -> Booking:
    """A booking with everything ``booking_dict`` reads, in one query."""
    return (
        db.session.scalars(select(Booking).options(*BOOKING_LOAD).where(Booking.id == booking_id))
        .unique()
        .one()
    )


def request_dicts(reqs: list[BookingRequest]) -> list[dict]:
    """Many requests (loaded with ``REQUEST_LOAD``) with their facts read together."""
    facts = facts_of(reqs)
    return [request_dict(r, facts=facts[r.id]) for r in reqs]


def request_dict(req: BookingRequest, *, facts: RequestFacts | None = None) -> dict:
    """A request in the exchange format's shape, plus its state and how many sessions it has."""
    if facts is None:
        facts = facts_of([req])[req.id]
    return {
        "id": req.code,
        "participant": req.participant.code,
        "sessions": req.sessions,
        "length": req.length,
        "window": {"start": iso(req.window_start), "end": iso(req.window_end)},
        "bases": None if req.any_base else [h.code for h in req.allowed_hubs],
        "max_km": req.max_km,
        "needs": list(req.needs or []),
        "prefer": {"bases": [h.code for h in req.preferred_hubs], "prime": req.prefer_prime},
        "status": req.status,
        "state": facts.state.value,
        "served": facts.placed,
        "placement": req.placement,
        "placement_reason": req.placement_reason,
        "created_at": iso(req.created_at),
    }
