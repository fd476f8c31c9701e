"""Re-optimize a week: the one code path for the nightly job, the CLI and the operators' button.

A run goes snapshot → solve → validate → apply → record → notify, and each step can only make
it stop, never lose a booking:

1. **claim** the week in the database (``run_guard``): one run of a week at a time, one nightly
   run per night; the loser is recorded as ``skipped``;
2. **snapshot** the week as ``livehub-instance/1`` with the frozen horizon ``now + FREEZE_HOURS``
   (everything before it is kept), plus a fingerprint of its active bookings, into the run's
   folder (``instance.json``, ``before.json``), so any run can be reproduced with
   ``python -m scheduler solve``;
3. **solve** in a child process with a deadline (``solver_process``), storing its progress;
   a whole-programme week is solved in parts on the job queue's workers instead (``parts``);
4. **validate** the plan with ``scheduler.validate``; refuse a plan that serves less weight than
   the bookings already do; stop with ``no_change`` when it changes nothing;
5. **apply** in one transaction (``apply_plan``), only if the active bookings still have the
   snapshot's fingerprint — otherwise the plan is merged around the bookings made meanwhile
   (``run_diff.merge_around``) and validated again; a slot taken at the last moment rolls the
   transaction back and the check is repeated;
6. **record** the KPIs before and after and every change with its reason, and **notify** the
   participants and the operators of the affected bases, in that same transaction.

Any exception rolls back and records the run as ``failed`` with the reason.
"""

from __future__ import annotations

import logging
import time
from datetime import date, datetime, timedelta
from pathlib import Path

from flask import current_app

from app.extensions import db
from app.models import OptimizationRun, PlanningWeek, User, utcnow
from app.models.vocabulary import RunKind, RunState
from app.observability import metrics
from app.services.exchange.export import build_instance, build_plan
from app.services.runs import guard as run_guard
from app.services.runs import liveness
from app.services.runs.apply import apply_once, end_run
from app.services.runs.diff import diff
from app.services.runs.folders import keep_traceback, prune_folders, runs_dir
from app.services.runs.parts import parts_for, solve_in_parts
from app.services.runs.scope import changes_outside, scope_instance
from app.services.runs.solver_process import run_solver, solver_command
from app.services.timetable.weeks import get_week
from scheduler.domain import Instance, Plan
from scheduler.io import dump_instance, dump_plan, write_json
from scheduler.metrics import figures
from scheduler.validate import validate

log = logging.getLogger("chunlei.runs")

TRIGGERS = (RunKind.NIGHTLY, RunKind.MANUAL)
#: How often the apply step retries after a slot was taken under it.
APPLY_ATTEMPTS = 3


def reoptimize(
    week_start: date,
    *,
    trigger: str = RunKind.MANUAL,
    actor: User | None = None,
    actor_label: str | None = None,
    time_limit_s: float | None = None,
    run_key: str | None = None,
    now: datetime | None = None,
    scope_bases: list[str] | None = None,
) -> OptimizationRun:
    """Re-optimize the week starting on ``week_start``; returns the run, whatever its outcome.

    ``scope_bases`` (base codes) limits the run to those bases: every booking elsewhere stays
    exactly as it is (``runs.scope``). Raises ``WeekError`` only for a week that does not exist
    (nothing is written then).
    """
    if trigger not in TRIGGERS:
        raise ValueError(f"unknown trigger {trigger!r}")
    week = get_week(db.session, week_start)
    if actor_label is None and actor is not None:
        actor_label = actor.username
    run, granted = run_guard.claim(
        week,
        trigger=trigger,
        actor=actor,
        actor_label=actor_label,
        run_key=run_key,
        scope_bases=scope_bases,
    )
    if not granted:
        metrics.solver_run_ended(run.state, 0.0, None)
        return run
    return run_claimed(
        run.id, actor_id=actor.id if actor else None, time_limit_s=time_limit_s, now=now
    )


def run_claimed(
    run_id: int,
    *,
    actor_id: int | None = None,
    time_limit_s: float | None = None,
    now: datetime | None = None,
) -> OptimizationRun:
    """Carry out a run whose claim was granted; every failure is recorded on the run.

    A thread beats the run's heartbeat all along, so a process killed mid-run is seen dead
    within ``RUN_STALE_S`` and its week released.
    """
    run = db.session.get_one(OptimizationRun, run_id)
    started = time.monotonic()
    with liveness.Heartbeat(run_id):
        try:
            week = db.session.get_one(PlanningWeek, run.planning_week_id)
            actor = db.session.get(User, actor_id) if actor_id is not None else None
            ended = _execute(run, week, actor=actor, time_limit_s=time_limit_s, now=now)
        except Exception as e:  # record every failure; the lock is released with it
            reason = f"{type(e).__name__}: {e}".splitlines()[0][:300]
            keep_traceback(run_id)
            ended = run_guard.fail(run_id, reason) or run
    objective = (ended.kpis or {}).get("weighted_served")
    metrics.solver_run_ended(ended.state, time.monotonic() - started, objective)
    return ended


