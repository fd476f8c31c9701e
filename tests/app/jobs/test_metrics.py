"""``/metrics`` in multiprocess mode, as Prometheus would scrape it: a gunicorn web host with
two workers and a real queue worker share ``PROMETHEUS_MULTIPROC_DIR``; after a booking (web
process), a placement and a run (worker processes) each is counted in one scrape."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Booking, BookingRequest, User
from app.services.runs.reoptimize import request_run
from tests.app.jobs.conftest import wait_until
from tests.app.nightly.conftest import WEEK
from tests.app.web_server import WebServer

DEMO_PASSWORD = "chunlei-p"


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the exposition (0 when absent), labels matched exactly."""
    total = 0.0
    for line in text.splitlines():
        m = re.match(r"^([a-zA-Z_:][\w:]*)(\{(.*)\})? (\S+)$", line)
        if not m or m.group(1) != name:
            continue
        have = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
        if all(have.get(k) == v for k, v in labels.items()):
            total += float(m.group(4))
    return total


@pytest.fixture
def prom_dir(tmp_path):
    path = tmp_path / "prometheus"
    path.mkdir()
    return path


@pytest.fixture
def web(queue_app, workers, prom_dir, tmp_path):
    env = workers.env(PROMETHEUS_MULTIPROC_DIR=str(prom_dir), INSTANT_PLACEMENT="1")
    # gunicorn is a pinned dependency: a server that does not start is a failure, never a skip
    server = WebServer(env, tmp_path / "gunicorn.log", workers=2)
    yield server
    server.stop()


def _token(web: WebServer, username: str) -> str:
    status, body, _ = web.request(
        "POST", "/api/v1/tokens", {"username": username, "password": DEMO_PASSWORD}
    )
    assert status == 201, body
    return json.loads(body)["token"]


def _book_one(web: WebServer, token: str) -> dict:
    auth = {"Authorization": f"Bearer {token}"}
    status, body, _ = web.get("/api/v1/slots?free=true&limit=100", headers=auth)
    assert status == 200, body
    for slot in json.loads(body):
        status, answer, _ = web.request("POST", "/api/v1/bookings", {"slots": [slot["id"]]},
                                        headers=auth)  # fmt: skip
        if status == 201:
            return json.loads(answer)
    raise AssertionError("no free slot could be booked")


def _file_request(web: WebServer, token: str) -> str:
    start = datetime.combine(WEEK, datetime.min.time()) + timedelta(hours=8)
    end = start + timedelta(days=6, hours=14)
    body = {
        "sessions": 1,
        "length": 1,
        "window": {"start": start.isoformat() + "+08:00", "end": end.isoformat() + "+08:00"},
        "needs": [],
    }
    status, answer, _ = web.request(
        "POST", "/api/v1/requests", body, headers={"Authorization": f"Bearer {token}"}
    )
    assert status == 201, answer
    return json.loads(answer)["id"]


def _placed(code: str) -> bool:
    db.session.rollback()
    row = db.session.scalar(select(BookingRequest).where(BookingRequest.code == code))
    return row is not None and row.placement in ("done", "failed")


def test_a_scrape_counts_the_booking_the_placement_and_the_run(queue_app, workers, web, prom_dir):
    worker = workers.start(PROMETHEUS_MULTIPROC_DIR=str(prom_dir), INSTANT_PLACEMENT="1")

    # A booking: counted by a gunicorn worker.
    booked = _book_one(web, _token(web, "p00001"))
    assert booked["status"] == "confirmed"

    # A placement: filed on the web host, placed by the queue worker.
    code = _file_request(web, _token(web, "p00002"))
    assert wait_until(lambda: _placed(code), 120), workers.log(worker)
    filed = db.session.scalar(select(BookingRequest).where(BookingRequest.code == code))
    proposed = db.session.scalars(select(Booking).where(Booking.request_id == filed.id)).all()
    assert filed.placement == "done" and proposed, filed.placement_reason

    # A run: queued as the "re-optimize now" button does, carried out by the queue worker.
    admin = User(username="metrics-admin", role="admin")
    admin.set_password("metrics admin password")
    db.session.add(admin)
    db.session.commit()
    run = request_run(WEEK, actor=admin)
    assert wait_until(lambda: _run_state(run.id) not in ("queued", "running"), 180), workers.log(
        worker
    )
    state = _run_state(run.id)

    status, body, headers = web.get("/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    text = body.decode()
    assert sample(text, "chunlei_bookings_created_total", origin="participant") == 1
    assert sample(text, "chunlei_http_requests_total", method="POST",
                  endpoint="/api/v1/bookings", status="201") == 1  # fmt: skip
    assert sample(text, "chunlei_http_request_duration_seconds_count", method="POST",
                  endpoint="/api/v1/bookings") >= 1  # fmt: skip
    assert sample(text, "chunlei_placements_total") >= 1
    assert sample(text, "chunlei_jobs_total", kind="placement.requests", outcome="done") >= 1
    assert sample(text, "chunlei_placements_total", outcome="placed") >= 1
    assert sample(text, "chunlei_placement_latency_seconds_count") >= 1
    assert sample(text, "chunlei_solver_runs_total", outcome=state) == 1
    assert sample(text, "chunlei_solver_run_seconds_count", outcome=state) == 1
    assert sample(text, "chunlei_jobs_total", kind="runs.reoptimize", outcome="done") == 1
    assert sample(text, "chunlei_job_duration_seconds_count", kind="runs.reoptimize") == 1
    assert "chunlei_queue_jobs" in text and "chunlei_queue_oldest_waiting_seconds" in text
    # Several processes wrote: the web host's two workers and the queue worker's child.
    assert len(list(prom_dir.glob("*.db"))) >= 2


def _run_state(run_id: int) -> str:
    from app.models import OptimizationRun

    db.session.rollback()
    return db.session.get(OptimizationRun, run_id, populate_existing=True).state


def test_a_worker_host_serves_its_job_metrics_on_metrics_listen(queue_app, workers, prom_dir):
    import urllib.request

    from app.jobs.queue import enqueue
    from tests.app.web_server import free_port

    port = free_port()
    proc = workers.start(PROMETHEUS_MULTIPROC_DIR=str(prom_dir), METRICS_LISTEN=f"127.0.0.1:{port}")
    job_id = enqueue("test.echo", {"n": 1})
    assert wait_until(lambda: _job_done(job_id), 60), workers.log(proc)

    def scrape() -> str:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                return r.read().decode()
        except OSError:
            return ""

    text = wait_until(
        lambda: (t := scrape()) and sample(t, "chunlei_jobs_total", kind="test.echo") and t, 30
    )
    assert text, workers.log(proc)
    assert sample(text, "chunlei_jobs_total", kind="test.echo", outcome="done") == 1
    assert sample(text, "chunlei_job_duration_seconds_count", kind="test.echo") == 1


def _job_done(job_id: int) -> bool:
    from app.jobs.queue import job

    row = job(job_id)
    db.session.rollback()
    return row.status == "done"
