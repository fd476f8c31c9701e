"""The job queue: every piece of background work is a ``jobs`` row carried by Huey.

The row is the ledger (status, attempts, heartbeat, error, result); Huey only carries the job's
id to a worker. So a message lost with a killed worker or a restarted Redis never loses the job:
the reaper finds the row and puts it on the queue again.

    enqueue(kind, payload, dedupe_key=None, delay_s=0) -> job id   (after the motivating commit)
    job(job_id) -> the Job row, for status pages and the API
    @task("kind", max_attempts=3, timeout_s=None, release=None)    registers fn(payload) -> dict|None

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
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Job, utcnow

log = logging.getLogger("chunlei.jobs")

#: kind -> TaskSpec, filled by the @task decorators of the modules app.jobs.tasks imports.
TASKS: dict[str, TaskSpec] = {}
#: Further clean-ups the reaper runs each time (e.g. releasing the week of a dead CLI run).
REAPERS: list[Callable[[], int]] = []
_current_job: contextvars.ContextVar[int | None] = contextvars.ContextVar("job", default=None)
#: A message may arrive this early (clocks of two hosts) and still be run.
_DUE_SLACK = timedelta(seconds=2)


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
    return _current_job.get()


def job(job_id: int) -> Job | None:
    """The job's row as stored now."""
    return db.session.get(Job, job_id, populate_existing=True)


def enqueue(kind: str, payload: dict, *, dedupe_key: str | None = None, delay_s: float = 0) -> int:
    """Record a job (committing the session) and put it on the queue; returns its id.

    Call it after committing the write that motivates it. With ``dedupe_key``, while a job with
    that key is still queued, its id is returned instead of a new job.
    """
    spec = TASKS.get(kind)
    if spec is None:
        raise ValueError(f"unknown job kind {kind!r}")
    db.session.commit()
    for _attempt in range(3):
        now = utcnow()
        row = Job(
            kind=kind,
            payload=payload,
            status="queued",
            attempts=0,
            max_attempts=spec.max_attempts,
            dedupe_key=dedupe_key,
            dedupe_lock=dedupe_key,
            enqueued_at=now,
            due_at=now + timedelta(seconds=max(0.0, delay_s)),
        )
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
        queue_of(current_app).put(job_id, delay_s=delay_s)
        return job_id
    raise RuntimeError(f"could not enqueue {kind!r} with dedupe key {dedupe_key!r}")


# --- running a job -------------------------------------------------------------------------


def worker_name() -> str:
    """This process as "host:pid", recorded on the jobs it runs."""
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


def run_job(job_id: int, *, beat: bool = True, due_now: bool = False) -> str | None:
    """Claim and run one job in the current app context; returns its status after, or None
    when it was not ours to run (already running, finished, or not yet due).

    A ``KeyboardInterrupt`` (the worker stopping) hands the job back to the queue and re-raises.
    ``due_now`` runs a delayed job at once (eager mode).
    """
    me = worker_name()
    now = utcnow()
    due = Job.due_at <= now + _DUE_SLACK if not due_now else Job.id == job_id
    claimed = db.session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == "queued", due)
        .values(
            status="running",
            attempts=Job.attempts + 1,
            worker=me,
            started_at=now,
            heartbeat_at=now,
            dedupe_lock=None,
        )
    ).rowcount
    db.session.commit()
    if not claimed:
        return None
    row = db.session.get(Job, job_id, populate_existing=True)
    attempt, kind, payload = row.attempts, row.kind, dict(row.payload or {})
    spec = TASKS.get(kind)
    if spec is None:
        return _finish(job_id, attempt, "failed", error=f"no task is registered for {kind!r}")
    log.info("job #%s %s: attempt %s of %s", job_id, kind, attempt, spec.max_attempts)
    heartbeat = _Heartbeat(current_app._get_current_object(), job_id, me) if beat else None
    token = _current_job.set(job_id)
    try:
        result = spec.fn(payload)
    except KeyboardInterrupt:
        db.session.rollback()
        _hand_back(spec, job_id, payload, attempt)
        raise
    except Exception as e:
        db.session.rollback()
        reason = _reason(e)
        log.warning("job #%s %s attempt %s failed: %s", job_id, kind, attempt, reason)
        return _retry_or_fail(spec, job_id, payload, attempt, reason)
    finally:
        _current_job.reset(token)
        if heartbeat is not None:
            heartbeat.stop()
    db.session.rollback()  # anything the task left uncommitted is not part of its result
    if result is not None and not isinstance(result, dict):
        result = {"value": result}
    return _finish(job_id, attempt, "done", result=result)


def _reason(e: BaseException) -> str:
    text = f"{type(e).__name__}: {e}".strip().splitlines()
    return (text[0] if text else type(e).__name__)[:500]


