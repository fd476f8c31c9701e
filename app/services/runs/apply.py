"""The apply step of a run: write a checked plan to the live week, record and notify, or stop.

One attempt is one transaction. It holds the week (and the participants whose sessions change)
locked, and applies only if the active bookings still have the snapshot's fingerprint; when
they changed during the solve, the plan is merged around the new bookings (``diff.merge_around``)
and validated again. A slot taken at the last moment rolls the attempt back and the caller tries
again. The changes get their reasons, the participants and operators their notifications, in
that same transaction; the e-mails go after it commits.
"""

from __future__ import annotations

import logging
from datetime import datetime

from flask import current_app
from sqlalchemy import select, update

from app.extensions import db, rowcount
from app.models import BookingRequest, OptimizationRun, Participant, PlanningWeek, User, utcnow
from app.models.vocabulary import ChangeReason, RequestStatus, RunState
from app.services.exchange.apply import PlanConflict, PlanRejected, apply_plan
from app.services.exchange.export import build_instance, build_plan
from app.services.notify import mailer
from app.services.runs import guard as run_guard
from app.services.runs.diff import diff, merge_around, reason_for, touched_participants
from app.services.runs.folders import run_folder
from app.services.runs.notify import notify_run
from app.services.runs.scope import changes_outside, scope_instance
from scheduler.domain import Instance, Plan
from scheduler.io import dump_plan, write_json
from scheduler.metrics import figures
from scheduler.validate import validate

log = logging.getLogger("chunlei.runs")


def apply_once(
    run_id: int,
    week_id: int,
    inst: Instance,
    plan: Plan,
    fingerprint: str,
    actor: User | None,
    freeze_until: datetime,
) -> OptimizationRun | None:
    """One attempt at applying; None means "a slot was taken under us, try again"."""
    cfg = current_app.config
    tz_name = cfg.get("TIMEZONE", "Asia/Shanghai")
    run = db.session.get_one(OptimizationRun, run_id)
    week = db.session.get_one(PlanningWeek, week_id)
    # The first write takes SQLite's write lock; PostgreSQL locks the week row, and the rows of
    # the participants whose sessions change (the booking service locks a participant first).
    still_ours = rowcount(
        db.session.execute(
            update(OptimizationRun)
            .where(OptimizationRun.id == run_id, OptimizationRun.lock_key.is_not(None))
            .values(heartbeat_at=utcnow())
        )
    )
    if not still_ours:  # declared dead by another process meanwhile: it owns the week now
        db.session.rollback()
        return db.session.get_one(OptimizationRun, run_id)
    db.session.execute(select(PlanningWeek.id).where(PlanningWeek.id == week_id).with_for_update())
    changed = sorted({c.participant for c in diff(inst, plan)})
    if changed:
        db.session.execute(
            select(Participant.id)
            .where(Participant.code.in_(changed))
            .order_by(Participant.id)
            .with_for_update()
        )
    base = inst
    seen = run_guard.bookings_fingerprint(week)
    if seen != fingerprint:
        # Bookings changed during the solve: keep them all, fit the plan around them.
        base = build_instance(db.session, week, freeze_until=freeze_until, timezone=tz_name)
        base = scope_instance(base, run.scope_bases)
        touched = touched_participants(inst, base)
        plan = merge_around(base, plan, touched)
        broken = validate(base, plan) + changes_outside(base, plan, run.scope_bases)
        if broken:
            db.session.rollback()
            return run_guard.fail(
                run_id,
                f"bookings changed during the solve ({len(touched)} participant(s)) and the plan "
                f"no longer fits around them: {broken[0]}",
            )
        current = build_plan(db.session, week, base)
        if figures(base, plan)["weighted_served"] < figures(base, current)["weighted_served"]:
            db.session.rollback()
            return end_run(
                db.session.get_one(OptimizationRun, run_id),
                RunState.NO_CHANGE,
                "bookings changed during the solve; the merged plan would serve less",
            )
        run.message = f"merged around the bookings of {len(touched)} participant(s)"
    changes = diff(base, plan)
    if not changes:
        db.session.rollback()
        run = db.session.get_one(OptimizationRun, run_id)
        return end_run(
            run, RunState.NO_CHANGE, "nothing left to change after the bookings made meanwhile"
        )
    merged_note = run.message
    open_requests = open_requests_of(base)

    def reason(change: str, request: str, before: tuple, after: tuple) -> ChangeReason:
        return reason_for(base, change, request, before, after, open_requests)

    try:
        applied = apply_plan(
            db.session,
            week,
            plan,
            actor=actor,
            freeze_until=freeze_until,
            timezone=tz_name,
            kind=run.kind,
            run=run,
            reason=reason,
        )
    except PlanConflict as e:
        db.session.rollback()
        if run_guard.bookings_fingerprint(db.session.get_one(PlanningWeek, week_id)) != seen:
            return None  # someone booked under us: look again
        cause = str(e.__cause__ or e).splitlines()[0][:300]
        return run_guard.fail(run_id, f"the database refused the apply: {cause}")
    except PlanRejected as e:
        db.session.rollback()
        if run_guard.bookings_fingerprint(db.session.get_one(PlanningWeek, week_id)) != seen:
            return None  # a booking landed between our look and apply_plan's: look again
        first = f", first: {e.violations[0]}" if e.violations else ""
        return run_guard.fail(run_id, f"{e}{first}")
    folder = run_folder(run)
    if folder is not None and base is not inst:  # merged: keep what was really applied
        write_json(dump_plan(plan), folder / "applied.json")
    summary = f"{len(applied.added)} added, {len(applied.moved)} moved, "
    summary += f"{len(applied.dropped)} dropped, {applied.kept} kept"
    if merged_note:
        summary += f" ({merged_note})"
    run.progress = {**(run.progress or {}), "phase": "done"}
    notify_run(run)
    run_guard.finish(run, RunState.APPLIED, summary)
    db.session.commit()
    log.info("run #%s %s", run.id, summary)
    send_mail()
    return run


def send_mail() -> None:
    """Queue the run's e-mails for the workers (a failure to queue leaves them to the sweep)."""
    mailer.queue_due()


def open_requests_of(inst: Instance) -> set[str]:
    """The instance's requests that are still open (so a change can say whom it serves)."""
    codes = {r.id for r in inst.requests}
    open_codes = set(
        db.session.scalars(
            select(BookingRequest.code).where(
                BookingRequest.code.in_(codes), BookingRequest.status == RequestStatus.OPEN
            )
        )
    )
    # Direct bookings' synthesized requests ("RK...") are open as long as they exist.
    return open_codes | {c for c in codes if c not in open_codes and c.startswith("RK")}


def end_run(run: OptimizationRun, state: RunState, reason: str) -> OptimizationRun:
    """Finish a run that still holds its week; one declared dead meanwhile keeps that record."""
    holds = db.session.scalar(select(OptimizationRun.lock_key).where(OptimizationRun.id == run.id))
    if holds is None:
        db.session.rollback()
        return db.session.get_one(OptimizationRun, run.id)
    run.progress = {**(run.progress or {}), "phase": "done"}
    run_guard.finish(run, state, reason)
    db.session.commit()
    log.info("run #%s %s: %s", run.id, state, reason)
    return run
