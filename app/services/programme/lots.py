"""Harvest lots: a producer records one and files requests for it; lots running out of time.

A lot's requests are sold inside its ``ready_at`` .. ``best_before`` (the scheduler's hard rule
10, carried in the exchange file as the request's ``harvest``). A lot whose best-before is near
and that has no active session yet is flagged to the operators of the bases that could serve
one of its requests (allowed, within reach, a studio with the needs).
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import (
    ACTIVE_STATUSES,
    Booking,
    BookingRequest,
    HarvestLot,
    Hub,
    Participant,
    User,
    utcnow,
)
from app.services.accounts import audit
from app.services.booking.rules import BookingError
from scheduler.domain import haversine_km

MAX_QUANTITY = 1_000_000
#: A lot is "near its deadline" this long before its best-before.
NEAR_DEADLINE = timedelta(hours=48)


class LotInvalid(BookingError):
    """A lot that cannot be recorded (``code`` names the field)."""


def record_lot(
    actor: User,
    *,
    product: str,
    quantity: float | None,
    unit: str,
    ready_at: datetime,
    best_before: datetime,
    now: datetime | None = None,
) -> HarvestLot:
    """Store a lot of the actor's participant (a producer); commits and audits."""
    now = now or utcnow()
    who = db.session.get(Participant, actor.participant_id) if actor.participant_id else None
    if who is None or who.kind != "producer":
        raise LotInvalid("only a producer records harvest lots", code="producer")
    product = (product or "").strip()
    if not 0 < len(product) <= 80:
        raise LotInvalid("the product needs a name of at most 80 characters", code="product")
    if quantity is not None and (
        isinstance(quantity, bool)
        or not isinstance(quantity, int | float)
        or not math.isfinite(quantity)
        or not 0 < quantity <= MAX_QUANTITY
    ):
        raise LotInvalid("the quantity must be a positive number", code="quantity")
    if unit not in ("kg", "box", "piece"):
        raise LotInvalid("unknown unit", code="unit")
    for value in (ready_at, best_before):
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise LotInvalid("dates must carry a time zone", code="dates")
    if best_before <= ready_at:
        raise LotInvalid("best-before must come after ready", code="dates")
    if best_before <= now:
        raise LotInvalid("best-before has already passed", code="dates")
    lot = HarvestLot(
        code="t" + secrets.token_hex(7),
        participant_id=who.id,
        product=product,
        quantity=float(quantity) if quantity is not None else None,
        unit=unit,
        ready_at=ready_at,
        best_before=best_before,
        created_at=now,
    )
    try:
        db.session.add(lot)
        db.session.flush()
        lot.code = f"L{lot.id:06d}"
        audit.record("lot.create", actor=actor, subject=lot.code, participant=who.code)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return lot


def own_lots(participant_id: int, *, fresh_after: datetime | None = None) -> list[HarvestLot]:
    """A participant's lots, soonest best-before first (only those still good after
    ``fresh_after``, if given)."""
    stmt = select(HarvestLot).where(HarvestLot.participant_id == participant_id)
    if fresh_after is not None:
        stmt = stmt.where(HarvestLot.best_before > fresh_after)
    return list(db.session.scalars(stmt.order_by(HarvestLot.best_before, HarvestLot.id)))


def lot_for_request(participant_id: int, code: str) -> HarvestLot:
    """The participant's own lot ``code`` (a request may only sell its own lot)."""
    lot = db.session.scalar(select(HarvestLot).where(HarvestLot.code == code))
    if lot is None or lot.participant_id != participant_id:
        raise LotInvalid("no such lot of yours", code="harvest")
    return lot


@dataclass(frozen=True)
class LotAlert:
    """A lot near its best-before with no active session, and the bases that could serve it."""

    lot: HarvestLot
    participant: Participant
    requests: tuple[str, ...]
    bases: tuple[str, ...]


def lots_near_deadline(hub_codes: list[str] | None, now: datetime | None = None) -> list[LotAlert]:
    """Lots whose best-before falls within ``NEAR_DEADLINE`` from now, that have an open request
    but no active session, with the bases among ``hub_codes`` (all when None) that could serve
    one of its requests."""
    now = now or utcnow()
    lots = list(
        db.session.scalars(
            select(HarvestLot)
            .where(HarvestLot.best_before > now, HarvestLot.best_before <= now + NEAR_DEADLINE)
            .order_by(HarvestLot.best_before)
        )
    )
    if not lots:
        return []
    ids = [lot.id for lot in lots]
    served = set(
        db.session.scalars(
            select(BookingRequest.harvest_lot_id)
            .join(Booking, Booking.request_id == BookingRequest.id)
            .where(BookingRequest.harvest_lot_id.in_(ids), Booking.status.in_(ACTIVE_STATUSES))
        )
    )
    requests: dict[int, list[BookingRequest]] = {}
    for r in db.session.scalars(
        select(BookingRequest)
        .where(BookingRequest.harvest_lot_id.in_(ids), BookingRequest.status == "open")
        .order_by(BookingRequest.code)
    ):
        requests.setdefault(r.harvest_lot_id or 0, []).append(r)
    hubs_stmt = select(Hub).order_by(Hub.code)
    if hub_codes is not None:
        hubs_stmt = hubs_stmt.where(Hub.code.in_(hub_codes))
    hubs = list(db.session.scalars(hubs_stmt))
    out = []
    for lot in lots:
        if lot.id in served or lot.id not in requests:
            continue
        who = lot.participant
        bases = sorted({h.code for r in requests[lot.id] for h in hubs if _could_serve(r, h, who)})
        if bases:
            out.append(LotAlert(lot, who, tuple(r.code for r in requests[lot.id]), tuple(bases)))
    return out


def _could_serve(r: BookingRequest, hub: Hub, who: Participant) -> bool:
    """Rule 5 for one base: allowed, within ``max_km``, a studio with every need."""
    if not r.any_base and hub not in r.allowed_hubs:
        return False
    if r.max_km is not None and haversine_km(who.lat, who.lon, hub.lat, hub.lon) > r.max_km:
        return False
    return any(set(r.needs or ()) <= set(s.features or ()) for s in hub.studios)
