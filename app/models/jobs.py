"""Background jobs: the queue's ledger, one row per piece of work (see ``app.jobs.queue``).

The queue (Huey) only carries a job's id; this row is the truth about it. A job is ``queued``,
``running`` (a worker claimed it and beats its heartbeat), ``done`` (with its result) or
``failed`` (with the reason). ``dedupe_lock`` holds the dedupe key only while the job is queued,
so the database admits one queued job per key.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model
from app.models.types import UTCDateTime, utcnow
from app.models.vocabulary import JobStatus, enum_type


class Job(Model):
    """One piece of background work: its kind, payload, attempts and outcome."""

    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint("attempts >= 0 AND max_attempts >= 1", name="attempts"),
        Index("ix_jobs_status_heartbeat_at", "status", "heartbeat_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[JobStatus] = mapped_column(
        enum_type(JobStatus, "status"), default=JobStatus.QUEUED
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    dedupe_key: Mapped[str | None] = mapped_column(String(120), index=True)
    dedupe_lock: Mapped[str | None] = mapped_column(String(120), unique=True)
    # "host:pid" of the worker process running (or that last ran) the job.
    worker: Mapped[str | None] = mapped_column(String(120))
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    enqueued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Not before this instant (a delayed job, or a retry after its back-off).
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict | None] = mapped_column(JSON)
    # The id of the web request that enqueued the job (its logs carry it while the job runs).
    request_id: Mapped[str | None] = mapped_column(String(64))


class ProcessHeartbeat(Model):
    """The last sign of life of a singleton process (the clock): ``/readyz`` checks its age."""

    __tablename__ = "process_heartbeats"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    # "host:pid" of the process that beat last.
    process: Mapped[str] = mapped_column(String(120))
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
