"""Real ``flask --app wsgi worker`` processes on Redis and a scratch PostgreSQL database: a job
is run, a failing one retried then failed with its reason, a killed worker loses no job and
leaves no week locked (a run, or a placement holding the week's apply lock), two workers never
run one job twice, and the web button's run is applied by a worker."""

from __future__ import annotations

import os
import signal
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from app.extensions import db
from app.jobs.queue import enqueue, job, queue_of
from app.models import (
    Booking,
    BookingRequest,
    Job,
    OptimizationRun,
    Participant,
    PlanningWeek,
    User,
)
from app.services.booking.requests import file_request
from app.services.exchange.export import build_instance, build_plan
from app.services.runs.reoptimize import request_run
from app.services.runs.solver_process import read_progress
from app.services.timetable.weeks import get_week
from scheduler.validate import validate
from tests.app.jobs.conftest import process_gone, wait_until
from tests.app.nightly.conftest import WEEK, fault_command, fixed_bookings

PASSWORD = "correct horse battery"


def finished(job_id: int):
    row = job(job_id)
    db.session.rollback()
    return row if row.status in ("done", "failed") else None


def test_a_job_enqueued_is_run_by_a_worker(queue_app, workers):
    proc = workers.start()
    job_id = enqueue("test.echo", {"word": "春雷"})
    row = wait_until(lambda: finished(job_id), 60)
    assert row is not None, workers.log(proc)
    assert row.status == "done" and row.attempts == 1
    assert row.result["word"] == "春雷" and row.result["pid"] != os.getpid()
    assert row.worker.endswith(f":{row.result['pid']}")


def test_a_job_that_raises_is_retried_then_recorded_failed_with_its_reason(queue_app, workers):
    proc = workers.start()
    job_id = enqueue("test.fail", {})
    row = wait_until(lambda: finished(job_id), 60)
    assert row is not None, workers.log(proc)
    assert row.status == "failed" and row.attempts == row.max_attempts == 2
    assert row.error == "ValueError: broken on purpose"


def test_two_workers_never_run_the_same_job_twice(queue_app, workers, tmp_path):
    out = tmp_path / "ran.txt"
    procs = [workers.start(), workers.start()]
    ids = [enqueue("test.append", {"path": str(out), "n": n, "sleep_s": 0.05}) for n in range(40)]
    transport = queue_of(queue_app)
    for job_id in ids:  # every message twice, as a reaper's second put would make it
        transport.put(job_id)
    done = wait_until(lambda: all(finished(i) for i in ids), 120)
    assert done, [workers.log(p) for p in procs]
    lines = out.read_text().splitlines()
    ran = sorted(int(line.split()[0]) for line in lines)
    assert ran == list(range(40)), "each job ran exactly once"
    assert all(job(i).attempts == 1 and job(i).status == "done" for i in ids)


def test_a_worker_killed_mid_job_loses_no_job(queue_app, workers, tmp_path):
    marker = tmp_path / "started.txt"
    first = workers.start()
    job_id = enqueue("test.sleep", {"marker": str(marker), "seconds": 3})
    assert wait_until(marker.exists, 60), workers.log(first)
    child = int(marker.read_text().split()[0])  # the forked process running the job
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert wait_until(lambda: process_gone(child), 10), "the job's process died with its worker"
    second = workers.start()
    row = wait_until(lambda: finished(job_id), 90)
    assert row is not None, workers.log(second)
    assert row.status == "done" and row.attempts == 2
    assert row.result["pid"] != child
    assert "worker died" in (row.error or "")


def _admin() -> User:
    user = User(username="queue-admin", role="admin")
    user.set_password(PASSWORD)
    db.session.add(user)
    db.session.commit()
    return user


def _week_lock_free() -> bool:
    db.session.rollback()
    return (
        db.session.scalar(select(OptimizationRun.id).where(OptimizationRun.lock_key.is_not(None)))
        is None
    )


def _run(run_id: int) -> OptimizationRun:
    db.session.rollback()
    return db.session.get(OptimizationRun, run_id, populate_existing=True)


