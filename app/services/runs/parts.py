"""A whole-programme week solved in parts, spread over the job queue's workers.

A run whose week has at least ``SOLVER_PARTS_MIN_REQUESTS`` requests is solved in four steps
instead of one solver child, when ``SOLVER_PARTS`` is 2 or more (``scheduler/parts.py`` has the
method):

1. **split**: ``python -m scheduler split`` in a child, on the host carrying the run out: the
   warm start and the parts (bases in compact groups of about equal slots, each participant in
   one part), within ``PREPARE_SHARE`` of the time;
2. **parts**: the week and the split go into ``run_files`` (every worker host reads them from the
   database), and one ``runs.part`` job per part goes on the queue. This process runs queued
   parts itself while it waits for those other workers took: with one worker every part runs
   here in turn, with N workers on N hosts side by side. Each part gets
   ``part_seconds(time, parts, SOLVER_PART_WORKERS)``;
3. **merge**: ``python -m scheduler merge`` of the answers that came back; a part that failed or
   was not done in time keeps the start's sessions (the merge is valid either way);
4. **seam**: the solver child from the merge (``--start``) over the whole week, for
   ``SEAM_SHARE`` of the time: areas across the parts' borders, and the level-4 pass.

The plan then goes through the run's usual checks and apply (``reoptimize.py``). The run's files
in the database are deleted when the solve ends; its folder keeps them all for a developer.
"""

from __future__ import annotations

import gzip
import json
import logging
import math
import os
import secrets
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from sqlalchemy import delete, select

from app.extensions import db
from app.jobs.execute import run_job
from app.jobs.queue import enqueue
from app.models import Job, OptimizationRun, RunFile
from app.models.vocabulary import JobStatus, RunState
from app.services.runs import liveness
from app.services.runs.folders import runs_dir
from app.services.runs.solver_process import SolverResult, run_child, run_solver, solver_command
from scheduler.domain import Instance
from scheduler.parts import PREPARE_SHARE, SEAM_SHARE, part_seconds

log = logging.getLogger("chunlei.runs")

#: The scheduler's command line (``split``, ``part`` and ``merge`` are its sub-commands).
SCHEDULER = (sys.executable, "-m", "scheduler")
#: A part with less time than this left is not started (its participants keep the start).
MIN_PART_S = 2.0
#: How often the run looks at its parts' jobs while others run them.
POLL_S = 0.5
PART_KIND = "runs.part"


def parts_for(config: Mapping, inst: Instance) -> int:
    """How many parts this week is solved in: 0 (one solver child) below the threshold."""
    k = int(config.get("SOLVER_PARTS", 0) or 0)
    at_least = int(config.get("SOLVER_PARTS_MIN_REQUESTS", 12_000))
    return k if k >= 2 and len(inst.requests) >= at_least else 0


# ---------------------------------------------------------------------------- files


def store_file(run_id: int, name: str, path: Path) -> None:
    """Put a file of the run into the database (gzip), replacing one of that name."""
    data = gzip.compress(path.read_bytes(), compresslevel=1)
    db.session.execute(delete(RunFile).where(RunFile.run_id == run_id, RunFile.name == name))
    db.session.add(RunFile(run_id=run_id, name=name, data=data))
    db.session.commit()


def fetch_file(run_id: int, name: str, path: Path) -> bool:
    """Write a file of the run from the database to ``path`` (atomically); False if absent."""
    data = db.session.scalar(
        select(RunFile.data).where(RunFile.run_id == run_id, RunFile.name == name)
    )
    db.session.rollback()  # no transaction left open while the part runs
    if data is None:
        return False
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(gzip.decompress(data))
    os.replace(tmp, path)
    return True


def drop_files(run_id: int) -> None:
    db.session.execute(delete(RunFile).where(RunFile.run_id == run_id))
    db.session.commit()


# ---------------------------------------------------------------------------- the run's side


