"""A small seeded week (``seed-demo --seed 5 --bases 6 --requests 120``) on SQLite (a file, so
threads and child processes share it) and on a fresh scratch PostgreSQL database per test."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from app.demo.seed import seed_demo
from app.extensions import db
from app.models import ACTIVE_STATUSES, Booking, SlotHold
from app.services.timetable.weeks import next_week_start
from tests.conftest import make_app

WEEK = next_week_start()
FAULT_SOLVER = str(Path(__file__).with_name("fault_solver.py"))


def fault_command(mode: str) -> list[str]:
    """The SOLVER_COMMAND seam pointed at a misbehaving solver (see fault_solver.py)."""
    return [sys.executable, FAULT_SOLVER, mode]


def booking_book() -> dict:
    """Every booking's status and current slots, and every live slot hold: the state a failed
    run must leave exactly as it found it."""
    db.session.expire_all()
    out = {}
    for b in db.session.scalars(select(Booking).order_by(Booking.code)):
        out[b.code] = (b.status, tuple(s.code for s in b.current_slots) if b.is_active else ())
    holds = sorted(db.session.execute(select(SlotHold.slot_id, SlotHold.booking_id)).all())
    return {"bookings": out, "holds": [tuple(h) for h in holds]}


def fixed_bookings() -> dict:
    """Locked and confirmed bookings with their slots: a run must never change one."""
    book = booking_book()["bookings"]
    return {c: v for c, v in book.items() if v[0] in ("locked", "confirmed")}


def active_count() -> int:
    return len(
        db.session.scalars(select(Booking.id).where(Booking.status.in_(ACTIVE_STATUSES))).all()
    )


def configured_app(url: str, tmp_path: Path) -> Flask:
    """The real app on ``url``, runs kept under ``tmp_path/runs`` and carried out inline."""
    app = make_app(url)
    app.config.update(
        RUNS_DIR=str(tmp_path / "runs"),
        SOLVER_TIME_LIMIT_S=3.0,
        SOLVER_WORKERS=1,
        SOLVER_GRACE_S=20.0,
    )
    return app


def seed_small_week() -> None:
    """Create the tables and seed the small week (inside an app context)."""
    db.create_all()
    seed_demo(db.session, seed=5, week_start=WEEK, bases=6, requests=120)


def seeded(url: str, tmp_path: Path) -> Iterator[Flask]:
    """The app holding the seeded small week, inside an app context for the whole test."""
    yield from in_seeded_week(configured_app(url, tmp_path))


def in_seeded_week(app: Flask) -> Iterator[Flask]:
    """``app`` with the small week seeded, inside an app context; the session closed after."""
    with app.app_context():
        seed_small_week()
        try:
            yield app
        finally:
            db.session.rollback()
            db.session.remove()
            db.engine.dispose()


def sqlite_file(tmp_path: Path) -> str:
    """A SQLite file URL: threads and child processes see one database."""
    return f"sqlite:///{tmp_path / 'chunlei.sqlite'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def nightly_app(request, tmp_path: Path) -> Iterator[Flask]:
    """The seeded small week on SQLite, then on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        url = sqlite_file(tmp_path)
    else:
        url = request.getfixturevalue("pg_server").create("chunlei_nightly")
    yield from seeded(url, tmp_path)


@pytest.fixture
def sqlite_nightly_app(tmp_path: Path) -> Iterator[Flask]:
    """The seeded small week on a SQLite file only (tests where the database does not matter)."""
    yield from seeded(sqlite_file(tmp_path), tmp_path)


@pytest.fixture
def pg_nightly_app(pg_server, tmp_path: Path) -> Iterator[Flask]:
    """The seeded small week on a fresh PostgreSQL database only (for the race tests)."""
    yield from seeded(pg_server.create("chunlei_nightly"), tmp_path)