def test_a_worker_killed_during_a_run_leaves_the_week_unlocked_and_every_booking(
    queue_app, workers
):
    fixed = fixed_bookings()
    hang = " ".join(fault_command("hang"))
    first = workers.start(SOLVER_COMMAND=hang)
    run = request_run(WEEK, actor=_admin())
    assert run.state == "queued"
    progress = Path(queue_app.config["RUNS_DIR"]) / f"run-{run.id:06d}" / "progress.json"
    assert wait_until(progress.exists, 60), workers.log(first)
    solver = wait_until(lambda: read_progress(progress).get("pid"), 10)
    assert solver, "the solver reported its pid"
    assert _run(run.id).state == "running"
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert wait_until(lambda: process_gone(solver), 10), "the solver died with its worker"
    # The reaper of the next worker frees the week and the job is tried again, this time with
    # the real solver.
    second = workers.start()
    ended = wait_until(lambda: _run(run.id).state not in ("queued", "running"), 120)
    assert ended, workers.log(second)
    final = _run(run.id)
    assert final.state in ("applied", "no_change"), final.message
    done = wait_until(lambda: finished(final.job_id), 30)  # the job ends just after its run
    assert done.status == "done" and done.attempts == 2
    assert _week_lock_free()
    assert fixed_bookings() == fixed
    week = get_week(db.session, WEEK)
    inst = build_instance(
        db.session, week, freeze_until=final.freeze_until, timezone="Asia/Shanghai"
    )
    assert validate(inst, build_plan(db.session, week, inst)) == []


