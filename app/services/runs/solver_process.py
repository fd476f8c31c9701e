"""Run the solver in a child process with a deadline, and read its plan back.

The web app never imports OR-Tools: a run writes the week to a file, starts the configured
solver command on it, polls the child's progress file, and kills the whole process group once
``time_limit + grace`` has passed. Whatever the child does — crash, hang, get killed, write
garbage — the caller gets a :class:`SolverResult` with a one-line reason, never an exception.

The command is configuration (``SOLVER_COMMAND``, an argv prefix), which is also the seam the
fault tests use: it is called as ``COMMAND INSTANCE -o PLAN --time-limit S --workers N`` with
``$CHUNLEI_PROGRESS_FILE`` naming the progress file, so ``python -m scheduler solve`` works too.
"""

from __future__ import annotations

import ctypes
import json
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from app.observability import logs
from scheduler.cli import PROGRESS_ENV
from scheduler.domain import Plan
from scheduler.io import FormatError, load_plan

#: The default solver command: the CP-SAT solver in a child, with progress reporting.
DEFAULT_COMMAND = (sys.executable, "-m", "scheduler", "solve")
_PROJECT_ROOT = str(Path(__file__).resolve().parents[3])
_PR_SET_PDEATHSIG = 1
try:  # resolved before any fork: a forked child must not load libraries
    _prctl = ctypes.CDLL(None, use_errno=True).prctl if sys.platform.startswith("linux") else None
except (OSError, AttributeError):
    _prctl = None


def die_with_parent(parent_pid: int | None = None, sig: int = signal.SIGKILL) -> None:
    """In a child process: have Linux send ``sig`` to it when its parent dies.

    ``PR_SET_PDEATHSIG`` via prctl; elsewhere nothing happens (the process group is then the
    only way to stop it). A parent that died before the request took effect ends the child now.
    """
    if _prctl is None:
        return
    _prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    if parent_pid is not None and os.getppid() != parent_pid:
        os._exit(1)


@dataclass
class SolverResult:
    """What came back from one child solve: a plan, or why there is none."""

    plan: Plan | None
    reason: str | None
    returncode: int | None
    wall_s: float
    progress: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.plan is not None


def solver_command(config: Mapping) -> list[str]:
    """The argv prefix from ``SOLVER_COMMAND`` (a list, or a shell-quoted string)."""
    raw = config.get("SOLVER_COMMAND")
    if not raw:
        return list(DEFAULT_COMMAND)
    return shlex.split(raw) if isinstance(raw, str) else [str(x) for x in raw]


