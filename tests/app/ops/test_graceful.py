"""SIGTERM with work in flight, on real processes: a gunicorn web host answers the booking it
holds and stores it; the scheduler finishes the job it is running. (A queue worker finishing
or handing back its job: tests/app/jobs/test_workers.py.)"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
from sqlalchemy import create_engine, select, text

from app.models import Booking
from tests.app.jobs.conftest import wait_until
from tests.app.nightly.conftest import configured_app, in_seeded_week
from tests.app.web_server import ROOT, WebServer


def test_a_web_host_answers_and_keeps_the_booking_in_flight_when_stopped(pg_server, tmp_path):
    url = pg_server.create("chunlei_graceful")
    for _app in in_seeded_week(configured_app(url, tmp_path)):
        pass  # seeded; the web host does the rest
    web = WebServer({"DATABASE_URL": url, "QUEUE_URL": "eager://"}, tmp_path / "g.log", workers=1)
    try:
        status, body, _ = web.request(
            "POST", "/api/v1/tokens", {"username": "p00001", "password": "chunlei-p"}
        )
        auth = {"Authorization": f"Bearer {json.loads(body)['token']}"}
        status, body, _ = web.get("/api/v1/slots?free=true&limit=1", headers=auth)
        slot = json.loads(body)[0]["id"]

        plain = url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(plain) as blocker:
            blocker.execute("LOCK TABLE slot_holds IN ACCESS EXCLUSIVE MODE")
            answer: dict = {}

            def book() -> None:
                answer["r"] = web.request("POST", "/api/v1/bookings", {"slots": [slot]},
                                          headers=auth, timeout=60)  # fmt: skip

            client = threading.Thread(target=book)
            client.start()
            assert wait_until(lambda: _waiting_on_a_lock(plain), 30), web.log()
            web.proc.send_signal(signal.SIGTERM)
            time.sleep(1.5)  # the master has stopped listening; the worker still holds it
            assert web.proc.poll() is None
            blocker.rollback()  # the lock goes: the booking goes on
        client.join(timeout=60)
        status, body, _ = answer["r"]
        assert status == 201, body
        code = json.loads(body)["id"]
        assert web.proc.wait(timeout=40) == 0, web.log()
    finally:
        web.stop()
    engine = create_engine(url)
    with engine.connect() as conn:
        stored = conn.execute(select(Booking.status).where(Booking.code == code)).scalar()
    engine.dispose()
    assert stored == "confirmed"


def _waiting_on_a_lock(url: str) -> bool:
    """A backend of the database waits for a lock (the booking, behind the blocker)."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ).fetchone()
    return bool(row and row[0])


def test_the_scheduler_finishes_its_running_job_on_sigterm(tmp_path):
    marker = tmp_path / "marker.txt"
    database = tmp_path / "clock.sqlite"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "CLOCK_HEARTBEAT_S": "1",
        "PYTHONPATH": str(ROOT),
    }
    log = open(tmp_path / "clock.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "tests.app.ops.slow_clock", str(marker)],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        assert wait_until(lambda: marker.exists() and "started" in marker.read_text(), 60)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
    output = Path(log.name).read_text()
    assert marker.read_text().splitlines()[-1] == "finished", output
    assert "waiting for a running job to finish" in output
    engine = create_engine(f"sqlite:///{database}")
    with engine.connect() as conn:
        beat = conn.execute(text("SELECT count(*) FROM process_heartbeats WHERE name = 'clock'"))
        assert beat.scalar() == 1  # the clock beat while it ran
    engine.dispose()
