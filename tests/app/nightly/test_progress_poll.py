"""The run page's progress poll on the demo's SQLite file never fails with "database is locked":
the file is in write-ahead-log mode (readers never wait for a writer) and the poll only reads,
ending its read at once. Polled while another connection holds a long write transaction, and
all through a real run that writes its progress, plan and bookings."""

from __future__ import annotations

import sqlite3
import threading
import time

from sqlalchemy import select

from app.extensions import db
from app.models import OptimizationRun
from app.services.runs import guard as run_guard
from app.services.runs.reoptimize import reoptimize
from app.services.timetable.weeks import get_week
from tests.app.nightly.conftest import WEEK, configured_app, seed_small_week, sqlite_file
from tests.app.nightly.test_pages import signed_in


def _app(tmp_path):
    url = sqlite_file(tmp_path)
    app = configured_app(url, tmp_path)
    with app.app_context():
        seed_small_week()
    return app, url.removeprefix("sqlite:///")


def test_polls_answer_while_another_connection_holds_a_long_write(tmp_path):
    app, path = _app(tmp_path)
    with app.app_context():
        run, granted = run_guard.claim(get_week(db.session, WEEK), trigger="manual", actor=None,
                                       actor_label="t")  # fmt: skip
        assert granted
        run_id = run.id
    client = signed_in(app, "admin")
    writer = sqlite3.connect(path, timeout=1, isolation_level=None)
    writer.execute("BEGIN EXCLUSIVE")
    writer.execute("UPDATE optimization_runs SET message = 'writing' WHERE id = ?", (run_id,))
    try:
        started = time.monotonic()
        answers = []
        while time.monotonic() - started < 6.5:  # longer than SQLite's 5 s busy wait
            response = client.get(f"/runs/{run_id}/progress.json")
            answers.append(response.status_code)
            assert response.get_json()["status"] == "running"
        assert set(answers) == {200} and len(answers) > 3
    finally:
        writer.execute("COMMIT")
        writer.close()
    with app.app_context():
        db.engine.dispose()


def test_polls_answer_all_through_a_real_run(tmp_path):
    app, _path = _app(tmp_path)
    client = signed_in(app, "admin")
    done = threading.Event()
    outcome: dict = {}

    def work():
        with app.app_context():
            try:
                outcome["state"] = reoptimize(WEEK, time_limit_s=2).state
            finally:
                db.session.remove()
                done.set()

    thread = threading.Thread(target=work)
    thread.start()
    answers: list[int] = []
    try:
        run_id = None
        while not done.is_set():
            if run_id is None:
                with app.app_context():
                    run_id = db.session.scalar(select(OptimizationRun.id))
                    db.session.remove()
            if run_id is not None:
                answers.append(client.get(f"/runs/{run_id}/progress.json").status_code)
                answers.append(client.get(f"/runs/{run_id}").status_code)
            time.sleep(0.05)
    finally:
        thread.join(timeout=120)
    assert outcome.get("state") == "applied"
    assert answers and set(answers) == {200}
    with app.app_context():
        db.engine.dispose()