def test_reoptimize_now_on_the_runs_page_is_queued_and_a_worker_applies_it(queue_app, workers):
    _admin()
    client = queue_app.test_client()
    login = client.post("/auth/login", data={"username": "queue-admin", "password": PASSWORD})
    assert login.status_code == 302
    pressed = client.post("/runs/reoptimize", data={"week": WEEK.isoformat(), "confirm": "yes"})
    assert pressed.status_code == 302
    run_id = int(pressed.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    assert _run(run_id).state == "queued"  # the web request only queued it
    page = client.get(f"/runs/{run_id}?lang=en").get_data(as_text=True)
    assert "queued" in page.lower()
    assert "排队" in client.get(f"/runs/{run_id}?lang=zh_CN").get_data(as_text=True)
    assert client.get("/runs/?lang=en").status_code == 200
    proc = workers.start()
    ended = wait_until(lambda: _run(run_id).state not in ("queued", "running"), 120)
    assert ended, workers.log(proc)
    run = _run(run_id)
    assert run.state in ("applied", "no_change"), run.message
    assert run.job_id is not None and wait_until(lambda: finished(run.job_id), 30).status == "done"
    progress = client.get(f"/runs/{run_id}/progress.json").get_json()
    assert progress["status"] == run.state


def test_sigterm_lets_a_short_job_finish_and_hands_a_long_one_back(queue_app, workers, tmp_path):
    marker = tmp_path / "started.txt"
    proc = workers.start(WORKER_SHUTDOWN_S="2")
    short = enqueue("test.sleep", {"marker": str(marker), "seconds": 0.5})
    assert wait_until(marker.exists, 60), workers.log(proc)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0, workers.log(proc)
    assert job(short).status == "done"  # finished within the shutdown time

    marker.unlink()
    proc = workers.start(WORKER_SHUTDOWN_S="2")
    long = enqueue("test.sleep", {"marker": str(marker), "seconds": 120})
    assert wait_until(marker.exists, 60), workers.log(proc)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0, workers.log(proc)
    row = job(long)
    assert row.status == "queued" and row.attempts == 0 and "handed back" in row.error
    assert "worker stopped" in workers.log(proc) or "handed back" in workers.log(proc)


def _week_row_free(week_id: int) -> bool:
    """Whether the week's apply lock (its row, FOR UPDATE) can be taken at once."""
    db.session.rollback()
    try:
        db.session.execute(
            select(PlanningWeek.id).where(PlanningWeek.id == week_id).with_for_update(nowait=True)
        ).all()
    except OperationalError:
        db.session.rollback()
        return False
    db.session.rollback()
    return True


def test_a_worker_killed_while_placing_under_the_week_lock_loses_nothing(
    queue_app, workers, tmp_path
):
    queue_app.config["INSTANT_PLACEMENT"] = True
    fixed = fixed_bookings()
    admin = _admin()
    marker = tmp_path / "holding.txt"
    first = workers.start(CHUNLEI_TEST_HOLD_PLACEMENT=str(marker))
    week = get_week(db.session, WEEK)
    participant = db.session.scalars(select(Participant).order_by(Participant.code)).first()
    start = datetime.combine(WEEK + timedelta(days=2), time(0), ZoneInfo("Asia/Shanghai"))
    req = file_request(
        admin, participant=participant, sessions=1, length=1,
        window_start=start, window_end=start + timedelta(days=3),
    )  # fmt: skip
    code, job_id = req.code, None
    assert wait_until(marker.exists, 60), workers.log(first)  # it holds the week's row lock
    child = int(marker.read_text().split()[0])
    db.session.rollback()
    held = db.session.scalar(select(BookingRequest).where(BookingRequest.code == code))
    assert held.placement == "running"
    assert not _week_row_free(week.id)
    job_id = db.session.scalar(
        select(Job.id).where(Job.kind == "placement.requests").order_by(Job.id.desc())
    )
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert wait_until(lambda: process_gone(child), 10), "the placement died with its worker"
    assert wait_until(lambda: _week_row_free(week.id), 10), "the week's lock died with it"
    assert fixed_bookings() == fixed  # the killed placement wrote nothing
    # The next worker's reaper finds the dead job: the request is queued again and placed.
    second = workers.start()
    row = wait_until(lambda: finished(job_id), 90)
    assert row is not None, workers.log(second)
    assert row.status == "done" and row.attempts == 2 and "worker died" in (row.error or "")
    db.session.rollback()
    placed = db.session.scalar(select(BookingRequest).where(BookingRequest.code == code))
    assert placed.placement == "done"
    proposals = db.session.scalars(
        select(Booking).where(Booking.request_id == placed.id, Booking.status == "tentative")
    ).all()
    assert len(proposals) == 1
    assert fixed_bookings() == fixed
    inst = build_instance(db.session, week, freeze_until=None, timezone="Asia/Shanghai")
    assert validate(inst, build_plan(db.session, week, inst)) == []


def _part_jobs(run_id: int) -> list[Job]:
    db.session.rollback()
    rows = db.session.scalars(select(Job).where(Job.kind == "runs.part")).all()
    return sorted((j for j in rows if j.payload["run_id"] == run_id), key=lambda j: j.id)


def _ran_elsewhere(than: str) -> bool:
    """True once a job ran on a worker process other than ``than`` (a new worker is up)."""
    job_id = enqueue("test.echo", {})
    row = wait_until(lambda: finished(job_id), 30)
    return row is not None and row.worker != than


def test_a_run_in_parts_runs_every_part_on_one_worker_and_shares_them_with_two(queue_app, workers):
    """With one worker the run's own process solves every part in turn; with a second worker
    the parts are shared: they run on two processes, side by side."""
    parted = {"SOLVER_PARTS": "2", "SOLVER_PARTS_MIN_REQUESTS": "1", "SOLVER_TIME_LIMIT_S": "12"}
    fixed = fixed_bookings()
    admin = _admin()
    first = workers.start(**parted)
    one = request_run(WEEK, actor=admin)
    assert wait_until(lambda: _run(one.id).state not in ("queued", "running"), 180), workers.log(
        first
    )
    assert _run(one.id).state in ("applied", "no_change"), _run(one.id).message
    parts = _part_jobs(one.id)
    assert [j.payload["part"] for j in parts] == [0, 1]
    assert all(j.status == "done" and "skipped" not in j.result for j in parts)
    run_job = wait_until(lambda: finished(_run(one.id).job_id), 30)
    assert {j.worker for j in parts} == {run_job.worker}

    second = workers.start(**parted)
    assert wait_until(lambda: _ran_elsewhere(run_job.worker), 60), workers.log(second)
    two = request_run(WEEK, actor=admin)
    assert wait_until(lambda: _run(two.id).state not in ("queued", "running"), 180), [
        workers.log(p) for p in (first, second)
    ]
    assert _run(two.id).state in ("applied", "no_change"), _run(two.id).message
    parts = _part_jobs(two.id)
    assert all(j.status == "done" and "skipped" not in j.result for j in parts)
    assert len({j.worker for j in parts}) == 2, "the two parts ran on two workers"
    spans = [(j.started_at, j.finished_at) for j in parts]
    assert max(s for s, _ in spans) < min(e for _, e in spans), "side by side"
    assert fixed_bookings() == fixed and _week_lock_free()
    week = get_week(db.session, WEEK)
    final = _run(two.id)
    inst = build_instance(
        db.session, week, freeze_until=final.freeze_until, timezone="Asia/Shanghai"
    )
    assert validate(inst, build_plan(db.session, week, inst)) == []
