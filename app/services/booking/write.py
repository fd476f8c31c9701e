"""Writing a new booking: the booking row, its slot history, its slot holds, its audit event.

This is the hot path of every booking, so it is plain SQL rather than ORM objects. The holds'
INSERT is the claim: ``slot_holds.slot_id`` is the primary key, so a rival's committed or
pending hold on one of these slots makes the statement fail (IntegrityError, which
``app.services.booking.service.book_slots`` turns into SlotTaken). On PostgreSQL the five writes are
one statement (one round trip); elsewhere they are five.
"""

from __future__ import annotations

import json
import secrets
from typing import cast

from sqlalchemy import Table, bindparam, insert, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import Integer

from app.extensions import db
from app.models import AuditEvent, Booking, BookingSlot, SlotHold, booking_code
from app.models.vocabulary import ActorKind, BookingStatus

# Data-modifying CTEs: every part sees the booking's id drawn from its sequence first.
_POSTGRES_INSERT = text(
    """
    WITH n AS (SELECT nextval(pg_get_serial_sequence('bookings', 'id')) AS id),
    b AS (
        INSERT INTO bookings (id, code, participant_id, request_id, planning_week_id, status,
                              origin, created_by_user_id, created_at, updated_at)
        SELECT n.id,
               'K' || CASE WHEN n.id < 1000000 THEN lpad(n.id::text, 6, '0') ELSE n.id::text END,
               :participant_id, CAST(:request_id AS integer), :planning_week_id,
               'confirmed', :origin, :actor_id, :now, :now
        FROM n
        RETURNING id, code
    ),
    s AS (SELECT slot_id, pos - 1 AS position
          FROM unnest(:slot_ids) WITH ORDINALITY AS u(slot_id, pos)),
    history AS (
        INSERT INTO booking_slots (booking_id, slot_id, position, assigned_at)
        SELECT b.id, s.slot_id, s.position, :now FROM b, s
    ),
    holds AS (
        INSERT INTO slot_holds (slot_id, booking_id, held_at)
        SELECT s.slot_id, b.id, :now FROM b, s
    ),
    trail AS (
        INSERT INTO audit_events (at, actor_kind, actor_user_id, action, booking_id, subject,
                                  detail)
        SELECT :now, 'user', :actor_id, 'booking.create', b.id, b.code, CAST(:detail AS json)
        FROM b
    )
    SELECT id, code FROM b
    """
).bindparams(bindparam("slot_ids", type_=ARRAY(Integer)))


# The tables behind the models, for Core statements (the declarative ``__table__`` is typed as
# any FromClause; for a mapped class it is always a Table).
_BOOKINGS = cast(Table, Booking.__table__)
_BOOKING_SLOTS = cast(Table, BookingSlot.__table__)
_SLOT_HOLDS = cast(Table, SlotHold.__table__)
_AUDIT = cast(Table, AuditEvent.__table__)


def insert_booking(who, origin, actor, request, week, chosen, now) -> tuple[int, str]:
    """Write a confirmed booking of ``chosen`` slots for ``who``; returns its id and code."""
    detail = {
        "slots": [s.code for s in chosen],
        "participant": who.code,
        "request": request.code if request is not None else None,
    }
    if db.session.get_bind().dialect.name == "postgresql":
        booking_id, code = (
            db.session.connection()
            .execute(
                _POSTGRES_INSERT,
                {
                    "participant_id": who.id,
                    "request_id": request.id if request is not None else None,
                    "planning_week_id": week.id,
                    "origin": origin,
                    "actor_id": actor.id,
                    "now": now,
                    "slot_ids": [s.id for s in chosen],
                    "detail": json.dumps(detail, ensure_ascii=False),
                },
            )
            .one()
        )
        return booking_id, code
    return _insert_portable(who, origin, actor, request, week, chosen, now, detail)


def _insert_portable(who, origin, actor, request, week, chosen, now, detail) -> tuple[int, str]:
    """Any database: five plain statements (insert, number, history, holds, audit)."""
    conn = db.session.connection()  # Core statements on the session's transaction
    booking_id = conn.execute(
        insert(_BOOKINGS)
        .values(
            code="t" + secrets.token_hex(7),
            participant_id=who.id,
            request_id=request.id if request is not None else None,
            planning_week_id=week.id,
            status=BookingStatus.CONFIRMED,
            origin=origin,
            created_by_user_id=actor.id,
            created_at=now,
            updated_at=now,
        )
        .returning(_BOOKINGS.c.id)
    ).scalar_one()
    code = booking_code(booking_id)
    conn.execute(update(_BOOKINGS).where(_BOOKINGS.c.id == booking_id).values(code=code))
    conn.execute(
        insert(_BOOKING_SLOTS),
        [
            {"booking_id": booking_id, "slot_id": s.id, "position": k, "assigned_at": now}
            for k, s in enumerate(chosen)
        ],
    )
    conn.execute(
        insert(_SLOT_HOLDS),
        [{"slot_id": s.id, "booking_id": booking_id, "held_at": now} for s in chosen],
    )
    conn.execute(
        insert(_AUDIT).values(
            at=now,
            actor_kind=ActorKind.USER,
            actor_user_id=actor.id,
            action="booking.create",
            booking_id=booking_id,
            subject=code,
            detail=detail,
        )
    )
    return booking_id, code