def read_progress(path: str | os.PathLike) -> dict:
    """The child's latest progress report, or ``{}`` while there is none (or it is mid-write)."""
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def _kill_group(proc: subprocess.Popen, wait_s: float = 3.0) -> None:
    """SIGTERM the child's process group, then SIGKILL whatever is left."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        try:
            proc.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue


def _tail(path: Path, lines: int = 3) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " | ".join(line.strip() for line in text[-lines:])


def run_solver(
    command: list[str],
    instance_path: Path,
    plan_path: Path,
    *,
    time_limit_s: float,
    workers: int,
    grace_s: float = 15.0,
    on_progress: Callable[[dict], None] | None = None,
    poll_s: float = 0.25,
    extra_args: Sequence[str] = (),
) -> SolverResult:
    """Solve ``instance_path`` into ``plan_path`` in a child; kill it after the deadline.

    ``on_progress`` receives the child's progress dict (with ``elapsed_s`` measured here) about
    every ``poll_s``; the caller stores it for the UI. The child's output goes to
    ``solver.log`` next to the plan, so a long solve can never block on a full pipe.
    """
    argv = [
        *command,
        str(instance_path),
        "-o",
        str(plan_path),
        "--time-limit",
        f"{time_limit_s:g}",
        "--workers",
        str(workers),
        *extra_args,
    ]
    result = run_child(
        argv,
        plan_path,
        deadline_s=time_limit_s + grace_s,
        on_progress=on_progress,
        poll_s=poll_s,
        what="the solver",
        output_name="a plan",
        log_stem="solver",
    )
    if result.reason is not None:
        return result
    try:
        plan = load_plan(plan_path)
    except FormatError as e:
        reason = f"the solver wrote an unreadable plan: {e}"
        return SolverResult(None, reason, result.returncode, result.wall_s, result.progress)
    return SolverResult(plan, None, result.returncode, result.wall_s, result.progress)


def run_child(
    argv: list[str],
    output: Path,
    *,
    deadline_s: float,
    on_progress: Callable[[dict], None] | None = None,
    poll_s: float = 0.25,
    what: str = "the solver",
    output_name: str | None = None,
    log_stem: str | None = None,
) -> SolverResult:
    """Run one scheduler child (``argv``) that writes ``output``; kill it after ``deadline_s``.

    The result has no plan (``reason`` None means the child ended well and wrote ``output``).
    Its output goes to ``<log_stem>.log`` beside ``output`` (default: the output's stem), its
    pid to ``<log_stem>.pid``; ``what`` and ``output_name`` name the child and its output in
    the reason.
    """
    folder = output.parent
    progress_path = folder / "progress.json"
    stem = log_stem or output.stem
    log_path = folder / f"{stem}.log"
    output.unlink(missing_ok=True)
    env = dict(os.environ)
    env[PROGRESS_ENV] = str(progress_path)
    # The log context of the job carrying the run out (request id, job id): the child's log
    # file starts with it, and the child inherits it as CHUNLEI_LOG_CONTEXT (JSON).
    context = json.dumps(dict(logs.context()), default=str, sort_keys=True)
    env["CHUNLEI_LOG_CONTEXT"] = context
    env["PYTHONPATH"] = os.pathsep.join(p for p in (_PROJECT_ROOT, env.get("PYTHONPATH")) if p)
    t0 = time.monotonic()
    parent = os.getpid()
    try:
        with open(log_path, "wb") as log_file:
            log_file.write(f"# chunlei solver child, context {context}\n".encode())
            log_file.flush()
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # its own process group: we can kill all of it
                preexec_fn=lambda: die_with_parent(parent),  # and it dies with its parent
            )
    except OSError as e:
        return SolverResult(None, f"cannot start {what}: {e.strerror or e}", None, 0.0)
    (folder / f"{stem}.pid").write_text(f"{proc.pid}\n", encoding="utf-8")

    progress: dict = {}
    timed_out = False
    try:
        while proc.poll() is None:
            elapsed = time.monotonic() - t0
            if elapsed > deadline_s:
                timed_out = True
                _kill_group(proc)
                break
            progress = {**read_progress(progress_path), "elapsed_s": round(elapsed, 2)}
            if on_progress is not None:
                on_progress(progress)
            time.sleep(poll_s)
    finally:
        if proc.poll() is None:  # the caller was interrupted: never leave a solver behind
            _kill_group(proc)
    wall = round(time.monotonic() - t0, 2)
    progress = {**progress, **read_progress(progress_path), "elapsed_s": wall}
    rc = proc.returncode

    if timed_out:
        reason = f"{what} did not finish within {deadline_s:g} s and was killed"
        return SolverResult(None, reason, rc, wall, progress)
    if rc != 0:
        if rc < 0:
            reason = f"{what} process was killed by {signal.Signals(-rc).name}"
        else:
            reason = f"{what} process failed with exit code {rc}"
        tail = _tail(log_path)
        return SolverResult(None, f"{reason}: {tail}" if tail else reason, rc, wall, progress)
    if not output.exists():
        return SolverResult(
            None,
            f"{what} finished without writing {output_name or output.name}",
            rc,
            wall,
            progress,
        )
    return SolverResult(None, None, rc, wall, progress)
