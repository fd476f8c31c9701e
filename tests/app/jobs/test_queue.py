"""The queue's ledger without a worker: eager jobs, retries, dedupe, and the reaper of jobs whose
worker died (on SQLite; the Redis workers are in test_workers.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

import tests.app.jobs.sample_tasks  # noqa: F401  (the test job kinds)
from app.extensions import db
from app.jobs import queue
from app.jobs.execute import run_job
from app.jobs.queue import enqueue, job
from app.jobs.reaper import reap
from app.models import Job, OptimizationRun, utcnow
from app.observability.logs import log_context
from app.services.runs import guard as run_guard
from app.services.timetable.weeks import get_week
from tests.app.nightly.conftest import WEEK


@pytest.fixture
def held_app(app, tmp_path):
    """The SQLite app with a queue no worker reads: jobs stay queued until a test runs them."""
    app.config.update(QUEUE_URL=f"sqlite:///{tmp_path / 'queue.sqlite'}", JOB_STALE_S=15)
    queue.init_app(app)
    return app


def test_an_eager_job_runs_at_once_and_keeps_its_result(app):
    job_id = enqueue("test.echo", {"n": 7})
    row = job(job_id)
    assert row.status == "done" and row.attempts == 1 and row.result["n"] == 7


def test_an_eager_job_that_raises_is_retried_then_failed_with_the_reason(app):
    row = job(enqueue("test.fail", {}))
    assert row.status == "failed" and row.attempts == 2
    assert row.error == "ValueError: broken on purpose"


def test_unknown_kinds_and_queue_urls_are_refused(app):
    with pytest.raises(ValueError, match="unknown job kind"):
        enqueue("no.such.kind", {})
    with pytest.raises(ValueError, match="QUEUE_URL"):
        queue.check_url("amqp://somewhere")


def test_a_dedupe_key_gives_the_queued_job_and_a_new_one_once_it_started(held_app):
    first = enqueue("test.echo", {"n": 1}, dedupe_key="k")
    assert enqueue("test.echo", {"n": 2}, dedupe_key="k") == first
    assert queue.queue_of(held_app).pending() == 1
    assert run_job(first, beat=False) == "done"
    assert run_job(first, beat=False) is None  # never twice
    second = enqueue("test.echo", {"n": 3}, dedupe_key="k")
    assert second != first and job(second).status == "queued"


def test_both_ways_of_enqueuing_keep_the_request_id_bound_now(held_app):
    with log_context(request_id="req-42"):
        direct = enqueue("test.echo", {"n": 1})
        outboxed = queue.enqueue_with_commit("test.echo", {"n": 2})
        db.session.commit()
    assert job(direct).request_id == "req-42"
    assert job(outboxed.id).request_id == "req-42"


def test_a_delayed_job_is_not_run_before_it_is_due(held_app):
    job_id = enqueue("test.echo", {}, delay_s=60)
    assert run_job(job_id, beat=False) is None and job(job_id).status == "queued"


def _die(job_id: int, seconds_ago: float) -> None:
    """Make the job look like its worker claimed it and then went silent."""
    beat = utcnow() - timedelta(seconds=seconds_ago)
    db.session.execute(
        update(Job)
        .where(Job.id == job_id)
        .values(status="running", attempts=Job.attempts + 1, worker="gone:1", heartbeat_at=beat)
    )
    db.session.commit()


def test_the_reaper_retries_a_dead_workers_job_and_frees_its_runs_week(held_app):
    from tests.app.nightly.conftest import seed_small_week

    seed_small_week()
    week = get_week(db.session, WEEK)
    run, queued = run_guard.queue_run(week, trigger="manual", actor=None, actor_label="t")
    job_id = enqueue("runs.reoptimize", {"run_id": run.id})
    assert run_guard.claim_queued(run.id, job_id=job_id)[1]  # as the worker did
    _die(job_id, 60)
    live = enqueue("test.echo", {})
    _die(live, 1)  # silent for a second only: alive
    assert reap() == {"retried": 1, "failed": 0, "requeued": 0, "released": 0}
    row = job(job_id)
    assert row.status == "queued" and "worker died" in row.error and "gone:1" in row.error
    db.session.expire_all()
    run = db.session.get(OptimizationRun, run.id)
    assert run.state == "queued" and run.lock_key is None  # the next attempt carries it out
    assert job(live).status == "running"
    # The last attempt's worker dies too: the job and its run fail with the reason.
    _die(job_id, 60)
    _die(job_id, 60)
    assert reap()["failed"] == 1
    assert job(job_id).status == "failed" and job(job_id).error.startswith("worker died")
    db.session.expire_all()
    run = db.session.get(OptimizationRun, run.id)
    assert run.state == "failed" and run.lock_key is None and "worker died" in run.message


def test_a_queued_job_whose_message_was_lost_is_put_again(held_app):
    job_id = enqueue("test.echo", {})
    transport = queue.queue_of(held_app)
    transport.huey.storage.flush_queue()  # the message is lost (a Redis restart, say)
    db.session.execute(
        update(Job).where(Job.id == job_id).values(due_at=utcnow() - timedelta(minutes=5))
    )
    db.session.commit()
    assert reap()["requeued"] == 1 and transport.pending() == 1


def test_the_reaper_frees_the_week_of_a_run_whose_process_went_silent(held_app):
    from tests.app.nightly.conftest import seed_small_week

    seed_small_week()
    week = get_week(db.session, WEEK)
    run, granted = run_guard.claim(week, trigger="manual", actor=None, actor_label="cli:x")
    assert granted
    assert reap()["released"] == 0  # alive: its heartbeat is fresh
    silent = utcnow() - timedelta(seconds=60)
    db.session.execute(
        update(OptimizationRun).where(OptimizationRun.id == run.id).values(heartbeat_at=silent)
    )
    db.session.commit()
    assert reap()["released"] == 1
    db.session.expire_all()
    run = db.session.get(OptimizationRun, run.id)
    assert run.state == "failed" and run.lock_key is None and "no sign of life" in run.message


def test_a_job_beating_on_the_queue_is_alive_though_its_row_could_not_be_written(held_app):
    """A long write transaction (a national apply on SQLite) blocks the row's heartbeat, not the
    one on the queue's own storage: the job is not declared dead."""
    job_id = enqueue("test.echo", {})
    _die(job_id, 60)
    transport = queue.queue_of(held_app)
    transport.beat(job_id)
    assert reap()["retried"] == 0 and job(job_id).status == "running"
    transport.beat(job_id, done=True)  # the beats stop: now it is dead
    assert reap()["retried"] == 1 and job(job_id).status == "queued"
