"""A web request's id follows the work it enqueues: the job row keeps it, a real worker logs
the job's lines with it (``LOG_FORMAT=json``), and the solver child's log names it."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from app.extensions import db
from app.models import Job, OptimizationRun, User
from tests.app.jobs.conftest import wait_until
from tests.app.nightly.conftest import WEEK

PASSWORD = "correct horse battery"


def _run(run_id: int) -> OptimizationRun:
    db.session.rollback()
    return db.session.get(OptimizationRun, run_id, populate_existing=True)


def test_the_request_id_is_carried_into_the_job_the_worker_and_the_solver(queue_app, workers):
    user = User(username="log-admin", role="admin")
    user.set_password(PASSWORD)
    db.session.add(user)
    db.session.commit()
    client = queue_app.test_client()
    client.post("/auth/login", data={"username": "log-admin", "password": PASSWORD})
    rid = "trace-7f3a9c"
    pressed = client.post(
        "/runs/reoptimize",
        data={"week": WEEK.isoformat(), "confirm": "yes"},
        headers={"X-Request-ID": rid},
    )
    assert pressed.status_code == 302 and pressed.headers["X-Request-ID"] == rid
    run_id = int(pressed.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    job = db.session.scalar(select(Job).where(Job.dedupe_key == f"run:{run_id}"))
    assert job.request_id == rid

    proc = workers.start(LOG_FORMAT="json")
    assert wait_until(lambda: _run(run_id).state not in ("queued", "running"), 120)
    assert wait_until(lambda: f"job #{job.id} done" in workers.log(proc), 30), workers.log(proc)
    lines = [json.loads(x) for x in workers.log(proc).splitlines() if x.startswith("{")]
    mine = [x for x in lines if x.get("job_id") == job.id]
    assert mine and all(x["request_id"] == rid and x["job_kind"] == job.kind for x in mine)
    assert any(x["message"].startswith(f"job #{job.id} done") for x in mine)
    # Lines outside the job (the worker starting) carry no request id.
    assert any(x["message"].startswith("worker started") and x["request_id"] is None for x in lines)

    run = _run(run_id)
    solver_log = Path(queue_app.config["RUNS_DIR"], run.files_dir, "solver.log").read_text()
    assert rid in solver_log.splitlines()[0]
