"""Signs of life of a run in progress, and the runs that gave none.

The process carrying a run out beats its heartbeat every ``RUN_HEARTBEAT_S`` from a thread of
its own (:class:`Heartbeat`) and stores the solver's progress with it (:func:`heartbeat`). A
holder silent for ``RUN_STALE_S`` (its process died) is marked failed and its week's lock
released (:func:`abandon_if_stale`, :func:`release_dead_runs`), so a crash blocks a week for
seconds, not for good.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db, rowcount
from app.models import OptimizationRun, utcnow
from app.models.vocabulary import JobStatus, RunState
from app.services.webhooks import payloads as webhooks
from config import settings

log = logging.getLogger("chunlei.runs")


def stale_after() -> timedelta:
    """How long a running run may stay silent before it counts as dead."""
    return timedelta(seconds=settings().RUN_STALE_S)


def abandon_if_stale(holder: OptimizationRun) -> bool:
    """Mark a silent holder failed and release its lock; True if it was stale."""
    beat = holder.heartbeat_at or holder.started_at
    if utcnow() - beat < stale_after():
        return False
    message = (
        f"abandoned: no sign of life since {beat.isoformat()} (the process carrying it out stopped)"
    )
    done = rowcount(
        db.session.execute(
            update(OptimizationRun)
            .where(OptimizationRun.id == holder.id, OptimizationRun.lock_key.is_not(None))
            .where(OptimizationRun.heartbeat_at == holder.heartbeat_at)
            .values(state=RunState.FAILED, lock_key=None, finished_at=utcnow(), message=message)
        )
    )
    if done:
        webhooks.run_ended(holder, state=RunState.FAILED, message=message)
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
            .where(OptimizationRun.id == run_id, OptimizationRun.state == RunState.RUNNING)
            .values(**values)
        )
        db.session.commit()
    except SQLAlchemyError:  # a busy or briefly unreachable database must not stop the solve
        db.session.rollback()
        log.debug("run #%s: heartbeat not stored this time", run_id, exc_info=True)


class Heartbeat:
    """While a run is carried out, a thread of the same process beats its heartbeat every
    ``RUN_HEARTBEAT_S`` on a connection of its own, whatever the run is doing (reading the week,
    waiting for the solver, applying): silence then means the process is gone.

    On an in-memory SQLite database (one shared connection, tests) no thread is started; the
    solver's progress still beats.
    """

    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        self.app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]  # current_app is a LocalProxy
        self.every = settings(self.app).RUN_HEARTBEAT_S
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Heartbeat:
        url = db.engine.url
        if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
            return self
        self._thread = threading.Thread(target=self._run, name=f"run-{self.run_id}-beat")
        self._thread.daemon = True  # never keeps a dying process alive
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        with self.app.app_context():
            engine = db.engine
            while not self._stop.wait(self.every):
                try:
                    with engine.begin() as conn:
                        conn.execute(
                            update(OptimizationRun)
                            .where(OptimizationRun.id == self.run_id)
                            .where(OptimizationRun.state == RunState.RUNNING)
                            .values(heartbeat_at=utcnow())
                        )
                except SQLAlchemyError:  # busy: the next beat tries again
                    log.debug("run #%s: heartbeat not stored", self.run_id, exc_info=True)


def release_dead_runs(now: datetime | None = None) -> int:
    """Fail every running run silent for ``RUN_STALE_S`` and release its week; returns how many.

    Runs of a job still marked running are left to the job reaper (it may retry them).
    """
    from app.models import Job

    now = now or utcnow()
    silent = db.session.scalars(
        select(OptimizationRun)
        .outerjoin(Job, Job.id == OptimizationRun.job_id)
        .where(OptimizationRun.state == RunState.RUNNING, OptimizationRun.lock_key.is_not(None))
        .where(OptimizationRun.heartbeat_at < now - stale_after())
        .where((Job.id.is_(None)) | (Job.status != JobStatus.RUNNING))
    ).all()
    db.session.rollback()
    return sum(abandon_if_stale(run) for run in silent)
