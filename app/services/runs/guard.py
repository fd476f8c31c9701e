"""The database's word on who may run: one run of a week at a time, one nightly run per night.

A run starts by inserting its row with two unique keys, committed before any work:

* ``lock_key = "week:<id>"`` while it is in progress (cleared when it ends), so two
  ``reoptimize`` commands, a button press and the nightly job never work on one week at once;
* ``run_key = "nightly:<week>:<night>"`` for the nightly job, kept for good, so a second
  scheduler process started by mistake finds the night taken even after the first run ended.

The loser of either race gets an IntegrityError from the database (PostgreSQL and SQLite
alike), records a ``skipped`` run naming the holder, and ends cleanly. A holder whose heartbeat
stopped (its process died) is marked failed and its lock released, so a crash never blocks a
week for good. ``bookings_fingerprint`` is the optimistic check of the apply step: equal
fingerprints mean nobody booked, moved or cancelled anything in the week meanwhile.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from app.extensions import db
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
        run = OptimizationRun(
            planning_week_id=week.id,
            kind=trigger,
            state="running",
            actor_user_id=actor.id if actor is not None else None,
            actor_label=actor_label,
            started_at=now,
            heartbeat_at=now,
            run_key=run_key,
            lock_key=week_lock_key(week),
            progress={"phase": "starting"},
            scope_bases=sorted(scope_bases) if scope_bases is not None else None,
        )
        db.session.add(run)
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
        if attempt == 1 and _abandon_if_stale(holder):
            continue
        reason = f"run #{holder.id} of this week is in progress"
        return _skipped(week, trigger, actor, actor_label, reason), False
    reason = "another run of this week holds the lock"
    return _skipped(week, trigger, actor, actor_label, reason), False


def _skipped(
    week: PlanningWeek, trigger: str, actor: User | None, actor_label: str | None, reason: str
) -> OptimizationRun:
    now = utcnow()
    log.info("run of week %s skipped: %s", week.week_start, reason)
    run = OptimizationRun(
        planning_week_id=week.id,
        kind=trigger,
        state="skipped",
        actor_user_id=actor.id if actor is not None else None,
        actor_label=actor_label,
        started_at=now,
        finished_at=now,
        message=reason,
    )
    db.session.add(run)
    db.session.commit()
    return run


def stale_after() -> timedelta:
    """How long a running run may stay silent before it counts as dead."""
    return timedelta(seconds=float(current_app.config.get("RUN_STALE_S", 900)))


def _abandon_if_stale(holder: OptimizationRun) -> bool:
    """Mark a silent holder failed and release its lock; True if it was stale."""
    beat = holder.heartbeat_at or holder.started_at
    if utcnow() - beat < stale_after():
        return False
    done = db.session.execute(
        update(OptimizationRun)
        .where(OptimizationRun.id == holder.id, OptimizationRun.lock_key.is_not(None))
        .where(OptimizationRun.heartbeat_at == holder.heartbeat_at)
        .values(
            state="failed",
            lock_key=None,
            finished_at=utcnow(),
            message=f"abandoned: no sign of life since {beat.isoformat()}",
        )
    ).rowcount
    db.session.commit()
    log.warning("run #%s abandoned (silent since %s); lock released", holder.id, beat)
    return bool(done)


def heartbeat(run_id: int, progress: dict | None = None) -> None:
    """Store a sign of life (and the solver's progress) for the UI and the stale check.

    Best effort: a missed beat only delays the progress shown.
    """
    values: dict = {"heartbeat_at": utcnow()}
    if progress is not None:
        values["progress"] = progress
    try:
        db.session.execute(
            update(OptimizationRun)
            .where(OptimizationRun.id == run_id, OptimizationRun.state == "running")
            .values(**values)
        )
        db.session.commit()
    except SQLAlchemyError:  # a busy or briefly unreachable database must not stop the solve
        db.session.rollback()
        log.debug("run #%s: heartbeat not stored this time", run_id, exc_info=True)


def finish(run: OptimizationRun, state: str, message: str) -> OptimizationRun:
    """End a run (not committed): its state, one-line message, end time; release the lock."""
    run.state = state
    run.message = message
    run.finished_at = utcnow()
    run.lock_key = None
    return run


def fail(run_id: int, reason: str) -> OptimizationRun | None:
    """Record a run as failed with ``reason`` after a rollback; commits in a fresh transaction."""
    db.session.rollback()
    run = db.session.get(OptimizationRun, run_id)
    if run is None:
        return None
    if run.state == "running":
        finish(run, "failed", reason)
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