def solve_in_parts(
    run_id: int,
    folder: Path,
    k: int,
    *,
    time_limit_s: float,
    config: Mapping,
) -> SolverResult:
    """Split, parts on the queue, merge, seam (the module's docstring): the plan, or why none."""
    t0 = time.monotonic()
    grace = float(config.get("SOLVER_GRACE_S", 60.0))
    threads = int(config.get("SOLVER_PART_THREADS", 1))
    expected_workers = int(config.get("SOLVER_PART_WORKERS", 2))
    instance, split_path = folder / "instance.json", folder / "split.json"

    def beat(phase: str, **more: object) -> None:
        elapsed = round(time.monotonic() - t0, 2)
        liveness.heartbeat(
            run_id, {"phase": phase, "elapsed_s": elapsed, "limit_s": time_limit_s, **more}
        )

    beat("splitting")
    prepare_s = PREPARE_SHARE * time_limit_s
    result = run_child(
        [
            *SCHEDULER,
            "split",
            str(instance),
            "-o",
            str(split_path),
            "--parts",
            str(k),
            "--time-limit",
            f"{prepare_s:g}",
        ],
        split_path,
        deadline_s=prepare_s + grace,
        what="the split",
    )
    if result.reason is not None:
        return result
    try:
        store_file(run_id, "instance.json", instance)
        store_file(run_id, "split.json", split_path)
        parts = len(json.loads(split_path.read_text(encoding="utf-8"))["parts"])
        each = part_seconds(time_limit_s, parts, expected_workers)
        # This attempt's answers only: a part job left over from an earlier attempt of the run
        # (its worker died, the run was queued again) answers under another token.
        token = secrets.token_hex(6)
        # Past this instant a part is not started: the worst case is every part in turn here.
        until = time.time() + parts * (each + MIN_PART_S) + grace
        jobs = [
            enqueue(
                PART_KIND,
                {
                    "run_id": run_id,
                    "part": i,
                    "time_limit_s": round(each, 2),
                    "threads": threads,
                    "seed": i + 1,
                    "until": until,
                    "token": token,
                },
            )
            for i in range(parts)
        ]
        done = _wait_for_parts(jobs, until, lambda n: beat("parts", parts=parts, parts_done=n))
        answers = []
        for i in done:
            path = folder / f"part-{i}.json"
            if fetch_file(run_id, answer_name(i, token), path):
                answers.append(str(path))
        beat("merging", parts=parts, parts_done=len(answers))
        merged = folder / "merged.json"
        result = run_child(
            [*SCHEDULER, "merge", str(instance), str(split_path), *answers, "-o", str(merged)],
            merged,
            deadline_s=grace + 60.0,
            what="the merge",
        )
        if result.reason is not None:
            return result
        beat("solving", parts=parts, parts_done=len(answers))
        seam_s = max(SEAM_SHARE * time_limit_s, time_limit_s - (time.monotonic() - t0))
        if len(done) < parts:
            log.warning("run #%s: %s of %s parts answered", run_id, len(done), parts)
        seam = run_solver(
            solver_command(config),
            instance,
            folder / "plan.json",
            time_limit_s=seam_s,
            workers=int(config.get("SOLVER_WORKERS", 2)),
            grace_s=grace,
            extra_args=["--start", str(merged)],
        )
        wall = round(time.monotonic() - t0, 2)
        if seam.plan is not None:  # the run records the plan's wall time: all four steps
            seam.plan.stats.update(parts=parts, parts_answered=len(answers), wall_s=wall)
        progress = {**seam.progress, "parts": parts, "parts_done": len(answers)}
        return SolverResult(seam.plan, seam.reason, seam.returncode, wall, progress)
    finally:
        drop_files(run_id)


def _wait_for_parts(jobs: list[int], until: float, progress: Callable[[int], None]) -> list[int]:
    """Run the queued parts here, wait for the ones other workers run; the parts done."""
    index = {job_id: i for i, job_id in enumerate(jobs)}
    while True:
        found = db.session.execute(select(Job.id, Job.status).where(Job.id.in_(jobs))).all()
        rows: dict[int, JobStatus] = {row.id: row.status for row in found}
        db.session.rollback()
        finished = [j for j in jobs if rows.get(j) in (JobStatus.DONE, JobStatus.FAILED)]
        progress(len(finished))
        queued = [j for j in jobs if rows.get(j) == JobStatus.QUEUED]
        if len(finished) == len(jobs) or time.time() > until:
            break
        if queued:
            run_job(queued[0], due_now=True)  # None when another worker claimed it first
            continue
        time.sleep(POLL_S)
    done = db.session.scalars(
        select(Job.id).where(Job.id.in_(jobs), Job.status == JobStatus.DONE)
    ).all()
    db.session.rollback()
    return sorted(index[j] for j in done)


# ---------------------------------------------------------------------------- a part's job


def run_part(payload: dict) -> dict:
    """One part of a run's week, on whichever worker took the job: fetch, solve, answer."""
    run_id, i = int(payload["run_id"]), int(payload["part"])
    run = db.session.get(OptimizationRun, run_id)
    if run is None or run.state != RunState.RUNNING or not run.files_dir:
        db.session.rollback()
        return {"part": i, "skipped": "the run is no longer running"}
    left = float(payload.get("until", math.inf)) - time.time()
    limit = min(float(payload["time_limit_s"]), left - MIN_PART_S)
    if limit < MIN_PART_S:
        db.session.rollback()
        return {"part": i, "skipped": "too late for this run"}
    folder = runs_dir() / run.files_dir
    db.session.rollback()
    folder.mkdir(parents=True, exist_ok=True)
    instance, split_path = folder / "instance.json", folder / "split.json"
    for name, path in (("instance.json", instance), ("split.json", split_path)):
        if not path.exists() and not fetch_file(run_id, name, path):
            raise RuntimeError(f"run #{run_id} has no {name} to solve part {i} from")
    answer = folder / f"part-{i}.json"
    argv = [
        *SCHEDULER, "part", str(instance), str(split_path), "--part", str(i),
        "-o", str(answer), "--time-limit", f"{limit:g}",
        "--workers", str(int(payload.get("threads", 1))),
        "--seed", str(int(payload.get("seed", i + 1))),
    ]  # fmt: skip
    result = run_child(argv, answer, deadline_s=limit + 60.0, what=f"part {i}")
    if result.reason is not None:
        raise RuntimeError(result.reason)
    stats = json.loads(answer.read_text(encoding="utf-8")).get("stats", {})
    store_file(run_id, answer_name(i, str(payload.get("token", ""))), answer)
    return {"part": i, "wall_s": result.wall_s, **stats}


def answer_name(part: int, token: str) -> str:
    """The name of a part's answer in ``run_files``, for one attempt of the run."""
    return f"part-{part}-{token}.json"