def request_run(
    week_start: date,
    *,
    actor: User,
    time_limit_s: float | None = None,
    scope_bases: list[str] | None = None,
) -> OptimizationRun:
    """Queue a manual run of the week for a worker (the web button); returns the queued run.

    The web request only records the run and enqueues its job; a worker claims the week and
    carries it out. Raises ``WeekError`` for a week that does not exist.
    """
    from app.jobs.queue import enqueue

    week = get_week(db.session, week_start)
    run, queued = run_guard.queue_run(
        week,
        trigger=RunKind.MANUAL,
        actor=actor,
        actor_label=actor.username,
        scope_bases=scope_bases,
    )
    if queued:
        payload = {"run_id": run.id, "time_limit_s": time_limit_s}
        enqueue("runs.reoptimize", payload, dedupe_key=f"run:{run.id}")
    return db.session.get_one(OptimizationRun, run.id, populate_existing=True)


def _execute(
    run: OptimizationRun,
    week: PlanningWeek,
    *,
    actor: User | None,
    time_limit_s: float | None,
    now: datetime | None,
) -> OptimizationRun:
    cfg = current_app.config
    tz_name = cfg.get("TIMEZONE", "Asia/Shanghai")
    now = now or utcnow()
    freeze_until = now + timedelta(hours=float(cfg.get("FREEZE_HOURS", 24.0)))
    time_limit = float(time_limit_s or cfg.get("SOLVER_TIME_LIMIT_S", 60.0))

    # 1. Snapshot.
    folder = runs_dir() / f"run-{run.id:06d}"
    folder.mkdir(parents=True, exist_ok=True)
    prune_folders(int(cfg.get("RUNS_KEEP", 200)))
    for _attempt in range(3):  # the snapshot and its fingerprint must describe one state
        fingerprint = run_guard.bookings_fingerprint(week)
        inst = build_instance(db.session, week, freeze_until=freeze_until, timezone=tz_name)
        inst = scope_instance(inst, run.scope_bases)
        if run_guard.bookings_fingerprint(week) == fingerprint:
            break
    else:
        return end_run(run, RunState.FAILED, "the week's bookings kept changing while it was read")
    before = build_plan(db.session, week, inst)
    write_json(dump_instance(inst), folder / "instance.json")
    write_json(dump_plan(before), folder / "before.json")
    run.files_dir = folder.name
    run.freeze_until = freeze_until
    run.kpis_before = figures(inst, before)
    run.progress = {"phase": "solving", "elapsed_s": 0.0, "limit_s": time_limit}
    db.session.commit()

    # 2. Solve in a child process; its progress goes to the run record for the UI.
    last_beat = [0.0]

    def on_progress(progress: dict) -> None:
        if time.monotonic() - last_beat[0] >= 1.0:
            last_beat[0] = time.monotonic()
            liveness.heartbeat(run.id, {**progress, "phase": "solving", "limit_s": time_limit})

    parts = parts_for(cfg, inst)
    if parts:  # the whole programme: split, parts on the job queue's workers, merge, seam
        result = solve_in_parts(run.id, folder, parts, time_limit_s=time_limit, config=cfg)
    else:
        result = run_solver(
            solver_command(cfg),
            folder / "instance.json",
            folder / "plan.json",
            time_limit_s=time_limit,
            workers=int(cfg.get("SOLVER_WORKERS", 2)),
            grace_s=float(cfg.get("SOLVER_GRACE_S", 60.0)),
            on_progress=on_progress,
        )
    run = db.session.get_one(OptimizationRun, run.id)
    run.progress = {**result.progress, "phase": "checking"}
    run.wall_s = result.wall_s
    plan = result.plan
    if plan is None:
        return end_run(run, RunState.FAILED, result.reason or "the solver returned no plan")
    run.solver_status = _short(plan.stats.get("status"))
    run.objective = _number(plan.stats.get("objective"))
    run.bound = _number(plan.stats.get("bound"))

    # 3. Validate, and never make the week worse on what matters first.
    refusal = _refusal(inst, plan, run.kpis_before, folder, run.scope_bases)
    if refusal is not None:
        state, reason = refusal
        return end_run(run, state, reason)
    db.session.commit()

    # 4.–6. Apply, record, notify: one transaction per attempt.
    for _attempt in range(APPLY_ATTEMPTS):
        outcome = apply_once(run.id, week.id, inst, plan, fingerprint, actor, freeze_until)
        if outcome is not None:
            return outcome
    failed = run_guard.fail(run.id, "slots kept being booked under the plan; nothing applied")
    return failed or run


def _refusal(inst: Instance, plan: Plan, kpis_before: dict, folder: Path, scope=None):
    """Why a plan must not be applied as it is: (state, reason), or None when it may."""
    outside = changes_outside(inst, plan, scope)
    if outside:
        return RunState.FAILED, f"the plan changes {len(outside)} slot(s) outside the run's bases"
    broken = validate(inst, plan)
    if broken:
        (folder / "violations.txt").write_text("".join(f"{v}\n" for v in broken), encoding="utf-8")
        return (
            RunState.FAILED,
            f"the solver's plan breaks {len(broken)} hard rule(s), first: {broken[0]}",
        )
    after = figures(inst, plan)
    if after["weighted_served"] < kpis_before.get("weighted_served", 0):
        return RunState.NO_CHANGE, (
            f"the plan serves less weight ({after['weighted_served']} < "
            f"{kpis_before['weighted_served']}); the current bookings stay"
        )
    if not diff(inst, plan):
        return RunState.NO_CHANGE, "the solver found no better plan than the current bookings"
    return None


def _number(value) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _short(value) -> str | None:
    return str(value)[:32] if value is not None else None
