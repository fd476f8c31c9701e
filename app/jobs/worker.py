"""``flask --app wsgi worker``: one worker process on Huey's consumer.

The process forks two children: the worker, which runs one job at a time in its main thread,
and Huey's scheduler, which moves delayed jobs onto the queue and here also runs the reaper
every ``JOB_REAP_S``. Both children die with the parent (``PR_SET_PDEATHSIG``), so a killed
worker leaves no orphan running a job; the job's heartbeat stops and a reaper retries it.

SIGTERM stops it cleanly: no new job is taken, the current one may finish within
``WORKER_SHUTDOWN_S``; after that it is interrupted and handed back to the queue (the run it
was carrying out records why). SIGINT (Ctrl-C) interrupts and hands back at once.
"""

from __future__ import annotations

import logging
import os
import signal
import time

from flask import Flask
from huey.consumer import Consumer, ProcessEnvironment, Scheduler

from app.extensions import db
from app.jobs.queue import queue_of
from app.jobs.reaper import reap
from app.jobs.transport import HueyTransport
from app.observability import metrics
from app.services.runs.solver_process import die_with_parent
from config import settings

log = logging.getLogger("chunlei.jobs")


def _reap_logged(app: Flask) -> None:
    with app.app_context():
        try:
            counts = reap()
            if any(counts.values()):
                log.info("reaper: %s", counts)
        except Exception:
            log.exception("reaper failed")
            db.session.rollback()
        finally:
            db.session.remove()


def build_consumer(app: Flask) -> Consumer:
    """Huey's consumer for the app's queue: one process worker, SIGTERM graceful."""
    transport = queue_of(app)
    if not isinstance(transport, HueyTransport):
        raise ValueError("QUEUE_URL=eager:// runs jobs inline; a worker needs redis:// or sqlite")
    reap_every = settings(app).JOB_REAP_S

    class ChildEnvironment(ProcessEnvironment):
        """Forked children die with the worker and open their own database connections."""

        def init_child(self, process) -> None:
            super().init_child(process)
            die_with_parent()
            with app.app_context():
                db.engine.dispose(close=False)  # never share the parent's connections

    class ReapingScheduler(Scheduler):
        """Huey's scheduler, plus the reaper every ``JOB_REAP_S``."""

        _next_reap = 0.0

        def loop(self, now=None):
            if time.monotonic() >= self._next_reap:
                self._next_reap = time.monotonic() + reap_every
                _reap_logged(app)
            return super().loop(now)

    class WorkerConsumer(Consumer):
        scheduler_class = ReapingScheduler

        def get_environment(self, worker_type):
            return ChildEnvironment(self._graceful_sig, self._interrupt_sig)

    return WorkerConsumer(
        transport.huey,
        workers=1,
        worker_type="process",
        graceful_signal="TERM",
        shutdown_timeout=settings(app).WORKER_SHUTDOWN_S,
        scheduler_interval=1,
        periodic=False,
        initial_delay=0.1,
        max_delay=1.0,
        check_worker_health=True,
        health_check_interval=5,
    )


def run_worker(app: Flask) -> None:
    """Reap once, then consume until SIGTERM (graceful) or SIGINT (hand back at once)."""
    _reap_logged(app)
    consumer = build_consumer(app)
    metrics.serve(settings(app).METRICS_LISTEN)
    log.info("worker started (pid %s, queue %s)", os.getpid(), settings(app).QUEUE_NAME)
    consumer.run()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    log.info("worker stopped")
