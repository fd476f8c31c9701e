"""The scheduler process with one slow periodic job, for the graceful-stop test:
``python -m tests.app.ops.slow_clock MARKER`` (DATABASE_URL names a SQLite file)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from app import create_app
from app.extensions import db
from app.jobs.clock import JOBS, JobSpec, run_scheduler

MARKER = Path(sys.argv[1]) if len(sys.argv) > 1 else None


def slow_job(app) -> None:
    """Write "started", take three seconds, write "finished"."""
    with open(MARKER, "a", encoding="utf-8") as f:
        f.write("started\n")
    time.sleep(3)
    with open(MARKER, "a", encoding="utf-8") as f:
        f.write("finished\n")


if __name__ == "__main__":
    app = create_app()
    with app.app_context():
        db.create_all()
    heartbeat = next(j for j in JOBS if j.id == "clock-heartbeat")
    slow = JobSpec("slow", "a slow job", "tests.app.ops.slow_clock:slow_job",
                   interval_setting="CLOCK_HEARTBEAT_S")  # fmt: skip
    run_scheduler(app, (heartbeat, slow))
