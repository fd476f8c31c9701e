"""Carrying job ids to workers: Huey on Redis or on a SQLite file, or eager (inline, tests).

A transport also keeps a running job's second heartbeat (:meth:`Transport.beat`) on its own
storage, which a long transaction in the database never blocks.
"""

from __future__ import annotations

import logging
import os
import time

from flask import Flask

from app.extensions import db

log = logging.getLogger("chunlei.jobs")


class Transport:
    """Carries job ids to workers."""

    eager = False

    def put(self, job_id: int, *, delay_s: float = 0, timeout_s: float | None = None) -> None:
        """Put the job's id on the queue, due in ``delay_s``; ``timeout_s`` bounds its run."""
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

    def put(self, job_id: int, *, delay_s: float = 0, timeout_s: float | None = None) -> None:
        from app.jobs.execute import run_job

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
            from app.jobs.execute import run_job

            with app.app_context():
                try:
                    run_job(job_id)
                finally:
                    db.session.remove()

        self.task = self.huey.task(name="chunlei_job")(chunlei_job)

    def put(self, job_id: int, *, delay_s: float = 0, timeout_s: float | None = None) -> None:
        try:
            self.huey.enqueue(self.task.s(job_id, delay=delay_s or None, timeout=timeout_s))
        except Exception as e:  # the row stays queued; the reaper puts it again later
            first = (str(e).strip().splitlines() or [""])[0][:300]
            log.error("job #%s recorded but not yet on the queue: %s", job_id, first)

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
