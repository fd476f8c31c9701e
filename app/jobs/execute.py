"""Running one job in a worker: claim its row, beat its heartbeat, store the result, retry or
fail it on an exception, hand it back when the worker stops."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from datetime import timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import update

from app.extensions import db, rowcount
from app.jobs.queue import CURRENT_JOB, TASKS, TaskSpec, put, queue_of
from app.models import Job, utcnow
from app.models.vocabulary import JobStatus
from app.observability import logs, metrics
from config import settings

log = logging.getLogger("chunlei.jobs")
#: A message may arrive this early (clocks of two hosts) and still be run.
_DUE_SLACK = timedelta(seconds=2)


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
    claimed = rowcount(
        db.session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == JobStatus.QUEUED, due)
            .values(
                status=JobStatus.RUNNING,
                attempts=Job.attempts + 1,
                worker=me,
                started_at=now,
                heartbeat_at=now,
                dedupe_lock=None,
            )
        )
    )
    db.session.commit()
    if not claimed:
        return None
    row = db.session.get(Job, job_id, populate_existing=True)
    assert row is not None  # claimed just now
    attempt, kind, payload = row.attempts, row.kind, dict(row.payload or {})
    with logs.log_context(request_id=row.request_id, job_id=job_id, job_kind=kind):
        return _run_claimed(job_id, attempt, kind, payload, me, beat)


def _run_claimed(
    job_id: int, attempt: int, kind: str, payload: dict, me: str, beat: bool
) -> str | None:
    """Run a job this worker claimed: the task, then its result, retry or hand-back."""
    spec = TASKS.get(kind)
    if spec is None:
        return _finish(
            job_id, attempt, JobStatus.FAILED, error=f"no task is registered for {kind!r}"
        )
    log.info("job #%s %s: attempt %s of %s", job_id, kind, attempt, spec.max_attempts)
    heartbeat = _Heartbeat(current_app._get_current_object(), job_id, me) if beat else None  # type: ignore[attr-defined]  # current_app is a LocalProxy
    token = CURRENT_JOB.set(job_id)
    started = time.monotonic()
    try:
        result = spec.fn(payload)
    except KeyboardInterrupt:
        db.session.rollback()
        _hand_back(spec, job_id, payload, attempt)
        metrics.job_ended(kind, "handed_back", time.monotonic() - started)
        raise
    except Exception as e:
        db.session.rollback()
        reason = _reason(e)
        log.warning("job #%s %s attempt %s failed: %s", job_id, kind, attempt, reason)
        status = _retry_or_fail(spec, job_id, payload, attempt, reason)
        outcome = "retry" if status == JobStatus.QUEUED else "failed"
        metrics.job_ended(kind, outcome, time.monotonic() - started)
        return status
    finally:
        CURRENT_JOB.reset(token)
        if heartbeat is not None:
            heartbeat.stop()
    db.session.rollback()  # anything the task left uncommitted is not part of its result
    if result is not None and not isinstance(result, dict):
        result = {"value": result}
    metrics.job_ended(kind, "done", time.monotonic() - started)
    status = _finish(job_id, attempt, JobStatus.DONE, result=result)
    _queue_committed_mail()
    return status


def _queue_committed_mail() -> None:
    """Queue the e-mails the job committed (its notifications), as a web request does."""
    from app.services.notify.mailer import queue_committed

    queue_committed()


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
    done = rowcount(
        db.session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == JobStatus.RUNNING, Job.attempts == attempt)
            .where(Job.worker == worker_name())
            .values(**values)
        )
    )
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
    release_held(spec, job_id, payload, retrying, reason)
    if not retrying:
        return _finish(job_id, attempt, JobStatus.FAILED, error=reason)
    delay = settings().JOB_RETRY_DELAY_S * attempt
    done = rowcount(
        db.session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == JobStatus.RUNNING, Job.attempts == attempt)
            .values(
                status=JobStatus.QUEUED,
                error=f"attempt {attempt} of {spec.max_attempts}: {reason}"[:1000],
                due_at=utcnow() + timedelta(seconds=delay),
            )
        )
    )
    db.session.commit()
    if done:
        put(job_id, spec.kind, delay_s=delay)
    return JobStatus.QUEUED if done else None


def _hand_back(spec: TaskSpec, job_id: int, payload: dict, attempt: int) -> None:
    """The worker is stopping mid-job: queue the job again without counting the attempt."""
    reason = "the worker stopped during the job; it was handed back to the queue"
    release_held(spec, job_id, payload, True, reason)
    done = rowcount(
        db.session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == JobStatus.RUNNING, Job.attempts == attempt)
            .values(status=JobStatus.QUEUED, attempts=attempt - 1, error=reason, due_at=utcnow())
        )
    )
    db.session.commit()
    if done and not queue_of(current_app).eager:
        put(job_id, spec.kind)
    log.warning("job #%s handed back: the worker is stopping", job_id)


def release_held(
    spec: TaskSpec | None, job_id: int, payload: dict, retrying: bool, reason: str
) -> None:
    """Call the task's ``release`` hook after an attempt ended abnormally (never raises)."""
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
        self.every = settings(app).JOB_HEARTBEAT_S
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
                            .where(Job.id == self.job_id, Job.status == JobStatus.RUNNING)
                            .where(Job.worker == self.worker)
                            .values(heartbeat_at=utcnow())
                        )
                except Exception:  # a busy database delays one beat; the next one tries again
                    log.debug("job #%s: heartbeat not stored", self.job_id, exc_info=True)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        queue_of(self.app).beat(self.job_id, done=True)
