"""The job queue: every piece of background work is a ``jobs`` row carried by Huey.

The row is the ledger (status, attempts, heartbeat, error, result); Huey only carries the job's
id to a worker. So a message lost with a killed worker or a restarted Redis never loses the job:
the reaper finds the row and puts it on the queue again.

    enqueue(kind, payload, dedupe_key=None, delay_s=0) -> job id   (after the motivating commit)
    enqueue_with_commit(kind, payload, delay_s=0) -> Job   (inside it: on the queue once it
                                                             commits, never if it rolls back)
    job(job_id) -> the Job row, for status pages and the API
    @task("kind", max_attempts=3, timeout_s=None, release=None)    registers fn(payload) -> dict|None

Running a job is ``execute`` (claim, heartbeat, retry, hand back), finding dead workers'
jobs is ``reaper``, carrying ids to workers is ``transport``.

``QUEUE_URL`` picks the transport: ``redis://...`` (production, tests, CI; many hosts share it),
unset or ``sqlite:///FILE`` (Huey's SQLite storage, default ``<instance>/queue.sqlite``: the demo,
nothing to install), ``eager://`` (the job runs inline in the caller's process right after
enqueue: tests of what a job does). ``QUEUE_NAME`` names the queue (its Redis keys).

A worker claims a row with one conditional UPDATE (queued -> running), so two workers never run
one job twice, and beats its heartbeat every ``JOB_HEARTBEAT_S`` while it runs. A job that
raises is queued again after a back-off while attempts remain, else recorded failed with the
reason. :func:`reap` (each worker's scheduler, the clock) retries or fails the running jobs whose
heartbeat is older than ``JOB_STALE_S`` (the worker died) and calls their task's ``release`` hook,
which frees what the job held (a run's week lock).
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from importlib import import_module

from flask import Flask, current_app, has_app_context
from sqlalchemy import event, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, SessionTransaction

from app.extensions import db
from app.jobs.transport import EagerTransport, HueyTransport, Transport, check_url
from app.models import Job, utcnow
from app.models.vocabulary import JobStatus
from app.observability.logs import current_request_id
from config import settings

log = logging.getLogger("chunlei.jobs")

#: kind -> TaskSpec, filled by the @task decorators of the modules app.jobs.tasks imports.
TASKS: dict[str, TaskSpec] = {}
#: Further clean-ups the reaper runs each time (e.g. releasing the week of a dead CLI run).
REAPERS: list[Callable[[], int]] = []
#: The job this worker is running (set by ``execute.run_job``).
CURRENT_JOB: contextvars.ContextVar[int | None] = contextvars.ContextVar("job", default=None)


@dataclass(frozen=True)
class TaskSpec:
    """A registered kind of job: its function, attempts, time limit and release hook."""

    kind: str
    fn: Callable[[dict], dict | None]
    max_attempts: int = 3
    timeout_s: float | None = None
    # release(job_id, payload, retrying, reason): free what an abnormally ended attempt held.
    release: Callable[[int, dict, bool, str], None] | None = None


def task(
    kind: str,
    *,
    max_attempts: int = 3,
    timeout_s: float | None = None,
    release: Callable[[int, dict, bool, str], None] | None = None,
):
    """Register ``fn(payload) -> dict | None`` as the job kind ``kind``.

    It runs in a worker inside an app context; its return value is stored as the job's result;
    an exception retries it while attempts remain, else records it failed with the reason.
    ``release`` is called when an attempt ends by an exception or a dead worker.
    """
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")

    def register(fn: Callable[[dict], dict | None]):
        known = TASKS.get(kind)
        if known is not None and known.fn is not fn:
            raise ValueError(f"job kind {kind!r} is registered twice")
        TASKS[kind] = TaskSpec(kind, fn, max_attempts, timeout_s, release)
        return fn

    return register


def on_reap(fn: Callable[[], int]) -> Callable[[], int]:
    """Register ``fn() -> count`` to run with every :func:`reap` (a task module's own clean-up)."""
    if fn not in REAPERS:
        REAPERS.append(fn)
    return fn


def current_job_id() -> int | None:
    """The id of the job being run by this worker (None outside a job)."""
    return CURRENT_JOB.get()


def job(job_id: int) -> Job | None:
    """The job's row as stored now."""
    return db.session.get(Job, job_id, populate_existing=True)


def _spec(kind: str) -> TaskSpec:
    spec = TASKS.get(kind)
    if spec is None:
        raise ValueError(f"unknown job kind {kind!r}")
    return spec


def _new_job(kind: str, payload: dict, *, delay_s: float, dedupe_key: str | None = None) -> Job:
    """A queued job row of a registered kind, due after ``delay_s``, carrying the request id
    bound now (the web request's, or the job's that enqueues it) for its logs."""
    spec = _spec(kind)
    now = utcnow()
    return Job(
        kind=kind,
        payload=payload,
        status=JobStatus.QUEUED,
        attempts=0,
        max_attempts=spec.max_attempts,
        dedupe_key=dedupe_key,
        dedupe_lock=dedupe_key,
        enqueued_at=now,
        due_at=now + timedelta(seconds=max(0.0, delay_s)),
        request_id=current_request_id(),
    )


def enqueue(kind: str, payload: dict, *, dedupe_key: str | None = None, delay_s: float = 0) -> int:
    """Record a job (committing the session) and put it on the queue; returns its id.

    Call it after committing the write that motivates it. With ``dedupe_key``, while a job with
    that key is still queued, its id is returned instead of a new job. The job keeps the request
    id bound now (the web request's, or the job's that enqueues it), for its logs.
    """
    _spec(kind)  # an unknown kind is refused before anything is committed
    db.session.commit()
    for _attempt in range(3):
        row = _new_job(kind, payload, delay_s=delay_s, dedupe_key=dedupe_key)
        db.session.add(row)
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            existing = db.session.scalar(select(Job.id).where(Job.dedupe_lock == dedupe_key))
            if existing is not None:
                return existing
            continue  # it started meanwhile: a new job is due
        job_id = row.id
        put(job_id, kind, delay_s=delay_s)
        return job_id
    raise RuntimeError(f"could not enqueue {kind!r} with dedupe key {dedupe_key!r}")


#: session.info keys: jobs recorded in the open transaction; jobs committed, to put on the queue.
_RECORDED, _COMMITTED, _PUTTING = (
    "chunlei.jobs.recorded",
    "chunlei.jobs.committed",
    "chunlei.putting",
)


def enqueue_with_commit(kind: str, payload: dict, *, delay_s: float = 0) -> Job:
    """Record a job in the caller's open transaction (no commit): the transactional outbox.

    The job goes on the queue once that transaction commits, and never exists if it rolls back,
    so work is neither lost after a committed change nor done for a change that was undone. A
    crash between the commit and the put leaves a queued row, which the reaper puts again.
    """
    row = _new_job(kind, payload, delay_s=delay_s)
    db.session.add(row)
    db.session.info.setdefault(_RECORDED, []).append((row, kind, delay_s))
    return row


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    recorded = session.info.pop(_RECORDED, None)
    if not recorded:
        return
    ready = session.info.setdefault(_COMMITTED, [])
    for row, kind, delay_s in recorded:
        identity = inspect(row).identity  # no SQL: the key is known once the row was written
        if identity is not None:  # None: written in a savepoint that was rolled back
            ready.append((identity[0], kind, delay_s))


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(_RECORDED, None)


@event.listens_for(Session, "after_transaction_end")
def _put_committed(session: Session, transaction: SessionTransaction) -> None:
    """Put the committed jobs on the queue once the transaction is over (an eager queue runs
    them here, so never from inside the commit itself, and never re-entrantly)."""
    if transaction.parent is not None or session.info.get(_PUTTING):
        return
    if not session.info.get(_COMMITTED) or not has_app_context():
        return
    session.info[_PUTTING] = True
    try:
        while session.info.get(_COMMITTED):
            job_id, kind, delay_s = session.info[_COMMITTED].pop(0)
            put(job_id, kind, delay_s=delay_s)
    finally:
        session.info.pop(_PUTTING, None)


def put(job_id: int, kind: str, *, delay_s: float = 0) -> None:
    """Put a recorded job's id on the app's queue (again), with its kind's time limit."""
    spec = TASKS.get(kind)
    timeout_s = spec.timeout_s if spec is not None else None
    queue_of(current_app).put(job_id, delay_s=delay_s, timeout_s=timeout_s)


def init_app(app: Flask) -> None:
    """Build the app's transport from ``QUEUE_URL`` and register every task module."""
    import_module("app.jobs.tasks")  # registers every kind of job
    for module in settings(app).JOB_TASK_MODULES:
        import_module(module)

    url = settings(app).QUEUE_URL or None
    check_url(url)
    if url == "eager://":
        transport: Transport = EagerTransport()
    else:
        transport = HueyTransport(app, url, settings(app).QUEUE_NAME)
    app.extensions["chunlei.queue"] = transport


def queue_of(app: Flask) -> Transport:
    """The app's transport."""
    return app.extensions["chunlei.queue"]
