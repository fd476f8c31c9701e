"""Two runs of one week at once, on PostgreSQL: the database admits one; the other is skipped.

Real threads (each with its own session and connection) and real ``flask reoptimize``
processes, against a scratch PostgreSQL database.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from app.extensions import db
from app.models import OptimizationRun, utcnow
from app.services.runs import guard as run_guard
from app.services.runs.reoptimize import reoptimize
from app.services.timetable.weeks import get_week
from tests.app.nightly.conftest import WEEK, fixed_bookings

ROOT = Path(__file__).resolve().parents[3]


def states() -> list[str]:
    db.session.expire_all()
    return [r.state for r in db.session.scalars(select(OptimizationRun).order_by("id"))]


def test_two_reoptimize_threads_at_once_give_one_run(pg_nightly_app):
    app = pg_nightly_app
    fixed = fixed_bookings()
    barrier = threading.Barrier(2)
    outcome: list[str] = []

    def one() -> None:
        with app.app_context():
            try:
                barrier.wait()
                outcome.append(reoptimize(WEEK, time_limit_s=3).state)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcome) == ["applied", "skipped"]
    assert sorted(states()) == ["applied", "skipped"]
    skipped = db.session.scalar(select(OptimizationRun).where(OptimizationRun.state == "skipped"))
    assert "in progress" in skipped.message
    assert fixed_bookings() == fixed


def test_two_reoptimize_processes_at_once_give_one_applied_run(pg_nightly_app, tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": pg_nightly_app.config["SQLALCHEMY_DATABASE_URI"],
        "RUNS_DIR": str(tmp_path / "runs"),
        "SOLVER_WORKERS": "1",
    }
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "reoptimize"]
    command += ["--week", WEEK.isoformat(), "--time-limit", "4"]
    procs = [
        subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    results = [p.communicate(timeout=120) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes == [0, 3], results
    assert sorted(states()) == ["applied", "skipped"]
    assert any(b"skipped" in err for _, err in results)
    assert all(b"Traceback" not in err for _, err in results)


def test_a_dead_runs_lock_is_taken_over_after_its_heartbeat_stops(pg_nightly_app):
    week = get_week(db.session, WEEK)
    silent = utcnow() - timedelta(hours=1)
    dead = OptimizationRun(
        planning_week_id=week.id,
        kind="manual",
        state="running",
        started_at=silent,
        heartbeat_at=silent,
        lock_key=run_guard.week_lock_key(week),
    )
    db.session.add(dead)
    db.session.commit()
    run = reoptimize(WEEK, time_limit_s=2)
    assert run.state in ("applied", "no_change"), run.message
    db.session.refresh(dead)
    assert dead.state == "failed" and "no sign of life" in dead.message and dead.lock_key is None


def test_a_live_run_is_not_taken_over(pg_nightly_app):
    week = get_week(db.session, WEEK)
    live = OptimizationRun(
        planning_week_id=week.id,
        kind="nightly",
        state="running",
        heartbeat_at=utcnow(),
        lock_key=run_guard.week_lock_key(week),
    )
    db.session.add(live)
    db.session.commit()
    run = reoptimize(WEEK, time_limit_s=2)
    assert run.state == "skipped" and f"run #{live.id}" in run.message
    db.session.refresh(live)
    assert live.state == "running"


def test_a_run_declared_dead_while_solving_never_applies(nightly_app):
    """If another process takes the week over (heartbeat judged stale), the old run stops."""
    from tests.app.nightly.conftest import booking_book, fault_command
    from tests.app.nightly.test_faults import wait_for

    app = nightly_app
    app.config["SOLVER_COMMAND"] = fault_command("late")
    folder = Path(app.config["RUNS_DIR"]) / "run-000001"
    taken: list[str] = []
    before = booking_book()

    def take_over() -> None:
        if not wait_for(folder / "plan.json.ready", 60):
            return
        with app.app_context():
            try:
                app.config["RUN_STALE_S"] = 0
                week = get_week(db.session, WEEK)
                run, granted = run_guard.claim(week, trigger="manual", actor=None, actor_label="x")
                taken.append(run.state if granted else "refused")
                run_guard.finish(run, "no_change", "took over in a test")
                db.session.commit()
            finally:
                db.session.remove()
                (folder / "plan.json.go").touch()

    thread = threading.Thread(target=take_over)
    thread.start()
    run = reoptimize(WEEK, time_limit_s=3)
    thread.join()
    assert taken == ["running"]
    assert run.state == "failed" and "no sign of life" in run.message
    assert booking_book() == before
