"""The database's week as plain data: ``livehub-instance/1`` and ``livehub-plan/1`` objects.

Ids in the files are the codes users see in the app. A booking a participant made directly on
a slot (no request) gets a request of its own, ``"R" + booking code`` (e.g. ``RK000123``): one
session, its length, its slots' time as the window, its base as the only allowed base, no
distance limit, no needs. So every booking in a file belongs to a request.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import ColumnElement, or_, select, true

from app.extensions import AnySession
from app.models import (
    ACTIVE_STATUSES,
    Booking,
    BookingRequest,
    BookingSlot,
    HarvestLot,
    Hub,
    Participant,
    PlanningWeek,
    PreferredHub,
    Slot,
    SlotHold,
    Studio,
    TimetableWeek,
    request_allowed_hubs,
)
from app.models.vocabulary import RequestStatus, SlotState, WeekState
from app.services.exchange.mapping import (
    direct_request,
    domain_base,
    domain_participant,
    domain_policy,
    domain_request,
)
from app.services.programme.prime import prime_recent
from scheduler import domain as d
from scheduler.explain import reachable
from scheduler.heap import collector_paused


def build_instance(
    session: AnySession, week: PlanningWeek, *, freeze_until: datetime | None, timezone: str
) -> d.Instance:
    """The week as a ``scheduler.domain.Instance`` (what export-week writes)."""
    with collector_paused():
        return _instance(session, week, freeze_until=freeze_until, timezone=timezone)


def _instance(
    session: AnySession, week: PlanningWeek, *, freeze_until: datetime | None, timezone: str
) -> d.Instance:
    bases = _bases(session)
    slots = _slots(session, week)
    participants = _participants(session, None, prime_recent(session, week) or {})
    bookings, direct = _bookings(session, week)
    requests = _requests(session, week, {b.request for b in bookings}) + direct
    return _of_week(week, freeze_until, timezone, bases, slots, participants, requests, bookings)


def _of_week(
    week: PlanningWeek,
    freeze_until: datetime | None,
    timezone: str,
    bases: tuple[d.Base, ...],
    slots: tuple[d.Slot, ...],
    participants: tuple[d.Participant, ...],
    requests: list[d.Request],
    bookings: tuple[d.Booking, ...],
) -> d.Instance:
    return d.Instance(
        name=week.name,
        timezone=timezone,
        horizon_start=week.week_start,
        horizon_days=week.days,
        bases=bases,
        slots=slots,
        participants=participants,
        requests=tuple(sorted(requests, key=lambda r: r.id)),
        bookings=bookings,
        policy=domain_policy(week, freeze_until),
    )


def build_neighbourhood(
    session: AnySession,
    week: PlanningWeek,
    request_code: str,
    *,
    freeze_until: datetime | None,
    timezone: str,
) -> d.Instance:
    """The part of the week around one request, as ``scheduler.explain.neighbourhood`` cuts it
    from the whole (every base; the slots of the bases the request may reach and of its
    participant's bookings; those bookings and their requests and participants, without the
    prime history no reason reads), read from the database without reading the rest. A
    request that may reach most bases gets the whole week."""
    with collector_paused():
        bases = _bases(session)
        (request,) = _requests(session, week, {request_code}, only={request_code})
        (person,) = _participants(session, {request.participant})
        alone = _of_week(week, freeze_until, timezone, bases, (), (person,), [request], ())
        near = reachable(alone, request)
        if len(near) > len(bases) // 2:
            return _instance(session, week, freeze_until=freeze_until, timezone=timezone)
        participant_id = select(Participant.id).where(Participant.code == request.participant)
        at_near = (
            select(BookingSlot.booking_id)
            .join(Slot, Slot.id == BookingSlot.slot_id)
            .join(Studio, Studio.id == Slot.studio_id)
            .join(Hub, Hub.id == Studio.hub_id)
            .where(Hub.code.in_(near))
        )
        around = or_(
            Booking.participant_id == participant_id.scalar_subquery(), Booking.id.in_(at_near)
        )
        bookings, direct = _bookings(session, week, around)
        held = (
            select(BookingSlot.slot_id)
            .join(Booking, Booking.id == BookingSlot.booking_id)
            .where(Booking.planning_week_id == week.id, Booking.status.in_(ACTIVE_STATUSES))
            .where(BookingSlot.released_at.is_(None), around)
        )
        slots = _slots(session, week, or_(Hub.code.in_(near), Slot.id.in_(held)))
        codes = {b.request for b in bookings} - {r.id for r in direct} | {request_code}
        requests = _requests(session, week, codes, only=codes) + direct
        participants = _participants(session, {r.participant for r in requests})
        return _of_week(
            week, freeze_until, timezone, bases, slots, participants, requests, bookings
        )


def build_plan(session: AnySession, week: PlanningWeek, instance: d.Instance) -> d.Plan:
    """The week's active bookings as a plan (what export-plan writes)."""
    assignments = tuple(d.Assignment(b.request, b.slots) for b in instance.bookings)
    served: dict[str, int] = defaultdict(int)
    for a in assignments:
        served[a.request] += 1
    unassigned = tuple(
        d.Unassigned(r.id, r.sessions - served[r.id], "not placed yet")
        for r in instance.requests
        if served[r.id] < r.sessions
    )
    by_status: dict[str, int] = defaultdict(int)
    for b in instance.bookings:
        by_status[b.status] += 1
    stats = {"status": "CURRENT", "source": "database", "bookings": dict(sorted(by_status.items()))}
    return d.Plan(week.name, assignments, unassigned, stats)


