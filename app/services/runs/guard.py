"""The database's word on who may run: one run of a week at a time, one nightly run per night.

A run starts by inserting its row with two unique keys, committed before any work:

* ``lock_key = "week:<id>"`` while it is in progress (cleared when it ends), so two
  ``reoptimize`` commands, a button press and the nightly job never work on one week at once;
* ``run_key = "nightly:<week>:<night>"`` for the nightly job, kept for good, so a second
  scheduler process started by mistake finds the night taken even after the first run ended.

The loser of either race gets an IntegrityError from the database (PostgreSQL and SQLite
alike), records a ``skipped`` run naming the holder, and ends cleanly. A holder that stopped
beating its heartbeat (``runs.liveness``) is abandoned and its week taken over.

A run started through the job queue is first recorded ``queued`` (:func:`queue_run`, which
already takes the nightly key) and claims the week when a worker picks it up
(:func:`claim_queued`); if its worker dies, :func:`release_run` frees the week.
``bookings_fingerprint`` is the optimistic check of the apply step: equal fingerprints mean
nobody booked, moved or cancelled anything in the week meanwhile.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db, rowcount
from app.models import (
    ACTIVE_STATUSES,
    Booking,
    BookingSlot,
    OptimizationRun,
    PlanningWeek,
    Slot,
    User,
    utcnow,
)
from app.models.vocabulary import RunState
from app.services.runs.liveness import abandon_if_stale
from app.services.webhooks import payloads as webhooks

log = logging.getLogger("chunlei.runs")


def week_lock_key(week: PlanningWeek) -> str:
    """The lock a run of ``week`` holds while in progress."""
    return f"week:{week.id}"


def nightly_run_key(week: PlanningWeek, night: str) -> str:
    """The key of the nightly run of ``week`` for the night ``night`` (a local date)."""
    return f"nightly:{week.week_start.isoformat()}:{night}"


def claim(
    week: PlanningWeek,
    *,
    trigger: str,
    actor: User | None,
    actor_label: str | None,
    run_key: str | None = None,
    now: datetime | None = None,
    scope_bases: list[str] | None = None,
) -> tuple[OptimizationRun, bool]:
    """Insert and commit a running run holding the week's lock; or a skipped one saying why.

    ``scope_bases`` (base codes) limits what the run may change; ``None`` is the whole week.
    Returns the run and whether it was granted.
    """
    for attempt in (1, 2):
        now = now or utcnow()
        run = _new_run(
            week,
            trigger,
            actor,
            actor_label,
            RunState.RUNNING,
            started_at=now,
            heartbeat_at=now,
            run_key=run_key,
            lock_key=week_lock_key(week),
            progress={"phase": "starting"},
            scope_bases=sorted(scope_bases) if scope_bases is not None else None,
        )
        try:
            db.session.commit()
            return run, True
        except IntegrityError:
            db.session.rollback()
        if run_key is not None:
            taken = db.session.scalar(
                select(OptimizationRun).where(OptimizationRun.run_key == run_key)
            )
            if taken is not None:
                reason = f"run #{taken.id} already took the nightly run {run_key}"
                return _skipped(week, trigger, actor, actor_label, reason), False
        holder = db.session.scalar(
            select(OptimizationRun).where(OptimizationRun.lock_key == week_lock_key(week))
        )
        if holder is None:  # released between our insert and our look: try again
            continue
        if attempt == 1 and abandon_if_stale(holder):
            continue
        reason = f"run #{holder.id} of this week is in progress"
        return _skipped(week, trigger, actor, actor_label, reason), False
    reason = "another run of this week holds the lock"
    return _skipped(week, trigger, actor, actor_label, reason), False


def queue_run(
    week: PlanningWeek,
    *,
    trigger: str,
    actor: User | None,
    actor_label: str | None,
    run_key: str | None = None,
    scope_bases: list[str] | None = None,
) -> tuple[OptimizationRun, bool]:
    """Record a ``queued`` run (committed) that a worker will carry out; with ``run_key``, a
    night already taken gives a ``skipped`` run instead. Returns the run and whether it queued.
    """
    run = _new_run(
        week,
        trigger,
        actor,
        actor_label,
        RunState.QUEUED,
        started_at=utcnow(),
        run_key=run_key,
        progress={"phase": "queued"},
        scope_bases=sorted(scope_bases) if scope_bases is not None else None,
    )
    try:
        db.session.commit()
        return run, True
    except IntegrityError:
        db.session.rollback()
    taken = db.session.scalar(select(OptimizationRun).where(OptimizationRun.run_key == run_key))
    reason = f"run #{taken.id if taken else '?'} already took the nightly run {run_key}"
    return _skipped(week, trigger, actor, actor_label, reason), False


def claim_queued(run_id: int, *, job_id: int | None = None) -> tuple[OptimizationRun | None, bool]:
    """Turn a queued run into the running holder of its week's lock, or a skipped one saying why.

    Returns the run (``None`` if it no longer exists) and whether it was granted; a run no
    longer queued is not granted.
    """
    for attempt in (1, 2):
        run = db.session.get(OptimizationRun, run_id, populate_existing=True)
        if run is None or run.state != RunState.QUEUED:
            return run, False
        week = db.session.get_one(PlanningWeek, run.planning_week_id)
        now = utcnow()
        try:
            granted = rowcount(
                db.session.execute(
                    update(OptimizationRun)
                    .where(OptimizationRun.id == run_id, OptimizationRun.state == RunState.QUEUED)
                    .values(
                        state=RunState.RUNNING,
                        lock_key=week_lock_key(week),
                        started_at=now,
                        heartbeat_at=now,
                        job_id=job_id,
                        message=None,
                        progress={"phase": "starting"},
                    )
                )
            )
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            granted = None
        if granted is not None:
            run = db.session.get_one(OptimizationRun, run_id, populate_existing=True)
            return run, bool(granted)
        holder = db.session.scalar(
            select(OptimizationRun).where(OptimizationRun.lock_key == week_lock_key(week))
        )
        if holder is None or (attempt == 1 and abandon_if_stale(holder)):
            continue
        reason = f"run #{holder.id} of this week is in progress"
        break
    else:
        reason = "another run of this week holds the lock"
    run = db.session.get_one(OptimizationRun, run_id, populate_existing=True)
    if run.state == RunState.QUEUED:
        run.state = RunState.SKIPPED
        run.message = reason
        run.finished_at = utcnow()
        run.progress = {"phase": "done"}
        db.session.commit()
        log.info("run #%s of week %s skipped: %s", run.id, run.planning_week_id, reason)
    return run, False


def release_run(run_id: int, *, retrying: bool, reason: str) -> None:
    """Free the week of a queued run whose job attempt ended abnormally (its worker died or
    stopped): the run goes back to ``queued`` for the next attempt, or fails with ``reason``.
    A run that already ended is left as it is.
    """
    run = db.session.get(OptimizationRun, run_id, populate_existing=True)
    if run is None or run.state not in (RunState.QUEUED, RunState.RUNNING):
        db.session.rollback()
        return
    if retrying:
        run.state = RunState.QUEUED
        run.lock_key = None
        run.message = f"{reason}; queued again"
        run.progress = {"phase": "queued"}
    else:
        finish(run, RunState.FAILED, reason)
        run.progress = {**(run.progress or {}), "phase": "done"}
    db.session.commit()
    log.warning("run #%s %s: %s", run_id, "queued again" if retrying else "failed", reason)


def _skipped(
    week: PlanningWeek, trigger: str, actor: User | None, actor_label: str | None, reason: str
) -> OptimizationRun:
    now = utcnow()
    log.info("run of week %s skipped: %s", week.week_start, reason)
    run = _new_run(
        week, trigger, actor, actor_label, RunState.SKIPPED,
        started_at=now, finished_at=now, message=reason,
    )  # fmt: skip
    db.session.commit()
    return run


def _new_run(
    week: PlanningWeek,
    trigger: str,
    actor: User | None,
    actor_label: str | None,
    state: RunState,
    **fields: Any,
) -> OptimizationRun:
    """A run of ``week`` in ``state``, added to the session (not committed)."""
    run = OptimizationRun(
        planning_week_id=week.id,
        kind=trigger,
        state=state,
        actor_user_id=actor.id if actor is not None else None,
        actor_label=actor_label,
        **fields,
    )
    db.session.add(run)
    return run


def finish(run: OptimizationRun, state: RunState, message: str) -> OptimizationRun:
    """End a run (not committed): its state, one-line message, end time; release the lock."""
    run.state = state
    run.message = message
    run.finished_at = utcnow()
    run.lock_key = None
    webhooks.run_ended(run)
    return run


def fail(run_id: int, reason: str) -> OptimizationRun | None:
    """Record a run as failed with ``reason`` after a rollback; commits in a fresh transaction."""
    db.session.rollback()
    run = db.session.get(OptimizationRun, run_id)
    if run is None:
        return None
    if run.state == RunState.RUNNING:
        finish(run, RunState.FAILED, reason)
        db.session.commit()
    log.warning("run #%s failed: %s", run_id, reason)
    return run


def bookings_fingerprint(week: PlanningWeek) -> str:
    """A digest of the week's active bookings (code, status, slots): equal means unchanged."""
    rows = db.session.execute(
        select(Booking.code, Booking.status, BookingSlot.position, Slot.code)
        .join(BookingSlot, BookingSlot.booking_id == Booking.id)
        .join(Slot, Slot.id == BookingSlot.slot_id)
        .where(Booking.planning_week_id == week.id, Booking.status.in_(ACTIVE_STATUSES))
        .where(BookingSlot.released_at.is_(None))
        .order_by(Booking.code, BookingSlot.position)
    )
    digest = hashlib.sha256()
    for code, status, position, slot in rows:
        digest.update(f"{code}|{status}|{position}|{slot}\n".encode())
    return digest.hexdigest()
