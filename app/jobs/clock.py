"""The clock: the periodic jobs declared as data, on one APScheduler process.

:data:`JOBS` and :func:`build_scheduler` hold the job list (explicit ids, ``replace_existing``,
``coalesce``, one instance at a time, a misfire grace from config) on an APScheduler 3 scheduler.
:func:`run_scheduler` is ``flask --app wsgi scheduler``: one dedicated process, so several web
workers never mean several nightly runs (the web app starts no scheduler). The clock only
enqueues work (the nightly runs go to the job queue's workers) and reaps dead jobs.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import import_module
from typing import TYPE_CHECKING, Any

from config import settings

if TYPE_CHECKING:
    from apscheduler.schedulers.base import BaseScheduler
    from flask import Flask

log = logging.getLogger("chunlei.scheduler")


@dataclass(frozen=True)
class JobSpec:
    """One periodic job: an explicit id, a ``module:function`` taking the app, and when.

    ``cron_setting`` names the config key holding a crontab expression, ``interval_setting``
    one holding a number of seconds (exactly one is given), so the time is configuration.
    """

    id: str
    name: str
    func: str
    cron_setting: str | None = None
    interval_setting: str | None = None


#: Every periodic job of the product. Add a job here, never with an ad-hoc ``add_job`` call.
JOBS: tuple[JobSpec, ...] = (
    JobSpec(
        id="nightly-reoptimize",
        name="Nightly re-optimization of the coming week(s)",
        func="app.services.runs.nightly:queue_nightly",
        cron_setting="NIGHTLY_CRON",
    ),
    JobSpec(
        id="reap-jobs",
        name="Retry or fail the jobs whose worker died; free the weeks of dead runs",
        func="app.jobs.reaper:reap_all",
        interval_setting="JOB_REAP_S",
    ),
    JobSpec(
        id="clock-heartbeat",
        name="Record that the scheduler is alive (/readyz checks its age)",
        func="app.jobs.clock:heartbeat",
        interval_setting="CLOCK_HEARTBEAT_S",
    ),
    JobSpec(
        id="placement-expire",
        name="Release proposals past their acceptance deadline and refill their slots",
        func="app.jobs.placement:queue_expiry",
        interval_setting="PROPOSAL_EXPIRY_S",
    ),
    JobSpec(
        id="mail-sweep",
        name="Queue the outbox's e-mails that are due (new ones missed, retries)",
        func="app.jobs.mail:sweep_outbox",
        interval_setting="MAIL_SWEEP_S",
    ),
)


def heartbeat(app: Flask) -> None:
    """Record the clock's heartbeat (``/readyz`` fails when it is older than
    ``READY_CLOCK_MAX_AGE_S``)."""
    from app.extensions import db
    from app.observability.health import beat

    try:
        beat()
    finally:
        db.session.remove()


def resolve(func: str) -> Callable[..., Any]:
    """The callable a ``module:function`` reference names."""
    module, _, attr = func.partition(":")
    return getattr(import_module(module), attr)


def run_job_in_app(app: Flask, func: str) -> Any:
    """Run one job inside an application context; log and swallow its errors.

    A failing night must not stop the scheduler: the run itself records its failure.
    """
    with app.app_context():
        try:
            return resolve(func)(app)
        except Exception:
            log.exception("job %s failed", func)
            return None


_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _crontab_days(field: str) -> str:
    """A crontab day-of-week field as APScheduler 3 day names.

    APScheduler 3 counts days from Monday = 0, crontab from Sunday = 0 (and 7), and its
    ``from_crontab`` does not translate: "1-5" would mean Tuesday to Saturday. Names are
    unambiguous, so numbers are expanded and named here.
    """
    if field == "*" or not any(ch.isdigit() for ch in field.split("/")[0]):
        return field
    days: set[int] = set()
    for part in field.split(","):
        span, _, step = part.partition("/")
        if span == "*":
            lo, hi = 0, 6
        elif "-" in span:
            lo, hi = (int(x) for x in span.split("-", 1))
        else:
            lo = hi = int(span)
        if not (0 <= lo <= 7 and 0 <= hi <= 7 and lo <= hi):
            raise ValueError(f"bad day-of-week {part!r} in the cron expression")
        days.update(d % 7 for d in range(lo, hi + 1, int(step or 1)))
    return ",".join(_DAY_NAMES[d] for d in sorted(days))


def cron_trigger(expression: str, timezone: str):
    """An APScheduler trigger for a standard 5-field crontab expression in ``timezone``."""
    from apscheduler.triggers.cron import CronTrigger

    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"{expression!r} is not a 5-field cron expression")
    minute, hour, day, month, dow = fields
    return CronTrigger(
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=_crontab_days(dow),
        timezone=timezone,
    )


def latest_fire_time(expression: str, timezone: str, now: datetime) -> datetime | None:
    """The latest time at or before ``now`` the cron expression fired (looking back 8 days)."""
    trigger = cron_trigger(expression, timezone)
    t = trigger.get_next_fire_time(None, now - timedelta(days=8))
    latest = None
    while t is not None and t <= now:
        latest = t
        t = trigger.get_next_fire_time(t, t + timedelta(seconds=1))
    return latest


def add_jobs(
    scheduler: BaseScheduler,
    app: Flask,
    jobs: tuple[JobSpec, ...] = JOBS,
    *,
    catch_up: bool = False,
) -> None:
    """Put every job of ``jobs`` on ``scheduler`` with the app's cron times and time zone.

    With ``catch_up``, a job whose last due time lies within the misfire grace (the process was
    down at 02:00 and came back at 02:20) is due at once; the run's database key keeps that
    from ever running a night twice.
    """
    tz = settings(app).TIMEZONE
    grace = settings(app).MISFIRE_GRACE_S
    for spec in jobs:
        extra: dict[str, Any] = {}
        if spec.interval_setting is not None:
            from apscheduler.triggers.interval import IntervalTrigger

            seconds = float(app.config[spec.interval_setting])
            trigger = IntervalTrigger(seconds=seconds, timezone=tz)
            grace_s = max(1, int(seconds))
        else:
            trigger = cron_trigger(app.config[spec.cron_setting], tz)
            grace_s = grace
        if catch_up and spec.cron_setting is not None:
            now = datetime.now(trigger.timezone)
            missed = latest_fire_time(app.config[spec.cron_setting], tz, now)
            if missed is not None and (now - missed).total_seconds() <= grace:
                log.info("job %s was due at %s: running it now", spec.id, missed.isoformat())
                extra["next_run_time"] = missed
        scheduler.add_job(
            run_job_in_app,
            trigger=trigger,
            args=[app, spec.func],
            id=spec.id,
            name=spec.name,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=grace_s,
            **extra,
        )


def build_scheduler(
    app: Flask,
    *,
    blocking: bool = True,
    catch_up: bool = False,
    jobs: tuple[JobSpec, ...] = JOBS,
) -> BaseScheduler:
    """A scheduler in the app's time zone holding ``jobs`` (:data:`JOBS`; not started)."""
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler

    cls = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = cls(timezone=settings(app).TIMEZONE)
    add_jobs(scheduler, app, jobs, catch_up=catch_up)
    return scheduler


