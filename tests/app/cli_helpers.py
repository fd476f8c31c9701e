"""Helpers for driving the ``flask`` commands and reading the week back, in tests."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Booking, BookingSlot, OptimizationRun, SlotHold

WEEK = date(2026, 12, 7)
FREEZE = "2026-12-01T00:00:00+08:00"  # before the week: every session is movable


def run(app: Flask, *args: str):
    """Invoke a command the way ``flask --app wsgi ...`` does; returns click's Result."""
    return app.test_cli_runner().invoke(args=list(args))


def seed(app: Flask, *extra: str, bases: int = 12, requests: int = 300, seed_: int = 5):
    result = run(
        app,
        "seed-demo",
        "--seed",
        str(seed_),
        "--week",
        WEEK.isoformat(),
        "--bases",
        str(bases),
        "--requests",
        str(requests),
        *extra,
    )
    assert result.exit_code == 0, (result.output, result.stderr, repr(result.exception))
    return result


def export(app: Flask, tmp: Path, stem: str = "week", freeze: str = FREEZE) -> tuple[dict, dict]:
    """export-week and export-plan of WEEK, read back as JSON."""
    inst, plan = tmp / f"{stem}.json", tmp / f"{stem}-plan.json"
    r1 = run(
        app, "export-week", "--week", WEEK.isoformat(), "-o", str(inst), "--freeze-until", freeze
    )
    r2 = run(app, "export-plan", "--week", WEEK.isoformat(), "-o", str(plan))
    assert r1.exit_code == 0 and r2.exit_code == 0, r1.stderr + r2.stderr
    return json.loads(inst.read_text("utf-8")), json.loads(plan.read_text("utf-8"))


def snapshot() -> dict:
    """Row counts and booking states: equal snapshots mean nothing was written."""

    def count(model):
        return db.session.scalar(select(func.count()).select_from(model))

    db.session.expire_all()
    return {
        "bookings": sorted(db.session.execute(select(Booking.code, Booking.status)).all()),
        "holds": count(SlotHold),
        "history": count(BookingSlot),
        "runs": count(OptimizationRun),
        "audit": count(AuditEvent),
    }


def one_line(text: str) -> bool:
    return len(text.strip().splitlines()) == 1


def write(tmp: Path, name: str, doc) -> str:
    path = tmp / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc, ensure_ascii=False), "utf-8")
    return str(path)


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text)
