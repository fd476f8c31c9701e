"""The nightly job: every coming week re-optimized once per night, whoever else tries too.

``queue_nightly`` is what ``app/jobs/clock.py`` schedules: it records one queued run per coming
week and enqueues it for the workers (the clock process solves nothing itself). Each week's run
carries the key ``nightly:<week>:<night>`` (see ``run_guard``), taken when the run is queued,
where the night comes from the cron schedule, so two scheduler processes, a restart, or a
caught-up misfire never run a night twice.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db
from app.localtime import local_zone
from app.models import OptimizationRun, PlanningWeek, utcnow
from app.models.vocabulary import RunKind
from app.services.runs import guard as run_guard
from config import settings

log = logging.getLogger("chunlei.runs")


def nightly_weeks(now: datetime | None = None) -> list[PlanningWeek]:
    """Planning weeks overlapping the next ``NIGHTLY_WEEKS_AHEAD_DAYS`` days (local time)."""
    tz = local_zone()
    today = (now or utcnow()).astimezone(tz).date()
    horizon = today + timedelta(days=settings().NIGHTLY_WEEKS_AHEAD_DAYS)
    weeks = db.session.scalars(
        select(PlanningWeek)
        .where(PlanningWeek.week_start <= horizon)
        .order_by(PlanningWeek.week_start)
    )
    return [w for w in weeks if w.week_start + timedelta(days=w.days) > today]


def scheduled_night(now: datetime) -> str:
    """The local date of the latest ``NIGHTLY_CRON`` time at or before ``now``: the night's key.

    Taken from the schedule, not the clock, so a run caught up after a restart (within the
    misfire grace) still counts as the night it was due.
    """
    from app.jobs.clock import latest_fire_time

    tz = local_zone()
    due = latest_fire_time(settings().NIGHTLY_CRON, tz.key, now)
    return (due or now).astimezone(tz).date().isoformat()


def queue_nightly(app=None, *, now: datetime | None = None) -> list[OptimizationRun]:
    """The nightly job: queue a run of each coming week for tonight, unless the night is taken.

    Returns the runs recorded: ``queued`` ones (their jobs enqueued) and ``skipped`` ones.
    """
    from app.jobs.queue import enqueue

    now = now or utcnow()
    night = scheduled_night(now)
    runs = []
    weeks = nightly_weeks(now)
    if not weeks:
        log.info("nightly run %s: no planning week in the coming days", night)
    for week in weeks:
        key = run_guard.nightly_run_key(week, night)
        try:
            run, queued = run_guard.queue_run(
                week, trigger=RunKind.NIGHTLY, actor=None, actor_label="scheduler", run_key=key
            )
            run_id = run.id
            if queued:
                enqueue("runs.reoptimize", {"run_id": run_id}, dedupe_key=f"run:{run_id}")
        except SQLAlchemyError:
            db.session.rollback()
            log.exception("nightly run of week %s could not be queued", week.week_start)
            continue
        runs.append(db.session.get_one(OptimizationRun, run_id, populate_existing=True))
    return runs