def _finish(
    job_id: int, attempt: int, status: str, *, error: str | None = None, result=None
) -> str | None:
    """Record the end of our attempt, unless the job was declared dead and moved on meanwhile."""
    values: dict[str, Any] = {"status": status, "finished_at": utcnow(), "heartbeat_at": utcnow()}
    if error is not None:
        values["error"] = error
    if result is not None:
        values["result"] = result
    done = db.session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == "running", Job.attempts == attempt)
        .where(Job.worker == worker_name())
        .values(**values)
    ).rowcount
    db.session.commit()
    if not done:
        log.warning("job #%s: attempt %s ended after it was declared dead", job_id, attempt)
        return None
    log.info("job #%s %s%s", job_id, status, f": {error}" if error else "")
    return status


def _retry_or_fail(
    spec: TaskSpec, job_id: int, payload: dict, attempt: int, reason: str
) -> str | None:
    retrying = attempt < spec.max_attempts
    _release(spec, job_id, payload, retrying, reason)
    if not retrying:
        return _finish(job_id, attempt, "failed", error=reason)
    delay = float(current_app.config.get("JOB_RETRY_DELAY_S", 5.0)) * attempt
    done = db.session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == "running", Job.attempts == attempt)
        .values(
            status="queued",
            error=f"attempt {attempt} of {spec.max_attempts}: {reason}"[:1000],
            due_at=utcnow() + timedelta(seconds=delay),
        )
    ).rowcount
    db.session.commit()
    if done:
        queue_of(current_app).put(job_id, delay_s=delay)
    return "queued" if done else None


def _hand_back(spec: TaskSpec, job_id: int, payload: dict, attempt: int) -> None:
    """The worker is stopping mid-job: queue the job again without counting the attempt."""
    reason = "the worker stopped during the job; it was handed back to the queue"
    _release(spec, job_id, payload, True, reason)
    done = db.session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == "running", Job.attempts == attempt)
        .values(status="queued", attempts=attempt - 1, error=reason, due_at=utcnow())
    ).rowcount
    db.session.commit()
    transport = queue_of(current_app)
    if done and not transport.eager:
        transport.put(job_id)
    log.warning("job #%s handed back: the worker is stopping", job_id)


def _release(
    spec: TaskSpec | None, job_id: int, payload: dict, retrying: bool, reason: str
) -> None:
    if spec is None or spec.release is None:
        return
    try:
        spec.release(job_id, dict(payload or {}), retrying, reason)
    except Exception:
        db.session.rollback()
        log.exception("job #%s: releasing what it held failed", job_id)


class _Heartbeat:
    """A thread of the worker beating the running job's heartbeat: on the queue's own storage
    (Redis, or Huey's SQLite file), which a long write transaction in the database never
    blocks, and on the job's row (its own connection, best effort)."""

    def __init__(self, app: Flask, job_id: int, worker: str) -> None:
        self.app, self.job_id, self.worker = app, job_id, worker
        self.every = float(app.config.get("JOB_HEARTBEAT_S", 2.0))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"job-{job_id}-beat", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        with self.app.app_context():
            engine = db.engine
            transport = queue_of(self.app)
            while not self._stop.wait(self.every):
                transport.beat(self.job_id)
                try:
                    with engine.begin() as conn:
                        conn.execute(
                            update(Job)
                            .where(Job.id == self.job_id, Job.status == "running")
                            .where(Job.worker == self.worker)
                            .values(heartbeat_at=utcnow())
                        )
                except Exception:  # a busy database delays one beat; the next one tries again
                    log.debug("job #%s: heartbeat not stored", self.job_id, exc_info=True)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        queue_of(self.app).beat(self.job_id, done=True)


# --- the reaper ----------------------------------------------------------------------------


def reap(now: datetime | None = None) -> dict:
    """Retry or fail the jobs whose worker died; put lost queued jobs on the queue again.

    Safe to run from any number of processes at once: each change is a conditional UPDATE.
    Then runs every :data:`REAPERS` clean-up. Returns counts ``{"retried", "failed",
    "requeued", "released"}``.
    """
    cfg = current_app.config
    now = now or utcnow()
    stale = now - timedelta(seconds=float(cfg.get("JOB_STALE_S", 15.0)))
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
        .where(Job.status == "running", Job.heartbeat_at < stale)
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
        _release(TASKS.get(kind), job_id, payload, retrying, reason)
        values: dict[str, Any] = {"error": f"attempt {attempts} of {max_attempts}: {reason}"}
        if retrying:
            values.update(status="queued", due_at=now)
        else:
            values.update(status="failed", finished_at=now, error=reason)
        done = db.session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == "running", Job.heartbeat_at == beat)
            .values(**values)
        ).rowcount
        db.session.commit()
        if not done:
            continue
        log.warning("job #%s %s: %s", job_id, "retried" if retrying else "failed", reason)
        if retrying:
            counts["retried"] += 1
            transport.put(job_id)
        else:
            counts["failed"] += 1
    # Queued rows overdue while the queue is empty lost their message (a Redis restart, a
    # crash between commit and put): put them again. A duplicate message is harmless.
    if transport.pending() == 0:
        lost = db.session.scalars(
            select(Job.id).where(Job.status == "queued", Job.due_at < stale).order_by(Job.id)
        ).all()
        db.session.rollback()
        for job_id in lost:
            transport.put(job_id)
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


