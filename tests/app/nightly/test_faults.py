"""The faults a run must survive, each with a real child process on a seeded week: the active
plan and every booking stay exactly as they were, and the run says why it failed."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

from sqlalchemy import func, select, text

from app.extensions import db
from app.models import OptimizationRun, Participant, Role, Slot, SlotHold, User
from app.models.notification import Notification
from app.services.booking.rules import BookingError
from app.services.booking.service import book_slots
from app.services.exchange.export import build_instance, build_plan
from app.services.runs.reoptimize import reoptimize
from app.services.timetable.weeks import get_week
from scheduler.io import load_plan
from scheduler.validate import validate
from tests.app.nightly.conftest import WEEK, booking_book, fault_command


def wait_for(path: Path, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def runs_dir(app) -> Path:
    return Path(app.config["RUNS_DIR"])


def test_solver_killed_mid_run_leaves_every_booking_and_records_the_reason(nightly_app):
    before = booking_book()
    pid_file = runs_dir(nightly_app) / "run-000001" / "solver.pid"
    killed: list[int] = []

    def killer() -> None:
        if wait_for(pid_file) and wait_for(pid_file.with_name("progress.json")):
            time.sleep(1.0)  # the real solver is loading the week and building its model
            pid = int(pid_file.read_text())
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    thread = threading.Thread(target=killer)
    thread.start()
    run = reoptimize(WEEK, time_limit_s=20)
    thread.join()
    assert killed, "the solver never started"
    assert run.state == "failed" and "killed by SIGKILL" in run.message
    assert run.finished_at is not None and run.lock_key is None
    assert run.progress["pid"] == killed[0]  # the child's own progress reports were read
    assert booking_book() == before
    assert db.session.scalar(select(func.count(Notification.id))) == 0


def test_an_invalid_plan_is_not_applied(nightly_app):
    nightly_app.config["SOLVER_COMMAND"] = fault_command("invalid")
    before = booking_book()
    run = reoptimize(WEEK, time_limit_s=2)
    assert run.state == "failed" and "breaks" in run.message and "hard rule" in run.message
    assert booking_book() == before
    folder = runs_dir(nightly_app) / run.files_dir
    assert "rule 2" in (folder / "violations.txt").read_text()


def test_no_plan_before_the_deadline_applies_nothing(nightly_app):
    nightly_app.config.update(SOLVER_COMMAND=fault_command("hang"), SOLVER_GRACE_S=1.0)
    before = booking_book()
    t0 = time.monotonic()
    run = reoptimize(WEEK, time_limit_s=1)
    assert time.monotonic() - t0 < 15
    assert run.state == "failed" and "did not finish within 2 s" in run.message
    assert booking_book() == before


def test_a_solver_that_exits_without_a_plan_or_crashes_applies_nothing(nightly_app):
    before = booking_book()
    for mode, words in (("nothing", "without writing a plan"), ("crash", "exit code 3")):
        nightly_app.config["SOLVER_COMMAND"] = fault_command(mode)
        run = reoptimize(WEEK, time_limit_s=2)
        assert run.state == "failed" and words in run.message
    assert booking_book() == before


def test_a_booking_made_while_the_solver_runs_is_kept_and_the_plan_stays_valid(nightly_app):
    nightly_app.config["SOLVER_COMMAND"] = fault_command("late")
    folder = runs_dir(nightly_app) / "run-000001"
    made: list[tuple[str, str]] = []
    app = nightly_app

    def book_a_slot_the_plan_uses() -> None:
        if not wait_for(folder / "plan.json.ready", 60):
            return
        with app.app_context():
            try:
                plan = load_plan(folder / "plan.json")
                held = set(db.session.scalars(select(Slot.code).join(SlotHold)))
                admin = User(username="admin-race", role=Role.ADMIN.value)
                admin.set_password("x" * 12)
                db.session.add(admin)
                db.session.commit()
                people = db.session.scalars(select(Participant).order_by(Participant.code))
                people = list(people)
                for a in plan.assignments:  # a slot the plan fills that is free right now
                    if len(a.slots) != 1 or a.slots[0] in held:
                        continue
                    for who in people:
                        try:
                            b = book_slots(admin, list(a.slots), participant=who)
                        except BookingError:
                            continue
                        made.append((b.code, a.slots[0]))
                        return
            finally:
                db.session.remove()
                (folder / "plan.json.go").touch()

    thread = threading.Thread(target=book_a_slot_the_plan_uses)
    thread.start()
    run = reoptimize(WEEK, time_limit_s=3)
    thread.join()
    assert made, "no slot of the plan could be booked during the solve"
    code, slot = made[0]
    assert run.state == "applied", run.message
    assert "merged around the bookings of 1 participant" in run.message
    book = booking_book()["bookings"]
    assert book[code] == ("confirmed", (slot,))  # the booking made meanwhile is untouched
    week = get_week(db.session, WEEK)
    inst = build_instance(db.session, week, freeze_until=run.freeze_until, timezone="Asia/Shanghai")
    assert validate(inst, build_plan(db.session, week, inst)) == []


def _install_failing_trigger() -> None:
    """A real database error in the middle of apply: inserting a run change is refused."""
    if db.engine.dialect.name == "sqlite":
        db.session.execute(
            text(
                "CREATE TRIGGER refuse_changes BEFORE INSERT ON run_changes "
                "BEGIN SELECT RAISE(ABORT, 'injected: disk full'); END"
            )
        )
    else:
        db.session.execute(
            text(
                "CREATE FUNCTION refuse_changes() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'injected: disk full'; END $$ LANGUAGE plpgsql"
            )
        )
        db.session.execute(
            text(
                "CREATE TRIGGER refuse_changes BEFORE INSERT ON run_changes "
                "FOR EACH ROW EXECUTE FUNCTION refuse_changes()"
            )
        )
    db.session.commit()


def test_a_database_error_during_apply_rolls_everything_back(nightly_app):
    _install_failing_trigger()
    before = booking_book()
    run = reoptimize(WEEK, time_limit_s=3)
    assert run.state == "failed" and "injected: disk full" in run.message
    assert booking_book() == before
    assert db.session.scalar(select(func.count(Notification.id))) == 0
    assert run.lock_key is None
    # The week is free again: the next run is granted (and fails the same way, cleanly).
    again = reoptimize(WEEK, time_limit_s=3)
    assert again.state == "failed" and again.id != run.id
    assert (
        db.session.scalar(
            select(func.count(OptimizationRun.id)).where(OptimizationRun.state == "running")
        )
        == 0
    )


def test_the_solvers_progress_reaches_the_run_record_while_it_runs(nightly_app):
    nightly_app.config["SOLVER_COMMAND"] = fault_command("late")
    folder = runs_dir(nightly_app) / "run-000001"
    seen: list[dict] = []
    app = nightly_app

    def watch() -> None:
        try:
            if not wait_for(folder / "plan.json.ready", 60):
                return
            deadline = time.monotonic() + 10
            with app.app_context():
                while time.monotonic() < deadline:
                    db.session.expire_all()
                    run = db.session.get(OptimizationRun, 1)
                    if run.state == "running" and run.progress.get("objective") is not None:
                        seen.append(dict(run.progress))
                        break
                    time.sleep(0.2)
                db.session.remove()
        finally:
            (folder / "plan.json.go").touch()

    thread = threading.Thread(target=watch)
    thread.start()
    run = reoptimize(WEEK, time_limit_s=3)
    thread.join()
    assert seen, "no progress reached the run record while the run was in progress"
    assert isinstance(seen[0]["objective"], int | float) and seen[0]["elapsed_s"] > 0
    assert run.state in ("applied", "no_change"), run.message
