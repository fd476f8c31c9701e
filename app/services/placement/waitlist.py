"""The live waiting list: open requests still short of sessions, in the order they are served.

The line is programme priority first (3 before 2 before 1), then waiting time (filed earlier
first), then fit (the nearer base first, where a base is given). A refill offers freed capacity
to the head of the line among the requests that may use the freed bases; operators see the line
of their base, a participant sees their place in it and why.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from app.extensions import db
from app.models import (
    ACTIVE_STATUSES,
    AuditEvent,
    Booking,
    BookingRequest,
    BookingSlot,
    Hub,
    Participant,
    PlanningWeek,
    Slot,
    SlotHold,
    Studio,
    TimetableWeek,
    request_allowed_hubs,
    utcnow,
)
from scheduler.domain import EARTH_RADIUS_KM, haversine_km
from scheduler.validate import KM_TOLERANCE


@dataclass(frozen=True)
class Waiting:
    """One request on the waiting list: how many sessions it has, its place in the week's line."""

    request: BookingRequest
    participant: Participant
    served: int
    place: int

    @property
    def missing(self) -> int:
        return self.request.sessions - self.served


def line_codes(request_ids: Iterable[int]) -> list[str]:
    """The codes of these requests in line order (one query)."""
    ids = list(request_ids)
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(BookingRequest.code)
            .join(Participant, Participant.id == BookingRequest.participant_id)
            .where(BookingRequest.id.in_(ids))
            .order_by(Participant.priority.desc(), BookingRequest.created_at, BookingRequest.id)
        )
    )


def _is_waiting(
    week: PlanningWeek, served: ColumnElement[int], after: datetime
) -> tuple[ColumnElement[bool], ...]:
    """What puts a request on the week's waiting list: open, short of sessions (``served``
    counts its sessions), its window not passed ``after``, and no placement working on it."""
    return (
        BookingRequest.planning_week_id == week.id,
        BookingRequest.status == "open",
        BookingRequest.window_end > after,
        served < BookingRequest.sessions,
        BookingRequest.placement.is_(None) | BookingRequest.placement.not_in(("queued", "running")),
    )


def waiting(week: PlanningWeek, *, after: datetime | None = None) -> list[Waiting]:
    """The week's waiting list in order: open requests short of sessions whose window has not
    passed ``after`` (default now), and that no placement is working on right now."""
    after = after or utcnow()
    served = _served(week)
    n = func.coalesce(served.c.n, 0)
    rows = db.session.execute(
        select(BookingRequest, Participant, n)
        .join(Participant, Participant.id == BookingRequest.participant_id)
        .outerjoin(served, served.c.request_id == BookingRequest.id)
        .where(*_is_waiting(week, n, after))
        .order_by(Participant.priority.desc(), BookingRequest.created_at, BookingRequest.id)
    )
    return [Waiting(r, p, int(k), place) for place, (r, p, k) in enumerate(rows, start=1)]


def _hub_fit(hubs: set[int]) -> tuple[dict[int, Hub], dict[int, list[set[str]]]]:
    found = {h.id: h for h in db.session.scalars(select(Hub).where(Hub.id.in_(hubs)))}
    features: dict[int, list[set[str]]] = {h: [] for h in found}
    for hub_id, f in db.session.execute(
        select(Studio.hub_id, Studio.features).where(Studio.hub_id.in_(hubs))
    ):
        features[hub_id].append(set(f or ()))
    return found, features


def may_use(
    r: BookingRequest, p: Participant, hub: Hub, features: list[set[str]], allowed: set[int]
) -> bool:
    """Whether the request may be served at ``hub`` (allowed list, distance, features)."""
    if not r.any_base and hub.id not in allowed:
        return False
    if r.max_km is not None and haversine_km(p.lat, p.lon, hub.lat, hub.lon) > (
        r.max_km + KM_TOLERANCE
    ):
        return False
    return any(set(r.needs or ()) <= f for f in features)


#: Degrees of latitude per kilometre, a lower bound of any great-circle distance: two points
#: ``d`` km apart differ by at most ``d * DEG_PER_KM`` degrees of latitude (haversine).
DEG_PER_KM = 180 / (math.pi * EARTH_RADIUS_KM)


