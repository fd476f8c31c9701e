"""The placement jobs' bodies: place the queued requests of a week, refill freed capacity, and
release proposals whose acceptance deadline passed.

``place_queued(week_id)`` claims a small batch of the week's queued requests and places them in
one solve (the next job takes the next batch, on another worker if one is free); ``refill(week_id, hub_ids)``
offers capacity freed at those bases to the best waiting requests (``waitlist.waiting_for_hubs``). Both read
a neighbourhood, solve it with ``scheduler.repair``, and apply the changes in one transaction
(``apply.apply_placement``); when the neighbourhood changed under them they read it again, at
most ``PLACEMENT_ATTEMPTS`` times.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, select, update

from app.extensions import db
from app.models import (
    ACTIVE_STATUSES,
    Booking,
    BookingRequest,
    BookingSlot,
    BookingStatus,
    PlanningWeek,
    Slot,
    SlotHold,
    Studio,
    utcnow,
)
from app.observability import metrics
from app.services.accounts import audit
from app.services.placement import trigger
from app.services.placement.apply import Applied, NeighbourhoodChanged, apply_placement
from app.services.placement.neighbourhood import Neighbourhood, build
from app.services.placement.waitlist import line_codes, waiting_for_hubs
from app.services.webhooks import payloads as webhooks
from app.services.webhooks.events import BOOKING_CANCELLED
from scheduler.domain import Plan
from scheduler.repair import repair

log = logging.getLogger("chunlei.placement")

#: How many of the best waiting requests one refill considers.
REFILL_CANDIDATES = 12


class PlacementFailed(RuntimeError):
    """A placement could not be applied; the message is the reason shown on the request."""


def _settings() -> dict:
    cfg = current_app.config
    return {
        "freeze": timedelta(hours=float(cfg.get("FREEZE_HOURS", 24.0))),
        "ttl": timedelta(hours=float(cfg.get("PROPOSAL_TTL_HOURS", 24.0))),
        "limit": float(cfg.get("PLACEMENT_TIME_LIMIT_S", 1.0)),
        "attempts": max(1, int(cfg.get("PLACEMENT_ATTEMPTS", 3))),
        "max_bases": max(1, int(cfg.get("PLACEMENT_MAX_BASES", 6))),
        "batch": max(1, int(cfg.get("PLACEMENT_BATCH", 3))),
        "tz": cfg.get("TIMEZONE", "Asia/Shanghai"),
    }


def place_queued(week_id: int, *, now: datetime | None = None, final: bool = True) -> dict:
    """Place a few of the week's queued requests (one solve); returns counts for the job.

    A job claims at most ``PLACEMENT_BATCH`` requests, oldest first, and when more are queued it
    enqueues the next job before it solves: twenty requests filed at once are placed by every
    worker side by side in small solves (a solve's cost grows much faster than its batch),
    rather than by one worker in one large solve. Claims are atomic, so two workers never take
    the same request. A failure is re-raised; the requests are queued again for the job's next
    attempt, or, on the ``final`` one, failed with the reason.
    """
    now = now or utcnow()
    s = _settings()
    freed = release_expired(week_id, now=now)
    ids = _claim(week_id, s["batch"], now)
    if ids and _queued(week_id):
        trigger.placement_requested(week_id)
    result: dict[str, object] = {"requests": len(ids), "added": 0, "moved": 0}
    if ids:
        try:
            applied = _place(week_id, ids, only_hubs=None, allow_moves=True, now=now)
        except Exception as e:  # every failure is recorded on the requests, then re-raised
            db.session.rollback()
            reason = (
                str(e) if isinstance(e, PlacementFailed) else f"{type(e).__name__}: {e}"
            ).splitlines()[0][:300]
            _finish(ids, "failed" if final else "queued", reason if final else None)
            raise
        _finish(ids, "done", None)
        result.update(added=len(applied.added), moved=len(applied.moved))
    if freed:
        result["refill"] = refill(week_id, freed, now=now)
    return result


def _queued_ids(week_id: int):
    return (
        select(BookingRequest.id)
        .where(BookingRequest.planning_week_id == week_id)
        .where(BookingRequest.placement == "queued", BookingRequest.status == "open")
    )


def _claim(week_id: int, limit: int, now: datetime) -> list[int]:
    """Mark up to ``limit`` queued requests of the week running (oldest first; commits).

    On PostgreSQL the rows are taken ``FOR UPDATE SKIP LOCKED``, so a second worker claiming at
    the same moment takes the next ones instead of waiting; on SQLite the update's own write lock
    serialises claims. Either way only the rows this update changed are returned.
    """
    pick = _queued_ids(week_id).order_by(BookingRequest.id).limit(limit)
    if db.session.get_bind().dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    ids = list(db.session.scalars(pick))
    claimed: list[int] = []
    if ids:
        claimed = sorted(
            db.session.scalars(
                update(BookingRequest)
                .where(BookingRequest.id.in_(ids), BookingRequest.placement == "queued")
                .values(placement="running", placement_at=now)
                .returning(BookingRequest.id)
            )
        )
    db.session.commit()
    return claimed


def _queued(week_id: int) -> bool:
    """Whether requests of the week still wait to be claimed (ends the read's transaction)."""
    found = db.session.scalar(_queued_ids(week_id).limit(1)) is not None
    db.session.rollback()
    return found


def refill(week_id: int, hub_ids: Iterable[int], *, now: datetime | None = None) -> dict:
    """Offer capacity freed at ``hub_ids`` to the best waiting requests of the week."""
    now = now or utcnow()
    hubs = set(hub_ids) | release_expired(week_id, now=now)
    if not hubs:
        return {"candidates": 0, "added": 0}
    s = _settings()
    week = db.session.get(PlanningWeek, week_id)
    if week is None:
        return {"candidates": 0, "added": 0}
    waiting = waiting_for_hubs(week, hubs, after=now + s["freeze"], limit=REFILL_CANDIDATES)
    chosen = [r.id for r in waiting]
    if not chosen:
        return {"candidates": 0, "added": 0}
    applied = _place(week_id, chosen, only_hubs=hubs, allow_moves=False, now=now)
    placed = {request for _, request in applied.added}
    if placed:
        db.session.execute(
            update(BookingRequest)
            .where(BookingRequest.code.in_(placed))
            .values(placement="done", placement_reason=None, placement_at=now)
        )
        db.session.commit()
    return {"candidates": len(chosen), "added": len(applied.added)}


def _place(
    week_id: int, ids: list[int], *, only_hubs: set[int] | None, allow_moves: bool, now: datetime
) -> Applied:
    """Place what fits with every booking where it is; then, when moves are allowed, the
    requests still short once more, where tentative bookings may move for them.

    The second pass reads the wider area where tentative bookings could move (their own windows
    on the targets' days at the chosen bases) for the short requests alone: a batch of twenty
    never pays for the wide read and model of all twenty, and what the first pass placed is
    already written (a failure of the second pass leaves it, and the short ones wait).
    """
    applied = _place_once(week_id, ids, only_hubs=only_hubs, allow_moves=False, now=now)
    short = _still_short(ids) if allow_moves else []
    if short:
        try:
            more = _place_once(week_id, short, only_hubs=only_hubs, allow_moves=True, now=now)
        except PlacementFailed as e:
            log.info(
                "placement of week %s: moves for %s short requests: %s", week_id, len(short), e
            )
        else:
            applied.added += more.added
            applied.moved += more.moved
    _count_proposals(applied)
    return applied


def _still_short(ids: list[int]) -> list[int]:
    """The open requests among ``ids`` with fewer active sessions than they ask for."""
    served = (
        select(func.count())
        .select_from(Booking)
        .where(Booking.request_id == BookingRequest.id, Booking.status.in_(ACTIVE_STATUSES))
        .scalar_subquery()
    )
    return list(
        db.session.scalars(
            select(BookingRequest.id)
            .where(BookingRequest.id.in_(ids), BookingRequest.status == "open")
            .where(served < BookingRequest.sessions)
            .order_by(BookingRequest.id)
        )
    )


def _place_once(
    week_id: int, ids: list[int], *, only_hubs: set[int] | None, allow_moves: bool, now: datetime
) -> Applied:
    """Read, solve, apply; read again when the neighbourhood changed under the solve."""
    s = _settings()
    order = line_codes(ids)
    for attempt in range(s["attempts"]):
        week = db.session.get(PlanningWeek, week_id)
        if week is None:
            raise PlacementFailed(f"planning week {week_id} does not exist")
        nb, plan = _solve(week, ids, order, s, only_hubs=only_hubs, allow_moves=allow_moves,
                          now=now)  # fmt: skip
        targets = [c for c in order if c in nb.targets]
        if not plan.stats.get("new_sessions"):
            db.session.rollback()
            return Applied()
        try:
            applied = apply_placement(db.session, nb, plan, now=now, ttl=s["ttl"])
            db.session.commit()
        except NeighbourhoodChanged as e:
            db.session.rollback()
            log.info("placement of week %s: %s (attempt %s)", week_id, e, attempt + 1)
            continue
        log.info(
            "placement of week %s: %s requests, %s proposed, %s moved in %.2fs%s",
            week_id, len(targets), len(applied.added), len(applied.moved),
            plan.stats.get("wall_s", 0), " (moves allowed)" if allow_moves else "",
        )  # fmt: skip
        return applied
    metrics.placement_ended("failed")
    raise PlacementFailed(
        f"the week kept changing under the placement ({s['attempts']} attempts); "
        "the request stays on the waiting list"
    )


def _count_proposals(applied: Applied) -> None:
    """The placement's outcome, and each proposal's time since its request was filed."""
    metrics.placement_ended("placed" if applied.added else "unplaced")
    codes = {request for _, request in applied.added}
    if not codes:
        return
    filed = dict(
        db.session.execute(
            select(BookingRequest.code, BookingRequest.created_at).where(
                BookingRequest.code.in_(codes)
            )
        )
        .tuples()
        .all()
    )
    proposed_at = utcnow()
    for _, request in applied.added:
        if request in filed:
            metrics.proposal_made(filed[request], proposed_at)
    db.session.rollback()  # a read after the commit: end its transaction


def _solve(
    week: PlanningWeek,
    ids: list[int],
    order: list[str],
    s: dict,
    *,
    only_hubs: set[int] | None,
    allow_moves: bool,
    now: datetime,
) -> tuple[Neighbourhood, Plan]:
    """Read the requests' neighbourhood and repair it (tentative bookings move if allowed)."""
    nb = build(
        db.session,
        week,
        ids,
        freeze_until=now + s["freeze"],
        timezone=s["tz"],
        max_bases=s["max_bases"],
        only_hubs=only_hubs,
        allow_moves=allow_moves,
    )
    targets = [c for c in order if c in nb.targets]
    plan = repair(nb.instance, targets, time_limit_s=s["limit"], movable=nb.movable, order=targets)
    return nb, plan


def release_running(week_id: int, *, retrying: bool, reason: str) -> None:
    """After a placement's worker died: its running requests queued again, or failed."""
    db.session.rollback()
    values = {"placement": "queued", "placement_reason": None}
    if not retrying:
        values = {"placement": "failed", "placement_reason": reason[:300]}
    db.session.execute(
        update(BookingRequest)
        .where(BookingRequest.planning_week_id == week_id, BookingRequest.placement == "running")
        .values(placement_at=utcnow(), **values)
    )
    db.session.commit()


def _finish(ids: list[int], state: str, reason: str | None) -> None:
    db.session.execute(
        update(BookingRequest)
        .where(BookingRequest.id.in_(ids), BookingRequest.placement == "running")
        .values(placement=state, placement_reason=reason, placement_at=utcnow())
    )
    db.session.commit()


def release_expired(week_id: int | None = None, *, now: datetime | None = None) -> set[int]:
    """Release proposals past their acceptance deadline (commits); returns the freed bases."""
    now = now or utcnow()
    stmt = select(Booking).where(
        Booking.status == "tentative", Booking.expires_at.is_not(None), Booking.expires_at < now
    )
    if week_id is not None:
        stmt = stmt.where(Booking.planning_week_id == week_id)
    overdue = list(db.session.scalars(stmt.with_for_update(skip_locked=True)))
    if not overdue:
        db.session.rollback()
        return set()
    ids = [b.id for b in overdue]
    hubs = set(
        db.session.scalars(
            select(Studio.hub_id)
            .join(Slot, Slot.studio_id == Studio.id)
            .join(SlotHold, SlotHold.slot_id == Slot.id)
            .where(SlotHold.booking_id.in_(ids))
        )
    )
    db.session.execute(delete(SlotHold).where(SlotHold.booking_id.in_(ids)))
    db.session.execute(
        update(BookingSlot)
        .where(BookingSlot.booking_id.in_(ids), BookingSlot.released_at.is_(None))
        .values(released_at=now)
    )
    for b in overdue:
        b.status = BookingStatus.CANCELLED
        b.cancelled_at = now
        b.updated_at = now
        audit.record("booking.expire", actor_kind="optimizer", booking=b)
        webhooks.booking_event(BOOKING_CANCELLED, b, expired=True)
    db.session.commit()
    return hubs


def release_all_expired(now: datetime | None = None) -> dict[int, set[int]]:
    """Every week's overdue proposals released; the freed bases per week (for the clock)."""
    now = now or utcnow()
    weeks = set(
        db.session.scalars(
            select(Booking.planning_week_id).where(
                Booking.status == "tentative", Booking.expires_at < now
            )
        )
    )
    return {w: hubs for w in sorted(weeks) if (hubs := release_expired(w, now=now))}
