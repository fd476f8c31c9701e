"""Real workers for the queue's tests: ``flask --app wsgi worker`` subprocesses on a scratch
PostgreSQL database and Redis at ``TEST_REDIS_URL`` (default redis://127.0.0.1:6379/0), each test
with a queue name of its own (its Redis keys are deleted after). Without Redis the tests skip
with the reason, unless CHUNLEI_REQUIRE_POSTGRES=1 (CI), where that is a failure."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests.app.nightly.conftest import configured_app, in_seeded_week
from tests.conftest import _require_postgres

ROOT = Path(__file__).resolve().parents[3]
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
SAMPLE_TASKS = "tests.app.jobs.sample_tasks"

# Short limits so a dead worker is found in seconds.
FAST = {
    "JOB_HEARTBEAT_S": 0.5,
    "JOB_STALE_S": 3.0,
    "JOB_REAP_S": 1.0,
    "JOB_RETRY_DELAY_S": 0.2,
    "RUN_HEARTBEAT_S": 0.5,
    "RUN_STALE_S": 3.0,
    "WORKER_SHUTDOWN_S": 20.0,
}


@pytest.fixture(scope="session")
def redis_url() -> str:
    """Redis for the queue, or a skip (a failure when CHUNLEI_REQUIRE_POSTGRES=1)."""
    import redis

    url = os.environ.get("TEST_REDIS_URL", DEFAULT_REDIS)
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as e:
        message = f"Redis unreachable at {url}: {e}"
        if _require_postgres():
            pytest.fail(message + " (CHUNLEI_REQUIRE_POSTGRES=1 makes Redis mandatory too)")
        pytest.skip(message)
    return url


@pytest.fixture
def queue_name(redis_url: str) -> Iterator[str]:
    """A queue of this test's own; its keys are deleted afterwards."""
    import redis

    name = f"chunlei-test-{uuid.uuid4().hex[:10]}"
    yield name
    conn = redis.Redis.from_url(redis_url)
    keys = list(conn.scan_iter(match=f"huey.*.{name}*"))
    if keys:
        conn.delete(*keys)


def _queue_config(redis_url: str, queue_name: str) -> dict:
    return {
        "QUEUE_URL": redis_url,
        "QUEUE_NAME": queue_name,
        "JOB_TASK_MODULES": (SAMPLE_TASKS,),
        **FAST,
    }


@pytest.fixture
def queue_app(pg_server, redis_url, queue_name, tmp_path) -> Iterator[Flask]:
    """The app on a fresh PostgreSQL database holding the seeded small week, on a Redis queue."""
    url = pg_server.create("chunlei_queue")
    app = configured_app(url, tmp_path)
    app.config.update(_queue_config(redis_url, queue_name))
    from app.jobs import queue

    queue.init_app(app)  # again: the transport follows QUEUE_URL
    yield from in_seeded_week(app)


class Workers:
    """``flask --app wsgi worker`` processes for one test; all stopped at the end."""

    def __init__(self, app: Flask, tmp_path: Path) -> None:
        self.app, self.tmp_path = app, tmp_path
        self.procs: list[subprocess.Popen] = []

    def env(self, **extra: str) -> dict:
        cfg = self.app.config
        env = {
            **os.environ,
            "DATABASE_URL": cfg["SQLALCHEMY_DATABASE_URI"],
            "QUEUE_URL": cfg["QUEUE_URL"],
            "QUEUE_NAME": cfg["QUEUE_NAME"],
            "JOB_TASK_MODULES": SAMPLE_TASKS,
            "RUNS_DIR": cfg["RUNS_DIR"],
            "SOLVER_TIME_LIMIT_S": "2",
            "SOLVER_WORKERS": "1",
            "PYTHONPATH": str(ROOT),
        }
        env.update({k: str(v) for k, v in FAST.items()})
        env.update(extra)
        return env

    def start(self, **extra: str) -> subprocess.Popen:
        n = len(self.procs)
        log = open(self.tmp_path / f"worker-{n}.log", "wb")  # noqa: SIM115 (closed with the test)
        proc = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "worker"],
            cwd=ROOT,
            env=self.env(**extra),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        proc.log_file = log
        self.procs.append(proc)
        return proc

    def log(self, proc: subprocess.Popen) -> str:
        proc.log_file.flush()
        return Path(proc.log_file.name).read_text(encoding="utf-8", errors="replace")

    def stop_all(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=40)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            p.log_file.close()


@pytest.fixture
def workers(queue_app, tmp_path) -> Iterator[Workers]:
    pool = Workers(queue_app, tmp_path)
    try:
        yield pool
    finally:
        pool.stop_all()


def wait_until(check: Callable[[], object], timeout: float, every: float = 0.2):
    """Poll ``check`` until it returns something truthy; that value, or None at the deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    return None


def process_gone(pid: int) -> bool:
    """True when ``pid`` no longer runs (a zombie waiting for its reaper counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")
