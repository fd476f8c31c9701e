"""A real run on a seeded small week: a valid plan applied, fixed bookings untouched, recorded."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import OptimizationRun, RunChange, utcnow
from app.models.notification import Notification
from app.services.exchange.export import build_instance, build_plan
from app.services.runs.diff import REASONS
from app.services.runs.folders import run_folder
from app.services.runs.reoptimize import reoptimize
from app.services.timetable.weeks import get_week
from scheduler.io import load_instance, load_plan
from scheduler.metrics import figures
from scheduler.validate import validate
from tests.app.nightly.conftest import WEEK, booking_book, fixed_bookings


def current_plan_figures(run: OptimizationRun):
    week = get_week(db.session, WEEK)
    inst = build_instance(db.session, week, freeze_until=run.freeze_until, timezone="Asia/Shanghai")
    plan = build_plan(db.session, week, inst)
    return inst, plan, figures(inst, plan)


def test_a_run_applies_a_valid_better_plan_and_never_touches_fixed_bookings(nightly_app):
    fixed = fixed_bookings()
    run = reoptimize(WEEK, trigger="manual", actor_label="test", time_limit_s=4)
    assert run.state == "applied", run.message
    assert run.finished_at is not None and run.lock_key is None
    assert fixed_bookings() == fixed  # every locked and confirmed booking identical

    inst, plan, after = current_plan_figures(run)
    assert validate(inst, plan) == []
    assert after["weighted_served"] >= run.kpis_before["weighted_served"]
    assert run.kpis["weighted_served"] == after["weighted_served"]

    changes = db.session.scalars(select(RunChange).where(RunChange.run_id == run.id)).all()
    assert len(changes) == run.added + run.moved + run.dropped > 0
    assert all(c.reason in REASONS and c.participant_code for c in changes)
    fixed_slots = {s for _, slots in fixed.values() for s in slots}
    for c in changes:  # no change ever names a slot of a locked or confirmed booking
        assert not fixed_slots.intersection(c.before_slots)

    # The run's files reproduce it: the instance as it was, the plan the solver wrote.
    folder = run_folder(run)
    snapshot = load_instance(folder / "instance.json")
    assert validate(snapshot, load_plan(folder / "plan.json")) == []
    assert validate(snapshot, load_plan(folder / "before.json")) == []

    # The operators of the affected bases hear about their base, with the run's counts.
    kinds = set(db.session.scalars(select(Notification.kind)))
    assert "run_base_changes" in kinds
    note = db.session.scalar(select(Notification).where(Notification.kind == "run_base_changes"))
    assert note.params["run"] == run.id
    assert note.params["added"] + note.params["moved"] + note.params["dropped"] > 0


def test_a_second_run_right_after_changes_little_and_keeps_everything_valid(sqlite_nightly_app):
    first = reoptimize(WEEK, trigger="manual", time_limit_s=3)
    book = booking_book()
    second = reoptimize(WEEK, trigger="manual", time_limit_s=2)
    assert first.state == "applied", first.message
    assert second.state in ("applied", "no_change"), second.message
    if second.state == "no_change":
        assert booking_book() == book
    inst, plan, after = current_plan_figures(second)
    assert validate(inst, plan) == []
    assert after["weighted_served"] >= first.kpis["weighted_served"]


def test_a_week_that_does_not_exist_is_refused_without_a_run(sqlite_nightly_app):
    import datetime as dt

    import pytest

    from app.services.timetable.weeks import WeekError

    before = db.session.scalar(select(func.count(OptimizationRun.id)))
    with pytest.raises(WeekError):
        reoptimize(dt.date(2001, 1, 1))
    assert db.session.scalar(select(func.count(OptimizationRun.id))) == before
    assert utcnow()  # the session is still usable


def test_old_run_folders_are_pruned(sqlite_nightly_app):
    from pathlib import Path

    nightly_app = sqlite_nightly_app
    nightly_app.config["RUNS_KEEP"] = 2
    for _ in range(3):
        reoptimize(WEEK, time_limit_s=2)
    folders = sorted(p.name for p in Path(nightly_app.config["RUNS_DIR"]).glob("run-*"))
    assert folders == ["run-000002", "run-000003"]


def test_notifying_a_runs_changes_reads_in_a_few_queries_however_many_changes(nightly_app):
    """A whole-programme run changes tens of thousands of bookings: one lazy load per change
    took minutes. The notices read the bookings, slots, bases and accounts in chunks."""
    from sqlalchemy import event

    from app.services.runs.notify import notify_run

    run = reoptimize(WEEK, trigger="manual", actor_label="test", time_limit_s=4)
    assert run.state == "applied", run.message
    run = db.session.get(OptimizationRun, run.id)
    changes = len(run.changes)
    assert changes > 100
    db.session.expire_all()  # nothing already loaded helps
    run = db.session.get(OptimizationRun, run.id)
    run_id = run.id
    _ = run.changes
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        sent = notify_run(run)
    finally:
        event.remove(engine, "before_cursor_execute", count)
        db.session.rollback()
    notes = db.session.scalars(select(Notification)).all()
    assert sent == sum(1 for n in notes if (n.params or {}).get("run") == run_id) > 0
    # Bookings with their slots and bases, accounts, the webhook check, each base's operators.
    bases = 6
    assert len(statements) <= 10 + bases, f"{len(statements)} SELECTs for {changes} changes"


def test_the_run_report_reads_a_runs_changes_in_a_few_queries_and_shows_a_page(nightly_app):
    """The report reads a run's changes and slots as plain columns and makes display rows only
    for the page read (a whole-programme run has tens of thousands of changes; the time is in
    ``make bench-pages``): every change counted, the page's rows complete, the filters right,
    and no query per change."""
    from sqlalchemy import event

    from app.services.runs.report import ReportFilter, run_details

    run = reoptimize(WEEK, trigger="manual", actor_label="test", time_limit_s=4)
    assert run.state == "applied", run.message
    run_id = run.id
    db.session.expire_all()
    run = db.session.get(OptimizationRun, run_id)
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        details = run_details(run)
        page = details.sessions[:50]
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    total = run.added + run.moved + run.dropped
    assert details.total == len(details.sessions) == total > 100
    assert len(page) == 50 and all(row.participant_name and row.before + row.after for row in page)
    assert len(statements) <= 4, statements  # changes, slots, the page's names
    # The filters narrow the list; the summary still covers every change.
    added = run_details(run, flt=ReportFilter(change="added"))
    assert len(added.sessions) == run.added and added.total == total
    assert sum(c["added"] for _, c in added.by_region) >= run.added
