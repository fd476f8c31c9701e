"""``/healthz``, ``/readyz`` and the protection of ``/metrics``, on a migrated SQLite file."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from app.extensions import db
from app.jobs.clock import heartbeat
from app.models import Job, JobStatus, ProcessHeartbeat, utcnow
from tests.conftest import make_app


@pytest.fixture
def migrated(tmp_path: Path):
    app = make_app(f"sqlite:///{tmp_path / 'ready.sqlite'}")
    with app.app_context():
        upgrade()
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()


def test_healthz_answers_json_without_login_and_returns_a_request_id(app):
    client = app.test_client()
    r = client.get("/healthz")
    assert r.status_code == 200 and r.get_json() == {"status": "ok"}
    assert len(r.headers["X-Request-ID"]) == 32
    assert (
        client.get("/healthz", headers={"X-Request-ID": "lb-42.a:b"}).headers["X-Request-ID"]
        == "lb-42.a:b"
    )
    for insane in ("x" * 65, "a b", "<script>", "é"):
        echoed = client.get("/healthz", headers={"X-Request-ID": insane}).headers["X-Request-ID"]
        assert echoed != insane and len(echoed) == 32


def test_readyz_is_ready_when_migrated_and_the_clock_beats(migrated):
    heartbeat(migrated)
    r = migrated.test_client().get("/readyz")
    body = r.get_json()
    assert r.status_code == 200, body
    assert body["status"] == "ready" and body["failed"] == []
    assert set(body["checks"]) == {"database", "migrations", "redis", "clock", "queue"}
    assert body["checks"]["migrations"]["current"] == body["checks"]["migrations"]["head"]
    assert "sqlite" not in r.get_data(as_text=True)  # nothing about where the database is


def test_readyz_names_a_missing_or_stale_clock(migrated):
    client = migrated.test_client()
    r = client.get("/readyz")
    assert r.status_code == 503 and r.get_json()["failed"] == ["clock"]
    heartbeat(migrated)
    row = db.session.get(ProcessHeartbeat, "clock")
    row.beat_at = utcnow() - timedelta(seconds=migrated.config["READY_CLOCK_MAX_AGE_S"] + 5)
    db.session.commit()
    r = client.get("/readyz")
    assert r.status_code == 503 and r.get_json()["failed"] == ["clock"]
    assert r.get_json()["checks"]["clock"]["age_s"] > migrated.config["READY_CLOCK_MAX_AGE_S"]
    # A load balancer may ask only what a web host needs.
    assert client.get("/readyz?only=database,migrations").status_code == 200
    r = client.get("/readyz?only=database,bogus")
    assert r.status_code == 400 and "bogus" in r.get_json()["error"]


def test_readyz_fails_when_a_due_job_waits_too_long(migrated):
    heartbeat(migrated)
    now = utcnow()
    limit = migrated.config["READY_QUEUE_MAX_AGE_S"]
    db.session.add(
        Job(
            kind="placement.requests",
            payload={},
            status=JobStatus.QUEUED,
            enqueued_at=now,
            due_at=now + timedelta(hours=1),
        )
    )  # delayed: not late
    db.session.commit()
    assert migrated.test_client().get("/readyz").status_code == 200
    db.session.add(
        Job(
            kind="placement.requests",
            payload={},
            status=JobStatus.QUEUED,
            enqueued_at=now,
            due_at=now - timedelta(seconds=limit + 30),
        )
    )
    db.session.commit()
    r = migrated.test_client().get("/readyz")
    assert r.status_code == 503 and r.get_json()["failed"] == ["queue"]
    assert r.get_json()["checks"]["queue"]["oldest_waiting_s"] > limit


def test_readyz_fails_on_a_database_no_migration_made(app):
    # ``app`` is made with create_all: tables, but no migration recorded.
    r = app.test_client().get("/readyz?only=database,migrations")
    assert r.status_code == 503 and r.get_json()["failed"] == ["migrations"]


def test_readyz_fails_when_redis_is_unreachable(migrated):
    heartbeat(migrated)
    migrated.config["QUEUE_URL"] = "redis://127.0.0.1:1/0"
    try:
        r = migrated.test_client().get("/readyz")
    finally:
        migrated.config["QUEUE_URL"] = "eager://"
    body = r.get_json()
    assert r.status_code == 503 and body["failed"] == ["redis"]
    assert body["checks"]["redis"]["queue"] == "ConnectionError"
    assert "127.0.0.1" not in r.get_data(as_text=True)


def test_readyz_says_which_check_failed_when_the_database_is_gone(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'missing' / 'no.sqlite'}")
    with app.app_context():
        r = app.test_client().get("/readyz")
        db.engine.dispose()
    body = r.get_json()
    assert r.status_code == 503
    assert {"database", "migrations", "clock", "queue"} <= set(body["failed"])
    assert body["checks"]["database"]["error"] == "OperationalError"


def test_metrics_can_be_closed_with_a_token_or_to_networks(app):
    client = app.test_client()
    assert client.get("/metrics").status_code == 200  # open when nothing is set (the demo)
    app.config["METRICS_TOKEN"] = "s3cret-token"
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    ok = client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
    assert ok.status_code == 200 and b"chunlei_http_requests_total" in ok.data
    app.config["METRICS_ALLOW_NETWORKS"] = ("10.0.0.0/8",)
    assert client.get("/metrics").status_code == 403  # the test client is 127.0.0.1
    app.config["METRICS_ALLOW_NETWORKS"] = ("10.0.0.0/8", "127.0.0.0/8")
    assert client.get("/metrics").status_code == 200


def test_a_request_is_counted_by_its_route_template(app):
    client = app.test_client()
    client.get("/runs/123456")
    client.get("/runs/654321")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'endpoint="/runs/<int:run_id>"' in text
    assert "/runs/123456" not in text


def test_readyz_accepts_a_newer_schema_and_refuses_an_older_one(migrated):
    """Rolling upgrades: a newer release's expand migration leaves old hosts ready; a database
    behind this code is not."""
    heartbeat(migrated)
    client = migrated.test_client()
    db.session.execute(text("UPDATE alembic_version SET version_num = 'f00dfeed9999'"))
    db.session.commit()
    body = client.get("/readyz?only=migrations").get_json()
    assert body["status"] == "ready" and body["checks"]["migrations"]["state"] == "ahead"
    db.session.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    db.session.commit()
    r = client.get("/readyz?only=migrations")
    assert r.status_code == 503 and r.get_json()["checks"]["migrations"]["state"] == "behind"