def waiting_for_hubs(
    week: PlanningWeek, hub_ids: set[int], *, after: datetime, limit: int
) -> list[BookingRequest]:
    """The first ``limit`` waiting requests that may use one of ``hub_ids``, in line order
    (nearer first on ties of priority and filing time); not those that passed on a proposal
    there. What a refill offers freed capacity to.

    The database picks them: the week's open requests short of sessions, not being placed, whose
    window (after ``after``, the frozen horizon) holds a free slot at one of the bases, allowed
    there, within a latitude band of ``max_km`` around one of them, in line order with a
    ``LIMIT`` — so a refill reads a page of the line, not the whole waiting list. The exact
    distance and the studio features are checked on that page.
    """
    hubs = list(db.session.scalars(select(Hub).where(Hub.id.in_(hub_ids))))
    if not hubs or limit <= 0:
        return []
    ids = [h.id for h in hubs]
    _, features = _hub_fit(set(ids))
    served = _served(week)
    n = func.coalesce(served.c.n, 0)
    stmt = (
        select(
            BookingRequest.id,
            BookingRequest.any_base,
            BookingRequest.max_km,
            BookingRequest.needs,
            BookingRequest.created_at,
            Participant.priority,
            Participant.lat,
            Participant.lon,
        )  # fmt: skip
        .join(Participant, Participant.id == BookingRequest.participant_id)
        .outerjoin(served, served.c.request_id == BookingRequest.id)
        .where(*_is_waiting(week, n, after))
        .where(
            BookingRequest.any_base.is_(True)
            | exists().where(
                request_allowed_hubs.c.request_id == BookingRequest.id,
                request_allowed_hubs.c.hub_id.in_(ids),
            )
        )
        .where(
            or_(
                BookingRequest.max_km.is_(None),
                *(
                    func.abs(Participant.lat - h.lat)
                    <= (BookingRequest.max_km + 1) * DEG_PER_KM  # 1 km of slack for rounding
                    for h in hubs
                ),
            )
        )
        .where(_free_slot_in_window(ids, after))
        .where(~_passed_at(ids))
        .order_by(Participant.priority.desc(), BookingRequest.created_at, BookingRequest.id)
    )
    out: list[tuple] = []
    page, offset = max(10 * limit, 200), 0
    while True:
        rows = db.session.execute(stmt.limit(page).offset(offset)).all()
        allowed = _allowed([r.id for r in rows if not r.any_base])
        for r in rows:
            usable = [
                h
                for h in hubs
                if _fits(r, h, features[h.id], r.any_base or h.id in allowed.get(r.id, set()))
            ]
            if usable:
                km = min(haversine_km(r.lat, r.lon, h.lat, h.lon) for h in usable)
                out.append((-r.priority, r.created_at, km, r.id))
        offset += page
        # Enough, and the last kept one's tie (priority, filing time) is complete: stop.
        out.sort()
        last = out[limit - 1][:2] if len(out) >= limit else None
        if len(rows) < page or (
            last is not None and (-rows[-1].priority, rows[-1].created_at) != last
        ):
            break
    chosen = [row[-1] for row in out[:limit]]
    found = {
        r.id: r
        for r in db.session.scalars(select(BookingRequest).where(BookingRequest.id.in_(chosen)))
    }
    return [found[i] for i in chosen]


def _fits(r, hub: Hub, features: list[set[str]], allowed: bool) -> bool:
    """A row of the line may be served at ``hub``: allowed, within reach, a studio with its needs."""
    if not allowed:
        return False
    if (
        r.max_km is not None
        and haversine_km(r.lat, r.lon, hub.lat, hub.lon) > r.max_km + KM_TOLERANCE
    ):
        return False
    return any(set(r.needs or ()) <= f for f in features)


def _served(week: PlanningWeek):
    """Active sessions per request of the week (a subquery: request_id, n)."""
    return (
        select(Booking.request_id, func.count().label("n"))
        .where(Booking.planning_week_id == week.id, Booking.status.in_(ACTIVE_STATUSES))
        .where(Booking.request_id.is_not(None))
        .group_by(Booking.request_id)
        .subquery()
    )


