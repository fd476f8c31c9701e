"""The live waiting list: open requests still short of sessions, in the order they are served.

The line is programme priority first (3 before 2 before 1), then waiting time (filed earlier
first), then fit (the nearer base first, where a base is given). A refill offers freed capacity
to the head of the line among the requests that may use the freed bases; operators see the line
of their base, a participant sees their place in it and why.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

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
    Studio,
    request_allowed_hubs,
    utcnow,
)
from scheduler.domain import haversine_km
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


def line(requests: Iterable[BookingRequest]) -> list[BookingRequest]:
    """Requests in the order they are served: priority, then waiting time, then id."""
    return sorted(
        (r for r in requests if r is not None),
        key=lambda r: (-r.participant.priority, r.created_at, r.id),
    )


def waiting(week: PlanningWeek, *, after: datetime | None = None) -> list[Waiting]:
    """The week's waiting list in order: open requests short of sessions whose window has not
    passed ``after`` (default now), and that no placement is working on right now."""
    after = after or utcnow()
    served = (
        select(Booking.request_id, func.count().label("n"))
        .where(Booking.planning_week_id == week.id, Booking.status.in_(ACTIVE_STATUSES))
        .where(Booking.request_id.is_not(None))
        .group_by(Booking.request_id)
        .subquery()
    )
    n = func.coalesce(served.c.n, 0)
    rows = db.session.execute(
        select(BookingRequest, Participant, n)
        .join(Participant, Participant.id == BookingRequest.participant_id)
        .outerjoin(served, served.c.request_id == BookingRequest.id)
        .where(BookingRequest.planning_week_id == week.id, BookingRequest.status == "open")
        .where(BookingRequest.window_end > after, n < BookingRequest.sessions)
        .where(
            BookingRequest.placement.is_(None)
            | BookingRequest.placement.not_in(("queued", "running"))
        )
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


def may_use(w: Waiting, hub: Hub, features: list[set[str]], allowed: set[int]) -> bool:
    """Whether the request may be served at ``hub`` (allowed list, distance, features)."""
    r, p = w.request, w.participant
    if not r.any_base and hub.id not in allowed:
        return False
    if r.max_km is not None and haversine_km(p.lat, p.lon, hub.lat, hub.lon) > (
        r.max_km + KM_TOLERANCE
    ):
        return False
    return any(set(r.needs or ()) <= f for f in features)


def waiting_for_hubs(
    week: PlanningWeek, hub_ids: set[int], *, after: datetime | None = None
) -> list[BookingRequest]:
    """The waiting requests that may use one of ``hub_ids``, in line order, nearer first on ties
    of priority and filing time; not those that passed on a proposal there (``_passed``)."""
    passed = _passed(hub_ids)
    rows = [w for w in waiting(week, after=after) if w.request.id not in passed]
    if not rows:
        return []
    hubs, features = _hub_fit(hub_ids)
    allowed = _allowed([w.request.id for w in rows if not w.request.any_base])
    out = []
    for w in rows:
        usable = [
            h for h in hubs.values() if may_use(w, h, features[h.id], allowed.get(w.request.id, set()))
        ]  # fmt: skip
        if usable:
            p = w.participant
            km = min(haversine_km(p.lat, p.lon, h.lat, h.lon) for h in usable)
            out.append((-p.priority, w.request.created_at, km, w.request.id, w.request))
    return [row[-1] for row in sorted(out)]


def for_hub(week: PlanningWeek, hub: Hub) -> list[Waiting]:
    """The waiting list as one base sees it: the requests that may use it, in line order."""
    rows = waiting(week)
    _, features = _hub_fit({hub.id})
    allowed = _allowed([w.request.id for w in rows if not w.request.any_base])
    return [w for w in rows if may_use(w, hub, features[hub.id], allowed.get(w.request.id, set()))]


def place_of(req: BookingRequest) -> Waiting | None:
    """The request's entry on its week's waiting list, or None when it is not waiting."""
    for w in waiting(req.planning_week):
        if w.request.id == req.id:
            return w
    return None


def _passed(hub_ids: set[int]) -> set[int]:
    """Requests whose participant declined, or let lapse, a proposal at one of these bases: a
    refill does not offer them those bases again (they may file again)."""
    return set(
        db.session.scalars(
            select(Booking.request_id)
            .join(AuditEvent, AuditEvent.booking_id == Booking.id)
            .join(BookingSlot, BookingSlot.booking_id == Booking.id)
            .join(Slot, Slot.id == BookingSlot.slot_id)
            .join(Studio, Studio.id == Slot.studio_id)
            .where(AuditEvent.action.in_(("booking.decline", "booking.expire")))
            .where(Studio.hub_id.in_(hub_ids), Booking.request_id.is_not(None))
            .distinct()
        )
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