def _participants(
    session: AnySession, codes: set[str] | None, recent: dict[str, int] | None = None
) -> tuple[d.Participant, ...]:
    """Every participant (``codes`` None) or those, with their recent prime sessions."""
    # Columns on the connection, not ORM objects: a programme week has 18,000 participants,
    # 30,000 requests and 60,000 slots, and the ORM's step per row was most of the time.
    query = select(
        Participant.code, Participant.name, Participant.kind, Participant.province,
        Participant.region, Participant.lat, Participant.lon, Participant.priority,
        Participant.category,
    ).order_by(Participant.code)  # fmt: skip
    if codes is not None:
        query = query.where(Participant.code.in_(codes))
    recent = recent or {}
    return tuple(
        domain_participant(p, recent.get(p.code)) for p in session.connection().execute(query)
    )


def _bases(session: AnySession) -> tuple[d.Base, ...]:
    studios: dict[int, list[d.Studio]] = defaultdict(list)
    rows = session.execute(
        select(Studio.hub_id, Studio.code, Studio.features, Hub.code)
        .join(Hub, Hub.id == Studio.hub_id)
        .order_by(Studio.hub_id, Studio.position, Studio.code)
    )
    for hub_id, code, features, hub_code in rows:
        studios[hub_id].append(d.Studio(code, hub_code, frozenset(features or ())))
    return tuple(
        domain_base(h, studios[h.id]) for h in session.scalars(select(Hub).order_by(Hub.code))
    )


def _slots(
    session: AnySession, week: PlanningWeek, among: ColumnElement[bool] | None = None
) -> tuple[d.Slot, ...]:
    """Open slots of published timetable weeks (not of retired studios), plus any slot an
    active booking holds (of those ``among`` picks, which may name the slot, studio or hub)."""
    query = (
        select(Slot.code, Studio.code, Slot.start, Slot.end, Slot.prime)
        .join(Studio, Studio.id == Slot.studio_id)
        .join(Hub, Hub.id == Studio.hub_id)
        .join(TimetableWeek, TimetableWeek.id == Slot.timetable_week_id)
        .outerjoin(SlotHold, SlotHold.slot_id == Slot.id)
        .where(TimetableWeek.week_start == week.week_start)
        .where(
            or_(
                (TimetableWeek.state == WeekState.PUBLISHED)
                & (Slot.state == SlotState.OPEN)
                & Studio.retired_at.is_(None),  # a retired studio offers nothing new
                SlotHold.slot_id.is_not(None),
            )
        )
        .order_by(Slot.code)
    )
    rows = session.connection().execute(query if among is None else query.where(among))
    return tuple(
        d.Slot(code, studio, start, end, prime) for code, studio, start, end, prime in rows
    )


