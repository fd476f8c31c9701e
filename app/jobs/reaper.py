"""The reaper: jobs whose worker died are retried or failed, lost messages are put again.

Every worker runs it at start and every ``JOB_REAP_S`` (from Huey's scheduler process), and so
does the clock; each change is a conditional UPDATE, so any number may run at once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import select, update

from app.extensions import db, rowcount
from app.jobs.execute import release_held
from app.jobs.queue import REAPERS, TASKS, put, queue_of
from app.models import Job, utcnow
from app.models.vocabulary import JobStatus

log = logging.getLogger("chunlei.jobs")


def reap(now: datetime | None = None) -> dict:
    """Retry or fail the jobs whose worker died; put lost queued jobs on the queue again.

    Safe to run from any number of processes at once: each change is a conditional UPDATE.
    Then runs every :data:`REAPERS` clean-up. Returns counts ``{"retried", "failed",
    "requeued", "released"}``.
    """
    cfg = current_app.config
    now = now or utcnow()
    stale = now - timedelta(seconds=float(cfg["JOB_STALE_S"]))
    counts = {"retried": 0, "failed": 0, "requeued": 0, "released": 0}
    dead = db.session.execute(
        select(
            Job.id,
            Job.kind,
            Job.payload,
            Job.attempts,
            Job.max_attempts,
            Job.worker,
            Job.heartbeat_at,
        )
        .where(Job.status == JobStatus.RUNNING, Job.heartbeat_at < stale)
        .order_by(Job.id)
    ).all()
    db.session.rollback()
    transport = queue_of(current_app)
    for job_id, kind, payload, attempts, max_attempts, worker, beat in dead:
        last = transport.last_beat(job_id)
        if last is not None and last >= stale.timestamp():
            continue  # alive: its row could not be written (a long transaction holds the database)
        retrying = attempts < max_attempts
        reason = f"worker died: {worker} gave no sign of life since {beat.isoformat()}"
        # Take the job first (a fresh mark no other reaper matches, and not claimable while
        # still running), then free what it held, then queue or fail it.
        taken = rowcount(
            db.session.execute(
                update(Job)
                .where(Job.id == job_id, Job.status == JobStatus.RUNNING, Job.heartbeat_at == beat)
                .values(heartbeat_at=now)
            )
        )
        db.session.commit()
        if not taken:
            continue
        release_held(TASKS.get(kind), job_id, payload, retrying, reason)
        values: dict[str, Any] = {"error": f"attempt {attempts} of {max_attempts}: {reason}"}
        if retrying:
            values.update(status=JobStatus.QUEUED, due_at=now)
        else:
            values.update(status=JobStatus.FAILED, finished_at=now, error=reason)
        ended = rowcount(
            db.session.execute(
                update(Job)
                .where(Job.id == job_id, Job.status == JobStatus.RUNNING)
                .values(**values)
            )
        )
        db.session.commit()
        if not ended:  # it finished after all: nothing to retry
            continue
        log.warning("job #%s %s: %s", job_id, "retried" if retrying else "failed", reason)
        if retrying:
            counts["retried"] += 1
            put(job_id, kind)
        else:
            counts["failed"] += 1
    # Queued rows overdue while the queue is empty lost their message (a Redis restart, a
    # crash between commit and put): put them again. A duplicate message is harmless.
    if transport.pending() == 0:
        lost = db.session.execute(
            select(Job.id, Job.kind)
            .where(Job.status == JobStatus.QUEUED, Job.due_at < stale)
            .order_by(Job.id)
        ).all()
        db.session.rollback()
        for job_id, kind in lost:
            put(job_id, kind)
            counts["requeued"] += 1
    for clean_up in REAPERS:
        try:
            counts["released"] += int(clean_up() or 0)
        except Exception:
            db.session.rollback()
            log.exception("reaper %s failed", getattr(clean_up, "__name__", clean_up))
    return counts


def reap_all(_app: Flask | None = None) -> dict:
    """The clock's periodic reaper job (``app.jobs.clock.JOBS``): :func:`reap`, logged."""
    counts = reap()
    if any(counts.values()):
        log.info("reaper: %s", counts)
    return counts