def run_scheduler(app: Flask, jobs: tuple[JobSpec, ...] = JOBS) -> None:
    """The scheduler process: run the jobs until SIGINT or SIGTERM, then stop cleanly.

    A signal only raises SystemExit in the main thread (nothing else is safe inside a signal
    handler); the scheduler then waits for a running job, so a run is never cut in half.
    """
    scheduler = build_scheduler(app, blocking=True, catch_up=True, jobs=jobs)
    from app.observability.metrics import serve

    serve(settings(app).METRICS_LISTEN)

    def stop(signum: int, _frame: Any) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        for job in scheduler.get_jobs():
            # Not started yet: ask the trigger (a job's next_run_time is only set on start).
            first = getattr(job, "next_run_time", None) or job.trigger.get_next_fire_time(
                None, _now(scheduler)
            )
            log.info("job %s (%s): first run at %s", job.id, job.name, first.isoformat())
        log.info("scheduler started (pid %s)", os.getpid())
        run_job_in_app(app, "app.jobs.clock:heartbeat")
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second signal ends it at once
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        if scheduler.running:
            log.info("stopping: waiting for a running job to finish")
            scheduler.shutdown(wait=True)
    log.info("scheduler stopped")


def _now(scheduler: BaseScheduler) -> datetime:
    return datetime.now(scheduler.timezone)