def _bookings(
    session: AnySession, week: PlanningWeek, among: ColumnElement[bool] | None = None
) -> tuple[tuple[d.Booking, ...], list[d.Request]]:
    """Active bookings in code order (of those ``among`` picks, which names the booking), and
    the synthesized requests of direct bookings."""
    held: dict[int, list[tuple[int, str, datetime, datetime, str]]] = defaultdict(list)
    mine = true() if among is None else among
    rows = session.connection().execute(
        select(
            BookingSlot.booking_id, BookingSlot.position, Slot.code, Slot.start, Slot.end, Hub.code
        )
        .join(Slot, Slot.id == BookingSlot.slot_id)
        .join(Studio, Studio.id == Slot.studio_id)
        .join(Hub, Hub.id == Studio.hub_id)
        .join(Booking, Booking.id == BookingSlot.booking_id)
        .where(Booking.planning_week_id == week.id, Booking.status.in_(ACTIVE_STATUSES))
        .where(BookingSlot.released_at.is_(None), mine)
    )
    for booking_id, position, code, start, end, hub in rows:
        held[booking_id].append((position, code, start, end, hub))
    out: list[d.Booking] = []
    direct: list[d.Request] = []
    rows = session.connection().execute(
        select(Booking.id, Booking.code, Booking.status, BookingRequest.code, Participant.code)
        .outerjoin(BookingRequest, BookingRequest.id == Booking.request_id)
        .join(Participant, Participant.id == Booking.participant_id)
        .where(Booking.planning_week_id == week.id, Booking.status.in_(ACTIVE_STATUSES), mine)
        .order_by(Booking.code)
    )
    for booking_id, code, status, request_code, participant in rows:
        slots = sorted(held[booking_id])
        if not slots:
            continue
        if request_code is None:
            request = direct_request(
                code, participant, slots[0][2], slots[-1][3], slots[0][4], len(slots)
            )
            request_code = request.id
            direct.append(request)
        out.append(d.Booking(request_code, tuple(s[1] for s in slots), status))
    return tuple(out), direct


def _requests(
    session: AnySession, week: PlanningWeek, booked: set[str], only: set[str] | None = None
) -> list[d.Request]:
    """Open requests of the week, plus withdrawn ones that still have an active booking (those
    whose codes are ``only``, when given)."""
    of_week = BookingRequest.planning_week_id == week.id
    if only is not None:
        of_week = of_week & BookingRequest.code.in_(only)
    allowed: dict[int, list[str]] = defaultdict(list)
    for request_id, hub in session.connection().execute(
        select(request_allowed_hubs.c.request_id, Hub.code)
        .join(Hub, Hub.id == request_allowed_hubs.c.hub_id)
        .join(BookingRequest, BookingRequest.id == request_allowed_hubs.c.request_id)
        .where(of_week)
        .order_by(Hub.code)
    ):
        allowed[request_id].append(hub)
    preferred: dict[int, list[str]] = defaultdict(list)
    for request_id, hub in session.connection().execute(
        select(PreferredHub.request_id, Hub.code)
        .join(Hub, Hub.id == PreferredHub.hub_id)
        .join(BookingRequest, BookingRequest.id == PreferredHub.request_id)
        .where(of_week)
        .order_by(PreferredHub.request_id, PreferredHub.rank)
    ):
        preferred[request_id].append(hub)
    lots = {
        lot.id: d.Harvest(lot.ready_at, lot.best_before)
        for lot in session.scalars(
            select(HarvestLot).where(
                HarvestLot.id.in_(select(BookingRequest.harvest_lot_id).where(of_week))
            )
        )
    }
    out = []
    rows = session.connection().execute(
        select(
            BookingRequest.id, BookingRequest.code, BookingRequest.status,
            BookingRequest.harvest_lot_id, BookingRequest.sessions, BookingRequest.length,
            BookingRequest.window_start, BookingRequest.window_end, BookingRequest.any_base,
            BookingRequest.max_km, BookingRequest.needs, BookingRequest.prefer_prime,
            Participant.code.label("participant_code"),
        )
        .join(Participant, Participant.id == BookingRequest.participant_id)
        .where(of_week)
        .order_by(BookingRequest.code)
    )  # fmt: skip
    for r in rows:
        if r.status != RequestStatus.OPEN and r.code not in booked:
            continue
        harvest = None if r.harvest_lot_id is None else lots[r.harvest_lot_id]
        out.append(
            domain_request(
                r,
                r.participant_code,
                allowed=allowed[r.id],
                preferred=preferred[r.id],
                harvest=harvest,
            )
        )
    return out
