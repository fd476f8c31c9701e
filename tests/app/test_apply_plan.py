"""apply-plan: only a plan that keeps every hard rule changes anything, and then in one go."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Booking, OptimizationRun, RunChange, SlotHold
from app.services.exchange.apply import PlanRejected, apply_plan
from app.services.timetable.weeks import get_week
from scheduler.domain import Assignment, Plan
from scheduler.io import load_instance, load_plan
from scheduler.validate import validate
from tests.app.cli_helpers import FREEZE, WEEK, export, one_line, run, seed, snapshot, write
from tests.app.locking import waits_until_commit


def _status(inst_doc) -> dict:
    return {(b["request"], tuple(b["slots"])): b["status"] for b in inst_doc["bookings"]}


def _apply(app, tmp_path, plan_doc, *extra):
    return run(
        app, "apply-plan", write(tmp_path, "plan.json", plan_doc), "--freeze-until", FREEZE, *extra
    )


def _moved_plan(inst_doc, plan_doc):
    """The current plan with one tentative booking moved to a free slot of its studio."""
    inst, plan = load_instance(inst_doc), load_plan(plan_doc)
    held = {s for a in plan.assignments for s in a.slots}
    status = _status(inst_doc)
    for k, a in enumerate(plan.assignments):
        if status[(a.request, a.slots)] != "tentative" or len(a.slots) != 1:
            continue
        studio = inst.slot_by_id[a.slots[0]].studio
        for slot in inst.slots_by_studio[studio]:
            if slot.id in held:
                continue
            moved = (
                plan.assignments[:k]
                + (Assignment(a.request, (slot.id,)),)
                + plan.assignments[k + 1 :]
            )
            candidate = Plan(plan.instance, moved)
            if not validate(inst, candidate):
                return candidate, a, slot.id
    raise AssertionError("no tentative booking can move in the demo week")


def test_applying_the_current_plan_changes_no_booking(app, tmp_path):
    seed(app)
    _, plan = export(app, tmp_path)
    before = snapshot()
    result = _apply(app, tmp_path, plan)
    assert result.exit_code == 0, result.stderr
    assert "0 added, 0 moved, 0 dropped" in result.output
    after = snapshot()
    assert after["bookings"] == before["bookings"] and after["runs"] == before["runs"] + 1


def test_a_plan_that_loses_a_locked_booking_is_refused_without_writing(app, tmp_path):
    seed(app)
    inst, plan = export(app, tmp_path)
    status = _status(inst)
    plan["assignments"] = [
        a for a in plan["assignments"] if status[(a["request"], tuple(a["slots"]))] != "locked"
    ]
    before = snapshot()
    result = _apply(app, tmp_path, plan)
    assert result.exit_code != 0
    assert "rule 7" in result.stderr and "nothing was changed" in result.stderr
    assert snapshot() == before


@pytest.mark.parametrize(
    ("name", "change", "expect"),
    [
        ("not-json", "{", "not JSON"),
        ("wrong-format", lambda p: p.update(format="livehub-instance/1"), "format"),
        (
            "unknown-request",
            lambda p: p["assignments"].append({"request": "R999999", "slots": ["SL000001"]}),
            "R999999",
        ),
        ("unknown-slot", lambda p: p["assignments"][0].update(slots=["SL999999"]), "rule 1"),
        ("double-booked", lambda p: p["assignments"].append(dict(p["assignments"][0])), "rule"),
        ("other-week", lambda p: p.update(instance="week-2027-01-04"), "week-2027-01-04"),
    ],
)
def test_bad_plans_change_nothing(app, tmp_path, name, change, expect):
    seed(app)
    _, plan = export(app, tmp_path)
    if isinstance(change, str):
        plan = change
    else:
        change(plan)
    before = snapshot()
    result = _apply(app, tmp_path, plan)
    assert result.exit_code != 0
    assert expect in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("Error:")
    if name in ("not-json", "wrong-format", "other-week"):
        assert one_line(result.stderr)
    assert snapshot() == before


def test_a_move_a_drop_and_an_addition(any_app, tmp_path):
    app = any_app
    seed(app)
    inst, plan_doc = export(app, tmp_path)
    plan, old, new_slot = _moved_plan(inst, plan_doc)
    status = _status(inst)
    # Drop another tentative booking, of a different request.
    dropped = next(
        a
        for a in plan.assignments
        if status.get((a.request, a.slots)) == "tentative" and a.request != old.request
    )
    plan = Plan(plan.instance, tuple(a for a in plan.assignments if a != dropped))
    week = get_week(db.session, WEEK)
    diff = apply_plan(
        db.session,
        week,
        plan,
        actor=None,
        freeze_until=datetime.fromisoformat(FREEZE),
        timezone="Asia/Shanghai",
    )
    db.session.commit()
    assert [(c.request, c.before, c.after) for c in diff.moved] == [
        (old.request, old.slots, (new_slot,))
    ]
    assert [(c.request, c.before) for c in diff.dropped] == [(dropped.request, dropped.slots)]
    assert diff.added == []
    moved = db.session.scalar(select(Booking).where(Booking.code == diff.moved[0].booking))
    assert [s.code for s in moved.current_slots] == [new_slot]
    assert len(moved.slot_history) == 2  # the old slot stays in the history, released
    gone = db.session.scalar(select(Booking).where(Booking.code == diff.dropped[0].booking))
    assert gone.status == "cancelled" and gone.holds == []
    run_row = db.session.get(OptimizationRun, diff.run_id)
    assert (run_row.moved, run_row.dropped, run_row.state) == (1, 1, "applied")
    assert (
        len(db.session.scalars(select(RunChange).where(RunChange.run_id == run_row.id)).all()) == 2
    )
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "booking.moved"))
    # The freed slot can be planned again: put the dropped session back as a new booking.
    again = Plan(plan.instance, plan.assignments + (dropped,))
    diff2 = apply_plan(
        db.session,
        week,
        again,
        actor=None,
        freeze_until=datetime.fromisoformat(FREEZE),
        timezone="Asia/Shanghai",
    )
    db.session.commit()
    assert [(c.request, c.after) for c in diff2.added] == [(dropped.request, dropped.slots)]
    added = db.session.scalar(select(Booking).where(Booking.code == diff2.added[0].booking))
    assert added.status == "tentative" and added.origin == "optimizer"
    assert added.code == f"K{added.id:06d}"
    # And the week still exports as a valid plan.
    inst2, plan2 = export(app, tmp_path, "after")
    assert validate(load_instance(inst2), load_plan(plan2)) == []


def test_nothing_new_before_freeze_until(app, tmp_path):
    seed(app)
    inst, plan_doc = export(app, tmp_path)
    plan, _, _ = _moved_plan(inst, plan_doc)
    week = get_week(db.session, WEEK)
    before = snapshot()
    with pytest.raises(PlanRejected) as caught:
        apply_plan(
            db.session,
            week,
            plan,
            actor=None,
            freeze_until=datetime.fromisoformat("2026-12-20T00:00:00+08:00"),
            timezone="Asia/Shanghai",
        )
    db.session.rollback()
    assert {v.rule for v in caught.value.violations} == {8}
    assert snapshot() == before


def test_holds_follow_active_bookings(app, tmp_path):
    seed(app)
    active = db.session.scalars(select(Booking).where(Booking.status != "cancelled")).all()
    holds = db.session.scalars(select(SlotHold)).all()
    assert sum(len(b.current_slots) for b in active) == len(holds)


@pytest.mark.parametrize("moment", ["before-the-read", "after-the-read"])
def test_a_slot_taken_meanwhile_is_a_conflict_and_nothing_is_kept(
    any_app, tmp_path, monkeypatch, moment
):
    """On PostgreSQL the holds go in by COPY: its refusal must still be a PlanConflict."""
    app = any_app
    import app.services.exchange.apply as plan_apply
    from app.models import BookingSlot, Participant, Slot
    from app.services.exchange.apply import PlanConflict

    seed(app)
    inst, plan_doc = export(app, tmp_path)
    status = _status(inst)
    plan = load_plan(plan_doc)
    gone = next(a for a in plan.assignments if status[(a.request, a.slots)] == "tentative")
    week = get_week(db.session, WEEK)
    freeze = datetime.fromisoformat(FREEZE)
    without = Plan(plan.instance, tuple(a for a in plan.assignments if a != gone))
    apply_plan(db.session, week, without, actor=None, freeze_until=freeze, timezone="Asia/Shanghai")
    db.session.commit()
    before = snapshot()
    real_build = plan_apply.build_instance

    def build_then_someone_books(*args, **kwargs):
        inst = real_build(*args, **kwargs) if moment == "after-the-read" else None
        # Another participant books the freed slots between our read and our write.
        who = db.session.scalar(select(Participant).order_by(Participant.code.desc()))
        b = Booking(
            code="K900001",
            participant=who,
            planning_week=week,
            status="confirmed",
            origin="participant",
        )
        db.session.add(b)
        db.session.flush()
        for k, code in enumerate(gone.slots):
            slot = db.session.scalar(select(Slot).where(Slot.code == code))
            db.session.add(BookingSlot(booking_id=b.id, slot_id=slot.id, position=k))
            db.session.add(SlotHold(booking_id=b.id, slot_id=slot.id))
        db.session.flush()
        return inst or real_build(*args, **kwargs)

    monkeypatch.setattr(plan_apply, "build_instance", build_then_someone_books)
    with pytest.raises(PlanConflict):
        apply_plan(
            db.session, week, plan, actor=None, freeze_until=freeze, timezone="Asia/Shanghai"
        )
    db.session.rollback()
    assert snapshot() == before


@pytest.mark.postgres
def test_an_apply_waits_for_a_booking_in_flight_of_one_of_the_weeks_participants(pg_app, tmp_path):
    """The booking service holds its participant's row while it books; apply_plan locks the
    week's participants first, so the daily cap and same-day-same-base rule are checked against
    one state, never raced past."""

    from app.models import Participant

    seed(pg_app, bases=6, requests=80)
    _, plan_doc = export(pg_app, tmp_path)
    plan = load_plan(plan_doc)
    freeze = datetime.fromisoformat(FREEZE)
    someone = db.session.scalar(select(Participant.id).join(Booking).limit(1))
    db.session.commit()
    outcome: list[str] = []

    def apply() -> None:
        with pg_app.app_context():
            try:
                week = get_week(db.session, WEEK)
                diff = apply_plan(
                    db.session,
                    week,
                    plan,
                    actor=None,
                    freeze_until=freeze,
                    timezone="Asia/Shanghai",
                )
                db.session.commit()
                outcome.append(f"applied, {len(diff.added)} added")
            finally:
                db.session.remove()

    with db.engine.connect() as booking_conn:  # a booking in flight for ``someone``
        booking_conn.exec_driver_sql(
            "SELECT id FROM participants WHERE id = %s FOR UPDATE", (someone,)
        )
        waits_until_commit(
            booking_conn, apply, "the apply should wait for the participant's booking"
        )
    assert outcome == ["applied, 0 added"]