# --- transports ----------------------------------------------------------------------------


class Transport:
    """Carries job ids to workers."""

    eager = False

    def put(self, job_id: int, *, delay_s: float = 0) -> None:
        raise NotImplementedError

    def pending(self) -> int:
        """Messages waiting on the queue (0 when unknown to be any)."""
        return 0

    def beat(self, job_id: int, *, done: bool = False) -> None:
        """Record that the job's worker is alive now (or forget it once the job is over)."""

    def last_beat(self, job_id: int) -> float | None:
        """The job's last beat on the queue's storage (a Unix time), if any."""
        return None


class EagerTransport(Transport):
    """``eager://``: run the job inline, now, in the caller's process (attempts in a row)."""

    eager = True

    def put(self, job_id: int, *, delay_s: float = 0) -> None:
        run_job(job_id, beat=False, due_now=True)  # a retry puts (runs) itself again


class HueyTransport(Transport):
    """Huey on Redis or on a SQLite file; one task, ``chunlei_job(job_id)``."""

    def __init__(self, app: Flask, url: str | None, name: str) -> None:
        from huey import RedisHuey, SqliteHuey

        if url and url.startswith(("redis://", "rediss://", "unix://")):
            self.huey = RedisHuey(name, url=url, results=False)
        else:
            path = (
                url[len("sqlite:///") :] if url else os.path.join(app.instance_path, "queue.sqlite")
            )
            self.huey = SqliteHuey(name, filename=path, results=False)
        self.url = url

        def chunlei_job(job_id: int) -> None:
            with app.app_context():
                try:
                    run_job(job_id)
                finally:
                    db.session.remove()

        self.task = self.huey.task(name="chunlei_job")(chunlei_job)

    def put(self, job_id: int, *, delay_s: float = 0) -> None:
        timeout = None
        try:
            kind = db.session.scalar(select(Job.kind).where(Job.id == job_id))
            spec = TASKS.get(kind)
            timeout = spec.timeout_s if spec is not None else None
            message = self.task.s(job_id, delay=delay_s or None, timeout=timeout)
            self.huey.enqueue(message)
        except Exception as e:  # the row stays queued; the reaper puts it again later
            db.session.rollback()
            log.error("job #%s recorded but not yet on the queue: %s", job_id, _reason(e))

    def pending(self) -> int:
        try:
            return int(self.huey.storage.queue_size())
        except Exception:
            return 1  # unknown: do not flood a queue we cannot see

    def beat(self, job_id: int, *, done: bool = False) -> None:
        key = f"chunlei.beat.{job_id}"
        try:
            if done:
                self.huey.delete(key)
            else:
                self.huey.put(key, time.time())
        except Exception:  # the database row's heartbeat still counts
            log.debug("job #%s: queue heartbeat not stored", job_id, exc_info=True)

    def last_beat(self, job_id: int) -> float | None:
        try:
            value = self.huey.get(f"chunlei.beat.{job_id}", peek=True)
        except Exception:
            return None
        return float(value) if isinstance(value, int | float) else None


def check_url(url: str | None) -> None:
    """Refuse a ``QUEUE_URL`` this product cannot use, in one line."""
    if url and not url.startswith(("redis://", "rediss://", "unix://", "sqlite:///", "eager://")):
        raise ValueError(f"QUEUE_URL={url!r}: use redis://HOST:PORT/DB, sqlite:///FILE or eager://")


def init_app(app: Flask) -> None:
    """Build the app's transport from ``QUEUE_URL`` and register every task module."""
    from importlib import import_module

    import_module("app.jobs.tasks")  # registers every kind of job
    for module in app.config.get("JOB_TASK_MODULES") or ():
        import_module(module)

    url = app.config.get("QUEUE_URL") or None
    check_url(url)
    if url == "eager://":
        transport: Transport = EagerTransport()
    else:
        transport = HueyTransport(app, url, app.config.get("QUEUE_NAME", "chunlei"))
    app.extensions["chunlei.queue"] = transport


def queue_of(app: Flask) -> Transport:
    """The app's transport."""
    return app.extensions["chunlei.queue"]