def _free_slot_in_window(hub_ids: list[int], after: datetime):
    """A free open slot of a published timetable at one of the bases inside the request's window
    (after the frozen horizon): without one, the bases have nothing to offer the request.

    The bases' free slots are found once (a materialised CTE: a few hundred rows) and each
    request of the line is tested against that short list. Correlated with the request directly,
    PostgreSQL walked every slot of the week from the request's window start for each of the
    line's ~1,500 requests once its statistics aged (10 s per refill on the national week).
    """
    free = (
        select(Slot.start.label("start"), Slot.end.label("end"))
        .join(Studio, Studio.id == Slot.studio_id)
        .join(TimetableWeek, TimetableWeek.id == Slot.timetable_week_id)
        .outerjoin(SlotHold, SlotHold.slot_id == Slot.id)
        .where(Studio.hub_id.in_(hub_ids), Slot.state == "open", SlotHold.slot_id.is_(None))
        .where(TimetableWeek.state == "published", Slot.start >= after)
        .cte("free_slots")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    return exists(
        select(free.c.start)
        .where(free.c.start >= BookingRequest.window_start)
        .where(free.c.end <= BookingRequest.window_end)
    )


def for_hub(week: PlanningWeek, hub: Hub) -> list[Waiting]:
    """The waiting list as one base sees it: the requests that may use it, in line order."""
    rows = waiting(week)
    _, features = _hub_fit({hub.id})
    allowed = _allowed([w.request.id for w in rows if not w.request.any_base])
    return [
        w
        for w in rows
        if may_use(
            w.request, w.participant, hub, features[hub.id], allowed.get(w.request.id, set())
        )
    ]


def place_of(req: BookingRequest, *, after: datetime | None = None) -> Waiting | None:
    """The request's entry on its week's waiting list, or None when it is not waiting.

    Its place is one more than the waiting requests ahead of it in line order, counted by the
    database: a programme week's line has thousands of requests, and reading them all to find
    one place took seconds.
    """
    week = req.planning_week
    after = after or utcnow()
    served = _served(week)
    n = func.coalesce(served.c.n, 0)
    found = db.session.execute(
        select(BookingRequest, Participant, n)
        .join(Participant, Participant.id == BookingRequest.participant_id)
        .outerjoin(served, served.c.request_id == BookingRequest.id)
        .where(*_is_waiting(week, n, after), BookingRequest.id == req.id)
    ).first()
    if found is None:
        return None
    r, p, k = found
    ahead = db.session.scalar(
        select(func.count())
        .select_from(BookingRequest)
        .join(Participant, Participant.id == BookingRequest.participant_id)
        .outerjoin(served, served.c.request_id == BookingRequest.id)
        .where(*_is_waiting(week, n, after))
        .where(
            or_(
                Participant.priority > p.priority,
                (Participant.priority == p.priority) & (BookingRequest.created_at < r.created_at),
                (Participant.priority == p.priority)
                & (BookingRequest.created_at == r.created_at)
                & (BookingRequest.id < r.id),
            )
        )
    )
    return Waiting(r, p, int(k), int(ahead or 0) + 1)


def _passed_at(hub_ids: list[int]):
    """The request's participant declined, or let lapse, a proposal at one of these bases: a
    refill does not offer them those bases again (they may file again)."""
    return exists(
        select(Booking.id)
        .join(AuditEvent, AuditEvent.booking_id == Booking.id)
        .join(BookingSlot, BookingSlot.booking_id == Booking.id)
        .join(Slot, Slot.id == BookingSlot.slot_id)
        .join(Studio, Studio.id == Slot.studio_id)
        .where(Booking.request_id == BookingRequest.id)
        .where(AuditEvent.action.in_(("booking.decline", "booking.expire")))
        .where(Studio.hub_id.in_(hub_ids))
    )


def _allowed(request_ids: list[int]) -> dict[int, set[int]]:
    out: dict[int, set[int]] = {}
    if not request_ids:
        return out
    for rid, hub in db.session.execute(
        select(request_allowed_hubs.c.request_id, request_allowed_hubs.c.hub_id).where(
            request_allowed_hubs.c.request_id.in_(request_ids)
        )
    ):
        out.setdefault(rid, set()).add(hub)
    return out
