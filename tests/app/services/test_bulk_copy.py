"""copy_rows and next_ids: rows copied (PostgreSQL's COPY) read back as the same rows inserted,
a refused row is the IntegrityError callers expect, and a run's apply sends its bulk rows so."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import event, insert, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import AuditEvent, Booking, RunChange
from app.models.vocabulary import ActorKind, ChangeReason
from app.services.bulk import copy_rows, next_ids
from app.services.exchange.apply import apply_plan
from app.services.timetable.weeks import get_week
from scheduler.domain import Plan
from scheduler.io import load_plan
from tests.app.cli_helpers import FREEZE, WEEK, export, seed

CHINA = timezone(timedelta(hours=8))


def _rows(action: str) -> list[dict]:
    return [
        {
            "at": datetime(2026, 12, 7, 10, 0, tzinfo=CHINA) + timedelta(minutes=k),
            "actor_kind": ActorKind.OPTIMIZER if k % 2 else ActorKind.USER,
            "actor_user_id": None,
            "action": action,
            "booking_id": None,
            "run_id": None,
            "subject": None if k % 2 else f"第{k}场",
            "detail": {"request": f"R{k:06d}", "before": [], "after": ["S1", "S2"], "说明": "冷链"},
        }
        for k in range(5)
    ]


def _read(action: str) -> list[tuple]:
    return [
        (e.at, e.actor_kind, e.action[:-1], e.subject, e.detail)
        for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.at)
        )
    ]


def test_copied_rows_read_back_as_inserted_rows(any_app):
    db.session.execute(insert(AuditEvent), _rows("inserted"))
    copy_rows(db.session, AuditEvent, _rows("copied"))
    db.session.commit()
    db.session.expire_all()
    copied, inserted = _read("copied"), _read("inserted")
    assert len(copied) == 5 and copied == [(*row[:2], "copied"[:-1], *row[3:]) for row in inserted]
    assert copied[0][0] == datetime(2026, 12, 7, 2, 0, tzinfo=UTC)  # the same instant, in UTC


def test_a_column_with_a_python_default_must_be_given(any_app):
    rows = [{k: v for k, v in row.items() if k != "at"} for row in _rows("no time")]
    with pytest.raises(ValueError, match="at"):
        copy_rows(db.session, AuditEvent, rows)
    db.session.rollback()
    assert _read("no time") == []


def test_a_refused_row_is_an_integrity_error_and_nothing_is_kept(any_app):
    rows = _rows("refused")
    rows[3]["actor_kind"] = "nobody"  # the column's CHECK refuses it
    with pytest.raises(IntegrityError):
        copy_rows(db.session, AuditEvent, rows)
        db.session.flush()
    db.session.rollback()
    assert _read("refused") == []


def test_next_ids_are_new_ids_in_order(any_app):
    ids = next_ids(db.session, AuditEvent, 4)
    if db.engine.dialect.name != "postgresql":
        assert ids is None  # SQLite: ids come with the insert
        return
    assert ids is not None and ids == sorted(set(ids)) and len(ids) == 4
    copy_rows(
        db.session,
        AuditEvent,
        [{"id": i, **row} for i, row in zip(ids, _rows("ids"), strict=False)],
    )
    db.session.add(AuditEvent(actor_kind=ActorKind.USER, action="after", detail={}))
    db.session.flush()
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "after")) > max(ids)
    assert next_ids(db.session, AuditEvent, 0) == []


@pytest.mark.postgres
def test_an_apply_copies_its_rows_and_writes_each_change_once(pg_app, tmp_path):
    """Bookings, their slots and holds, the run's changes (with reasons) and audit events go as
    COPY: no INSERT statement for them, no UPDATE of the changes after."""
    seed(pg_app)
    inst_doc, plan_doc = export(pg_app, tmp_path)
    plan = load_plan(plan_doc)
    status = {(b["request"], tuple(b["slots"])): b["status"] for b in inst_doc["bookings"]}
    gone = [a for a in plan.assignments if status[(a.request, a.slots)] == "tentative"][:3]
    week = get_week(db.session, WEEK)
    freeze = datetime.fromisoformat(FREEZE)
    without = Plan(plan.instance, tuple(a for a in plan.assignments if a not in gone))
    apply_plan(db.session, week, without, actor=None, freeze_until=freeze, timezone="Asia/Shanghai")
    db.session.commit()

    sent: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement.lstrip())

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        diff = apply_plan(
            db.session,
            week,
            plan,
            actor=None,
            freeze_until=freeze,
            timezone="Asia/Shanghai",
            reason=lambda change, request, before, after: ChangeReason.PLACED,
        )
        db.session.commit()
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert len(diff.added) == 3
    for table in ("bookings", "booking_slots", "slot_holds", "run_changes", "audit_events"):
        assert not [s for s in sent if s.startswith(f"INSERT INTO {table} ")], table
    assert not [s for s in sent if s.startswith("UPDATE run_changes")]
    changes = db.session.scalars(select(RunChange).where(RunChange.run_id == diff.run_id)).all()
    assert {(c.request_code, c.reason) for c in changes} == {
        (a.request, ChangeReason.PLACED) for a in gone
    }
    people = {r["id"]: r["participant"] for r in inst_doc["requests"]}
    assert {c.participant_code for c in changes} == {people[a.request] for a in gone}
    added = db.session.scalars(select(Booking).where(Booking.run_id == diff.run_id)).all()
    assert sorted(b.code for b in added) == sorted(f"K{b.id:06d}" for b in added)
    assert {tuple(s.code for s in b.current_slots) for b in added} == {a.slots for a in gone}
    assert all(len(b.holds) == len(b.current_slots) for b in added)
