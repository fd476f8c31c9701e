"""The scheduler process: jobs as data, the nightly cron wiring, exactly one run per night.

The race runs real threads against a scratch PostgreSQL database; the process test starts
``flask --app wsgi scheduler`` for real and stops it with SIGTERM.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.extensions import db
from app.jobs.clock import JOBS, build_scheduler, resolve, run_job_in_app
from app.models import OptimizationRun
from tests.app.nightly.conftest import WEEK, seeded, sqlite_file

ROOT = Path(__file__).resolve().parents[2]
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def week_app(tmp_path):
    """The seeded small week on a SQLite file."""
    yield from seeded(sqlite_file(tmp_path), tmp_path)


@pytest.fixture
def pg_week_app(pg_server, tmp_path):
    """The seeded small week on a fresh PostgreSQL database."""
    yield from seeded(pg_server.create("chunlei_jobs"), tmp_path)


def test_jobs_are_data_with_unique_ids_and_importable_functions():
    ids = [j.id for j in JOBS]
    assert len(ids) == len(set(ids)) and {"nightly-reoptimize", "reap-jobs"} <= set(ids)
    for job in JOBS:
        assert callable(resolve(job.func))
        assert (job.cron_setting is None) != (job.interval_setting is None)


def test_the_clock_reaps_dead_jobs_every_job_reap_s(app):
    app.config["JOB_REAP_S"] = 7
    job = build_scheduler(app, blocking=False).get_job("reap-jobs")
    assert job.trigger.interval.total_seconds() == 7 and job.max_instances == 1
    assert run_job_in_app(app, "app.jobs.reaper:reap_all") == {
        "retried": 0,
        "failed": 0,
        "requeued": 0,
        "released": 0,
    }


def test_the_nightly_job_runs_at_two_in_shanghai_once_at_a_time(app):
    scheduler = build_scheduler(app, blocking=False)
    job = scheduler.get_job("nightly-reoptimize")
    assert job.coalesce is True and job.max_instances == 1
    assert job.misfire_grace_time == app.config["MISFIRE_GRACE_S"]
    after = datetime(2026, 12, 7, 12, 0, tzinfo=SHANGHAI)
    fire = job.trigger.get_next_fire_time(None, after)
    assert fire == datetime(2026, 12, 8, 2, 0, tzinfo=SHANGHAI)
    # Adding the jobs again to a running scheduler replaces them instead of doubling them.
    from app.jobs.clock import add_jobs

    scheduler.start(paused=True)
    try:
        add_jobs(scheduler, app)
        assert sorted(j.id for j in scheduler.get_jobs()) == sorted(j.id for j in JOBS)
    finally:
        scheduler.shutdown(wait=False)


def test_the_cron_time_is_configuration(app):
    app.config["NIGHTLY_CRON"] = "30 3 * * 1-5"
    job = build_scheduler(app, blocking=False).get_job("nightly-reoptimize")
    after = datetime(2026, 12, 5, 12, 0, tzinfo=SHANGHAI)  # a Saturday
    assert job.trigger.get_next_fire_time(None, after) == datetime(
        2026, 12, 7, 3, 30, tzinfo=SHANGHAI
    )


def test_the_scheduler_fires_the_nightly_run_through_its_job(week_app):
    scheduler = build_scheduler(week_app, blocking=False)
    scheduler.start()
    try:
        scheduler.get_job("nightly-reoptimize").modify(next_run_time=datetime.now(SHANGHAI))
        deadline = time.monotonic() + 90
        done = []
        while time.monotonic() < deadline and not done:
            time.sleep(0.5)
            db.session.expire_all()
            done = db.session.scalars(
                select(OptimizationRun).where(OptimizationRun.state.not_in(("queued", "running")))
            ).all()
    finally:
        scheduler.shutdown(wait=True)
    assert len(done) == 1
    run = done[0]
    assert run.kind == "nightly" and run.state in ("applied", "no_change"), run.message
    assert run.run_key.startswith(f"nightly:{WEEK.isoformat()}:")


def test_two_schedulers_at_the_same_night_give_one_run(pg_week_app):
    app = pg_week_app
    barrier = threading.Barrier(2)

    def tick() -> None:
        barrier.wait()
        run_job_in_app(app, "app.services.runs.nightly:queue_nightly")

    threads = [threading.Thread(target=tick) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    db.session.expire_all()
    runs = db.session.scalars(select(OptimizationRun).order_by(OptimizationRun.id)).all()
    assert sorted(r.state for r in runs) in (["applied", "skipped"], ["no_change", "skipped"])
    (skipped,) = [r for r in runs if r.state == "skipped"]
    assert "already took the nightly run" in skipped.message or "in progress" in skipped.message
    # Later the same night (a misfire caught up, a restarted process): still taken.
    run_job_in_app(app, "app.services.runs.nightly:queue_nightly")
    db.session.expire_all()
    states = [r.state for r in db.session.scalars(select(OptimizationRun))]
    assert states.count("skipped") == 2 and len(states) == 3


@pytest.mark.slow
def test_flask_scheduler_starts_one_process_and_stops_cleanly_on_sigterm(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "scheduler"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "scheduler started" in line:
                break
        assert any("nightly-reoptimize" in line and "first run at" in line for line in lines)
        assert any("scheduler started" in line for line in lines), lines
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert "scheduler stopped" in out


@pytest.mark.parametrize(
    ("field", "names"),
    [("*", "*"), ("1-5", "mon,tue,wed,thu,fri"), ("0,6", "sun,sat"), ("7", "sun"), ("mon", "mon")],
)
def test_crontab_days_are_counted_from_sunday(field, names):
    from app.jobs.clock import _crontab_days

    assert _crontab_days(field) == names


def test_the_night_comes_from_the_schedule_not_the_clock(app):
    from app.services.runs.nightly import scheduled_night

    with app.app_context():
        late = datetime(2026, 12, 8, 2, 40, tzinfo=SHANGHAI)
        early = datetime(2026, 12, 8, 1, 0, tzinfo=SHANGHAI)
        assert scheduled_night(late) == "2026-12-08"
        assert scheduled_night(early) == "2026-12-07"  # yesterday's 02:00 is the latest due


def test_a_run_missed_within_the_grace_is_caught_up_on_start(app):
    from datetime import timedelta

    five_ago = datetime.now(SHANGHAI) - timedelta(minutes=5)
    app.config["NIGHTLY_CRON"] = f"{five_ago.minute} {five_ago.hour} * * *"
    job = build_scheduler(app, blocking=False, catch_up=True).get_job("nightly-reoptimize")
    assert job.next_run_time == five_ago.replace(second=0, microsecond=0)
    app.config["MISFIRE_GRACE_S"] = 60  # beyond the grace: wait for the next due time
    job = build_scheduler(app, blocking=False, catch_up=True).get_job("nightly-reoptimize")
    assert getattr(job, "next_run_time", None) is None


@pytest.mark.slow
def test_two_scheduler_processes_give_one_nightly_run(pg_week_app, tmp_path):
    """Two ``flask scheduler`` processes started by mistake, both catching up tonight's run;
    they only queue it, and a ``flask worker`` (on a SQLite queue file here) carries it out."""
    from datetime import timedelta

    due = datetime.now(SHANGHAI) - timedelta(minutes=1)
    env = {
        **os.environ,
        "DATABASE_URL": pg_week_app.config["SQLALCHEMY_DATABASE_URI"],
        "QUEUE_URL": f"sqlite:///{tmp_path / 'queue.sqlite'}",
        "RUNS_DIR": str(tmp_path / "runs"),
        "NIGHTLY_CRON": f"{due.minute} {due.hour} * * *",
        "SOLVER_TIME_LIMIT_S": "2",
        "SOLVER_WORKERS": "1",
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", command],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for command in ("scheduler", "scheduler", "worker")
    ]
    try:
        deadline = time.monotonic() + 150
        runs = []
        while time.monotonic() < deadline:
            time.sleep(1)
            db.session.expire_all()
            runs = db.session.scalars(select(OptimizationRun).order_by(OptimizationRun.id)).all()
            if len(runs) == 2 and all(r.state not in ("queued", "running") for r in runs):
                break
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    states = sorted(r.state for r in runs)
    assert states in (["applied", "skipped"], ["no_change", "skipped"]), [
        (r.state, r.message) for r in runs
    ]
    assert all(p.returncode == 0 for p in procs)
