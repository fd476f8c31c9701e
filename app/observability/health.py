"""Readiness: is this process able to do its work, and is the rest of Chunlei alive?

Each check answers ``{"ok": bool, ...}`` with figures, never a URL, host name or password:
``database`` (a round trip), ``migrations`` (the database's revision is the code's head),
``redis`` (every Redis the settings name answers a PING), ``clock`` (the scheduler process beat
within ``READY_CLOCK_MAX_AGE_S``) and ``queue`` (no due job has waited longer than
``READY_QUEUE_MAX_AGE_S``). The clock's heartbeat is written by :func:`beat`.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import Any

from flask import Flask, current_app
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db, rowcount
from app.models import Job, JobStatus, ProcessHeartbeat, utcnow
from config import settings

CLOCK = "clock"
Check = dict[str, Any]


def _database() -> Check:
    t0 = time.perf_counter()
    db.session.execute(text("SELECT 1"))
    return {"ok": True, "ms": round((time.perf_counter() - t0) * 1000, 2)}


@cache
def _script(directory: str):
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

    config = AlembicConfig()
    config.set_main_option("script_location", directory)
    return ScriptDirectory.from_config(config)


def head_revision(directory: str) -> str | None:
    """The newest revision of the migrations in ``directory`` (read once per process)."""
    return _script(directory).get_current_head()


def known_revision(directory: str, revision: str) -> bool:
    """Whether this version's migrations contain ``revision``."""
    try:
        return _script(directory).get_revision(revision) is not None
    except Exception:
        return False


def migrations_directory(app: Flask) -> str:
    return str(app.extensions["migrate"].directory)


def _migrations() -> Check:
    """At head, or ahead (a newer release's expand migration ran before this process was
    rolled: its code still works); behind or never migrated fails."""
    directory = migrations_directory(current_app)
    head = head_revision(directory)
    try:
        current = db.session.scalar(text("SELECT version_num FROM alembic_version"))
    except Exception:
        db.session.rollback()
        current = None
    if current is None:
        state = "none"
    elif current == head:
        state = "at_head"
    elif known_revision(directory, current):
        state = "behind"
    else:
        state = "ahead"
    return {"ok": state in ("at_head", "ahead"), "state": state, "current": current, "head": head}


_REDIS: dict[str, Any] = {}


def _redis_urls(app: Flask) -> list[tuple[str, str]]:
    s = settings(app)
    named = [
        ("queue", s.QUEUE_URL),
        ("limits", s.RATELIMIT_STORAGE_URI or s.REDIS_URL),
    ]
    return [(n, u) for n, u in named if u and u.startswith(("redis://", "rediss://", "unix://"))]


def _redis() -> Check:
    import redis

    urls = _redis_urls(current_app)
    if not urls:
        return {"ok": True, "configured": False}
    out: Check = {"ok": True, "configured": True}
    for name, url in urls:
        client = _REDIS.get(url)
        if client is None:
            client = _REDIS[url] = redis.Redis.from_url(
                url, socket_connect_timeout=1, socket_timeout=1
            )
        try:
            client.ping()
            out[name] = "ok"
        except redis.RedisError as e:
            out["ok"] = False
            out[name] = type(e).__name__
    return out


def _clock() -> Check:
    limit = settings().READY_CLOCK_MAX_AGE_S
    beat_at = db.session.scalar(
        select(ProcessHeartbeat.beat_at).where(ProcessHeartbeat.name == CLOCK)
    )
    if beat_at is None:
        return {"ok": False, "age_s": None, "max_age_s": limit}
    age = (utcnow() - beat_at).total_seconds()
    return {"ok": age <= limit, "age_s": round(age, 1), "max_age_s": limit}


def oldest_waiting_s(now: datetime | None = None) -> float | None:
    """How long the oldest due, still queued job has waited (None when none waits)."""
    now = now or utcnow()
    due = db.session.scalar(
        select(func.min(Job.due_at)).where(Job.status == JobStatus.QUEUED, Job.due_at <= now)
    )
    return None if due is None else max(0.0, (now - _aware(due)).total_seconds())


def _queue() -> Check:
    limit = settings().READY_QUEUE_MAX_AGE_S
    age = oldest_waiting_s()
    return {
        "ok": age is None or age <= limit,
        "oldest_waiting_s": None if age is None else round(age, 1),
        "max_age_s": limit,
    }


CHECKS: dict[str, Callable[[], Check]] = {
    "database": _database,
    "migrations": _migrations,
    "redis": _redis,
    "clock": _clock,
    "queue": _queue,
}


def readiness(only: list[str] | None = None) -> tuple[bool, dict[str, Check]]:
    """Run the checks (``only`` those named, all by default); a check that raises fails."""
    results: dict[str, Check] = {}
    database_down = False
    for name, check in CHECKS.items():
        if only and name not in only:
            continue
        if database_down and name != "redis":
            results[name] = {"ok": False, "error": "database unreachable"}
            continue
        try:
            results[name] = check()
        except Exception as e:
            db.session.rollback()
            results[name] = {"ok": False, "error": type(e).__name__}
            database_down = database_down or name == "database"
    return all(r["ok"] for r in results.values()), results


def process_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


def beat(name: str = CLOCK) -> None:
    """Record that the singleton process ``name`` is alive now (commits)."""
    now, me = utcnow(), process_name()
    done = rowcount(
        db.session.execute(
            update(ProcessHeartbeat)
            .where(ProcessHeartbeat.name == name)
            .values(process=me, beat_at=now)
        )
    )
    if not done:
        db.session.add(ProcessHeartbeat(name=name, process=me, beat_at=now))
    try:
        db.session.commit()
    except IntegrityError:  # another process inserted it first: its beat counts as well
        db.session.rollback()


def queue_depth() -> tuple[list[tuple[str, str, int]], dict[str, float]]:
    """Jobs queued or running by kind and status, and each kind's oldest due waiting time."""
    now = utcnow()
    rows = db.session.execute(
        select(Job.kind, Job.status, func.count())
        .where(Job.status.in_((JobStatus.QUEUED, JobStatus.RUNNING)))
        .group_by(Job.kind, Job.status)
    ).all()
    oldest = db.session.execute(
        select(Job.kind, func.min(Job.due_at))
        .where(Job.status == JobStatus.QUEUED, Job.due_at <= now)
        .group_by(Job.kind)
    ).all()
    return (
        [(kind, str(status), int(n)) for kind, status, n in rows],
        {kind: max(0.0, (now - _aware(due)).total_seconds()) for kind, due in oldest},
    )


def _aware(value: datetime) -> datetime:
    """``min()`` over a UTCDateTime column comes back without its type on SQLite."""
    from datetime import UTC

    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
