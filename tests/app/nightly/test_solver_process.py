"""The solver child process: a plan comes back, or a one-line reason — never an exception.

Each case starts a real child through the ``SOLVER_COMMAND`` seam (``fault_solver.py``) on a
small generated week written with ``scheduler.io``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from app.services.runs.solver_process import DEFAULT_COMMAND, run_solver, solver_command
from scheduler.io import dump_instance, write_json
from tests.scheduler.builders import req, slot, week

FAULT = str(Path(__file__).with_name("fault_solver.py"))


@pytest.fixture()
def instance_file(tmp_path: Path) -> Path:
    inst = week(
        studios={"B1-S1": ["kitchen"], "B2-S1": []},
        days=2,
        hours=(18, 20),
        requests=[req("R1", "P1", sessions=2), req("R2", "P2", priority=3)],
        bookings=[("R1", [slot("B1-S1", 0, 18)], "locked")],
    )
    path = tmp_path / "instance.json"
    write_json(dump_instance(inst), path)
    return path


def fault(mode: str) -> list[str]:
    return [sys.executable, FAULT, mode]


def test_command_comes_from_config_as_list_or_string():
    assert solver_command({}) == list(DEFAULT_COMMAND)
    assert solver_command({"SOLVER_COMMAND": "python3 -m scheduler solve"}) == [
        "python3",
        "-m",
        "scheduler",
        "solve",
    ]
    assert solver_command({"SOLVER_COMMAND": ["a", "b"]}) == ["a", "b"]


def test_a_plan_comes_back_with_progress(instance_file: Path):
    seen: list[dict] = []
    result = run_solver(
        fault("keep"),
        instance_file,
        instance_file.with_name("plan.json"),
        time_limit_s=5,
        workers=1,
        on_progress=seen.append,
        poll_s=0.01,
    )
    assert result.ok and result.reason is None
    assert [(a.request, a.slots) for a in result.plan.assignments] == [("R1", ("B1-S1/d0/18",))]
    assert result.progress["objective"] == 7 and result.progress["bound"] == 9


def test_a_crash_gives_the_exit_code_and_the_last_output(instance_file: Path):
    result = run_solver(
        fault("crash"), instance_file, instance_file.with_name("p.json"), time_limit_s=5, workers=1
    )
    assert not result.ok and result.returncode == 3
    assert "exit code 3" in result.reason and "exploded on purpose" in result.reason


def test_a_killed_solver_is_reported_as_killed(instance_file: Path):
    result = run_solver(
        fault("sigkill"),
        instance_file,
        instance_file.with_name("p.json"),
        time_limit_s=5,
        workers=1,
    )
    assert not result.ok
    assert "killed by SIGKILL" in result.reason


def test_a_hanging_solver_is_killed_after_the_deadline(instance_file: Path):
    t0 = time.monotonic()
    result = run_solver(
        fault("hang"),
        instance_file,
        instance_file.with_name("p.json"),
        time_limit_s=0.5,
        workers=1,
        grace_s=0.5,
    )
    took = time.monotonic() - t0
    assert not result.ok and "did not finish within 1 s" in result.reason
    assert 0.9 < took < 6


@pytest.mark.parametrize(
    ("mode", "words"),
    [("nothing", "without writing a plan"), ("garbage", "unreadable plan")],
)
def test_no_plan_or_a_broken_file_is_no_plan(instance_file: Path, mode: str, words: str):
    result = run_solver(
        fault(mode), instance_file, instance_file.with_name("p.json"), time_limit_s=5, workers=1
    )
    assert not result.ok and words in result.reason


def test_a_missing_command_is_a_reason_not_an_exception(instance_file: Path, tmp_path: Path):
    result = run_solver(
        [str(tmp_path / "no-such-solver")],
        instance_file,
        instance_file.with_name("p.json"),
        time_limit_s=1,
        workers=1,
    )
    assert not result.ok and result.reason.startswith("cannot start the solver")
