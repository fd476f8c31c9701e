"""A ``flask reoptimize`` killed with SIGKILL mid-solve: within seconds its week can be claimed
again, the run shows failed with the reason, and its solver child died with it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.extensions import db
from app.models import OptimizationRun
from app.services.runs import guard as run_guard
from app.services.runs.solver_process import read_progress
from app.services.timetable.weeks import get_week
from tests.app.nightly.conftest import WEEK, booking_book, fault_command

ROOT = Path(__file__).resolve().parents[3]


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")  # a zombie waiting for its reaper is dead


def _wait(check, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    return None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_killed_reoptimize_frees_its_week_in_seconds_and_its_solver_dies_too(nightly_app):
    app = nightly_app
    app.config["RUN_STALE_S"] = 4.0
    before = booking_book()
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "RUNS_DIR": app.config["RUNS_DIR"],
        "SOLVER_COMMAND": " ".join(fault_command("hang")),
        "RUN_HEARTBEAT_S": "1",
    }
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "reoptimize", "--week"]
    proc = subprocess.Popen(
        [*command, WEEK.isoformat(), "--time-limit", "60"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        progress = Path(app.config["RUNS_DIR"]) / "run-000001" / "progress.json"
        solver = _wait(lambda: read_progress(progress).get("pid"), 90)
        assert solver, "the solver started and reported its pid"
        time.sleep(1.5)  # a live run is never taken over: its heartbeat is fresh
        week = get_week(db.session, WEEK)
        run, granted = run_guard.claim(week, trigger="manual", actor=None, actor_label="early")
        assert not granted and "run #1 of this week is in progress" in run.message
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        killed_at = time.monotonic()
        assert _wait(lambda: _gone(solver), 5), "the solver child died with its parent"

        def claim_again():
            run, granted = run_guard.claim(week, trigger="manual", actor=None, actor_label="t")
            return run if granted else None

        taken = _wait(claim_again, 15)
        assert taken is not None, "the week could be claimed again"
        assert time.monotonic() - killed_at < 10
        run_guard.finish(taken, "no_change", "test")
        db.session.commit()
        db.session.expire_all()
        dead = db.session.get(OptimizationRun, 1)
        assert dead.state == "failed" and dead.lock_key is None
        assert "no sign of life" in dead.message and "process" in dead.message
        assert booking_book() == before
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
