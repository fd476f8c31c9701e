"""``flask --app wsgi reoptimize | runs | scheduler | worker``: thin wrappers over the run
service, the clock and the job queue's worker."""

from __future__ import annotations

import getpass
import json
import logging
import math
import sys

import click
from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from app.cli.params import DateParam
from app.extensions import db
from app.models import Hub, OptimizationRun
from app.models.vocabulary import RunKind, RunState
from app.runs import bp
from app.services.runs.reoptimize import reoptimize
from app.services.runs.report import run_summary
from app.services.timetable.weeks import WeekError
from config import settings

#: Exit codes of ``reoptimize``: applied or nothing to change is success.
EXIT = {RunState.APPLIED: 0, RunState.NO_CHANGE: 0, RunState.SKIPPED: 3, RunState.FAILED: 1}


def _positive(ctx, param, value):
    if value is not None and not (math.isfinite(value) and value > 0):
        raise click.BadParameter("must be a positive, finite number of seconds")
    return value


@bp.cli.command("reoptimize")
@click.option("--week", "week_start", type=DateParam(), required=True, help="Monday of the week.")
@click.option(
    "--time-limit",
    type=float,
    callback=_positive,
    help="Solver time limit in seconds (default: SOLVER_TIME_LIMIT_S).",
)
@click.option(
    "--base",
    "bases",
    multiple=True,
    help="Re-plan only this base (repeatable); bookings elsewhere stay as they are.",
)
def reoptimize_command(week_start, time_limit, bases) -> None:
    """Re-optimize one week now: snapshot, solve, validate, apply, record, notify."""
    if bases:
        known = set(db.session.scalars(select(Hub.code).where(Hub.code.in_(bases))))
        unknown = sorted(set(bases) - known)
        if unknown:
            raise click.ClickException(f"unknown base(s): {', '.join(unknown)}")
    try:
        run = reoptimize(
            week_start,
            trigger=RunKind.MANUAL,
            actor_label=f"cli:{_whoami()}",
            time_limit_s=time_limit,
            scope_bases=sorted(set(bases)) or None,
        )
    except WeekError as e:
        raise click.ClickException(str(e)) from None
    except SQLAlchemyError as e:
        raise click.ClickException(_db_error(e)) from None
    s = run_summary(run)
    if run.state in (RunState.FAILED, RunState.SKIPPED):
        click.echo(f"run #{run.id} {run.state}: {run.message}", err=True)
        sys.exit(EXIT[run.state])
    click.echo(f"run #{run.id} {run.state}: {run.message}")
    before, after = s["kpis_before"], s["kpis"]
    click.echo(
        f"weighted served {before.get('weighted_served')} -> {after.get('weighted_served')}, "
        f"worst region {before.get('min_region_ratio')} -> {after.get('min_region_ratio')}"
    )
    sys.exit(EXIT.get(run.state, 1))


def _db_error(e: SQLAlchemyError) -> str:
    first = str(getattr(e, "orig", None) or e).strip().splitlines()[0]
    return f"database error: {first} (is the schema migrated? flask --app wsgi db upgrade)"


def _whoami() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@bp.cli.command("runs")
@click.option("--json", "as_json", is_flag=True, help="One JSON array, oldest run first.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Only the latest N runs.")
def runs_command(as_json, limit) -> None:
    """List the run history (oldest first)."""
    stmt = select(OptimizationRun).order_by(OptimizationRun.id.desc())
    if limit:
        stmt = stmt.limit(limit)
    try:
        runs = list(reversed(db.session.scalars(stmt).all()))
    except SQLAlchemyError as e:
        raise click.ClickException(_db_error(e)) from None
    rows = [run_summary(r) for r in runs]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    if not rows:
        click.echo("no runs yet")
        return
    for r in rows:
        k = r["kpis"] or {}
        ws = k.get("weighted_served", "-")
        click.echo(
            f"#{r['id']:<5} {r['week']} {r['trigger']:<8} {r['status']:<9} "
            f"{(r['started_at'] or '')[:19]:<19}  served(w) {ws!s:<6} "
            f"+{r['added']} ~{r['moved']} -{r['dropped']}  {r['message'] or ''}"
        )


@bp.cli.command("scheduler")
def scheduler_command() -> None:
    """Run the periodic jobs (the nightly re-optimization) in this one dedicated process."""
    from app.jobs.clock import JOBS, cron_trigger, run_scheduler

    for job in JOBS:  # refuse a bad cron expression before starting anything
        if job.cron_setting is None:
            continue
        expression = current_app.config[job.cron_setting]
        try:
            cron_trigger(expression, settings().TIMEZONE)
        except ValueError as e:
            raise click.ClickException(f"{job.cron_setting}={expression!r}: {e}") from None
    # Logging is set up by the app (LOG_FORMAT, LOG_LEVEL). APScheduler logs every execution; the reaper runs every few seconds and logs what it did.
    logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
    run_scheduler(current_app._get_current_object())  # type: ignore[attr-defined]  # current_app is a LocalProxy


@bp.cli.command("worker")
def worker_command() -> None:
    """Run one worker process: carry out queued jobs (QUEUE_URL) until SIGTERM."""
    from app.jobs.worker import run_worker

    if (settings().QUEUE_URL or "") == "eager://":
        raise click.ClickException("QUEUE_URL=eager:// runs jobs inline; a worker needs a queue")
    run_worker(current_app._get_current_object())  # type: ignore[attr-defined]  # current_app is a LocalProxy
