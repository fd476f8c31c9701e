"""The one booking service: pages, the API and the CLI all book through here.

A direct booking is confirmed at once. The hard rules are checked first (``booking.rules``),
but what guarantees "one booking per slot" is the database: ``slot_holds.slot_id`` is a
primary key, so of two transactions claiming one slot, exactly one commits and the other gets
an integrity error, which surfaces here as ``SlotTaken``. ``book`` commits its own
transaction, writes an audit event in it, and leaves the session clean when it refuses. What
happens to a booking afterwards (cancel, confirm, lock...) is ``booking.lifecycle``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, or_, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import (
    Booking,
    BookingRequest,
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
from app.observability import metrics
from app.services.accounts.access import Forbidden, can_operate_hub
from app.services.booking.rules import (
    Booker,
    RuleBroken,
    SlotInfo,
    WeekPolicy,
    check_bookable,
    check_participant_week,
    check_request_fit,
    check_shape,
    taken_error,
)
from app.services.booking.slots import select_slots
from app.services.booking.write import insert_booking
from app.services.errors import ServiceError
from app.services.timetable.weeks import planning_week_for
from app.services.webhooks import payloads as webhooks
from config import settings

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
        Studio.retired_at.label("studio_retired_at"),
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
            studio_retired=r.studio_retired_at is not None,
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
    who: Booker | None = None
    try:
        who, origin = _booker(actor, participant)
        chosen, taken, slot_week = _load_slots(slots)
        chosen_ids = [s.id for s in chosen]
        check_shape(chosen, max_slots)
        first = chosen[0]
        if origin == Origin.OPERATOR and not can_operate_hub(actor, first.hub_id):
            raise Forbidden(f"you do not operate base {first.hub_code}", code="other_base")
        check_bookable(chosen, now)
        refusal = taken_error(chosen_ids, who.id) if taken else None
        if refusal is not None:
            raise refusal
        week: PlanningWeek | WeekPolicy
        if request is not None:
            check_request_fit(request, who, chosen)
            week = request.planning_week
        elif slot_week is None:
            week = planning_week_for(first.week_start)
        else:
            week = slot_week
        check_participant_week(who.id, chosen, week)
        booking_id, code = insert_booking(who, origin, actor, request, week, chosen, now)
        webhooks.booking_created(
            code=code,
            status=BookingStatus.CONFIRMED,
            origin=origin,
            participant=who.code,
            request=request.code if request is not None else None,
            slots=chosen,
        )
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        refusal = taken_error(chosen_ids, who.id if who is not None else -1)
        if refusal is not None:
            metrics.booking_refused(refusal.code)
            raise refusal from exc
        raise
    except ServiceError as refusal:
        db.session.rollback()
        metrics.booking_refused(refusal.code)
        raise
    except Exception:
        db.session.rollback()
        raise
    metrics.booking_created(origin)
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
    return db.session.get_one(Booking, made.id)
