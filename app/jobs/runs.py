"""Re-optimization runs as jobs: ``runs.reoptimize`` carries out one queued run.

The run row was recorded ``queued`` by whoever asked (the "re-optimize now" button, the nightly
clock); the job claims the run's week and carries it out on the one run path
(``app.services.runs.reoptimize``). If the attempt ends abnormally (the worker died, or stopped
and handed the job back), :func:`release` frees the week: the run is queued again for the next
attempt, or failed with the reason when none is left. Every reaper also fails the runs started
outside the queue (``flask reoptimize``) whose process went silent, releasing their week.

``runs.part`` solves one part of a whole-programme week for the run that queued it; the run
takes the parts no other worker took, and merges what came back.
"""

from __future__ import annotations

from app.jobs.queue import current_job_id, on_reap, task
from app.services.runs import guard as run_guard
from app.services.runs.liveness import release_dead_runs
from app.services.runs.parts import PART_KIND, run_part
from app.services.runs.reoptimize import run_claimed


def release(job_id: int, payload: dict, retrying: bool, reason: str) -> None:
    """Free the week of the job's run after an abnormal end (see ``run_guard.release_run``)."""
    run_id = payload.get("run_id")
    if isinstance(run_id, int):
        run_guard.release_run(run_id, retrying=retrying, reason=reason)


on_reap(release_dead_runs)


@task("runs.reoptimize", max_attempts=3, release=release)
def reoptimize_job(payload: dict) -> dict:
    """Claim the queued run's week and carry the run out; returns its outcome."""
    run_id = int(payload["run_id"])
    run, granted = run_guard.claim_queued(run_id, job_id=current_job_id())
    if run is None:
        return {"run": run_id, "state": None, "message": "the run no longer exists"}
    if granted:
        time_limit = payload.get("time_limit_s")
        run = run_claimed(run_id, actor_id=run.actor_user_id, time_limit_s=time_limit)
    return {"run": run.id, "state": run.state, "message": run.message}


@task(PART_KIND, max_attempts=2)
def part_job(payload: dict) -> dict:
    """One part of a run's week solved in parts (``app/services/runs/parts.py``), on any worker
    host: the week and the split come from the database, the answer goes back there."""
    return run_part(payload)
