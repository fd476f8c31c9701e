"""Bulk operator actions: many bookings confirmed / locked / cancelled in one transaction with
the single-booking rules and audit, all or nothing; a day, studio or time range blocked at once
under the one-slot block rule (booked slots stay booked)."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Booking, Slot, SlotHold
from app.models.notification import Notification
from app.services.booking import bulk
from app.services.booking import service as svc
from app.services.booking.rules import RuleBroken
from app.services.timetable import blocking
from app.services.timetable.service import TimetableError


def _now(world):
    return world.local(-3, 12)


def _tentative(world, user, slot):
    b = svc.book_slots(world.users[user], [slot], now=_now(world))
    b.status = "tentative"
    db.session.commit()
    return b


def _three(world):
    return [
        _tentative(world, "p1", world.slot("B001-S1", 0, 10)),
        _tentative(world, "p2", world.slot("B001-S1", 1, 12)),
        _tentative(world, "p3", world.slot("B001-S2", 2, 14)),
    ]


def _count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_bulk_confirm_changes_all_with_one_audit_event_and_notice_each(world):
    rows = _three(world)
    done = bulk.bulk_action(world.users["op1"], "confirm", [b.code for b in rows])
    assert sorted(b.code for b in done) == sorted(b.code for b in rows)
    for b in rows:
        db.session.refresh(b)
        assert b.status == "confirmed"
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "booking.confirm"))
    assert sorted(e.subject for e in events) == sorted(b.code for b in rows)
    assert _count(Notification, Notification.kind == "booking_confirmed") == 3


def test_bulk_cancel_frees_every_slot_and_sends_the_one_reason(world):
    rows = _three(world)
    bulk.bulk_action(world.users["op1"], "cancel", [b.code for b in rows], reason="  暴雨停电 ")
    assert _count(SlotHold) == 0
    assert {b.status for b in db.session.scalars(select(Booking))} == {"cancelled"}
    reasons = {
        e.detail["reason"]
        for e in db.session.scalars(select(AuditEvent).where(AuditEvent.action == "booking.cancel"))
    }
    assert reasons == {"暴雨停电"}
    assert _count(Notification, Notification.kind == "booking_cancelled") == 3


def test_bulk_lock_keeps_the_rules_of_one_booking(world):
    rows = _three(world)
    bulk.bulk_action(world.users["admin"], "lock", [rows[0].code, rows[1].code])
    db.session.refresh(rows[0])
    assert rows[0].status == "locked"
    # Locked bookings cannot be locked again: the whole second action is refused.
    with pytest.raises(bulk.BulkRefused) as refused:
        bulk.bulk_action(world.users["op1"], "lock", [rows[0].code, rows[2].code])
    assert refused.value.detail["refused"] == {rows[0].code: "locked"}
    db.session.rollback()
    db.session.refresh(rows[2])
    assert rows[2].status == "tentative"


@pytest.mark.parametrize(
    ("who", "extra", "why"),
    [
        ("op1", "K999999", "unknown"),  # no such booking
        ("op2", None, "forbidden"),  # op2 runs Ganzhou, these are at Linyi
    ],
)
def test_one_bad_booking_refuses_all_and_writes_nothing(world, who, extra, why):
    rows = _three(world)
    codes = [b.code for b in rows] + ([extra] if extra else [])
    before = _count(AuditEvent)
    with pytest.raises(bulk.BulkRefused) as refused:
        bulk.bulk_action(world.users[who], "confirm", codes)
    db.session.rollback()
    assert why in refused.value.detail["refused"].values()
    assert {b.status for b in db.session.scalars(select(Booking))} == {"tentative"}
    assert _count(AuditEvent) == before
    assert _count(Notification) == 0


@pytest.mark.parametrize(
    ("action", "codes", "reason", "code"),
    [
        ("cancel", ["X"], "", "reason"),
        ("cancel", ["X"], "x" * 301, "reason_long"),
        ("confirm", [], None, "bulk_empty"),
        ("confirm", ["  "], None, "bulk_empty"),
        ("delete", ["X"], None, "bulk_action"),
        ("confirm", [f"K{i:06d}" for i in range(bulk.MAX_BULK + 1)], None, "bulk_too_many"),
    ],
)
def test_bad_input_is_refused_with_its_code(world, action, codes, reason, code):
    rows = _three(world)
    codes = [rows[0].code if c == "X" else c for c in codes]
    with pytest.raises(RuleBroken) as refused:
        bulk.bulk_action(world.users["op1"], action, codes, reason=reason)
    db.session.rollback()
    assert refused.value.code == code
    assert _count(Booking, Booking.status != "tentative") == 0


def _day(world, n):
    return world.week_start + timedelta(days=n)


def test_blocking_a_day_blocks_open_slots_and_keeps_booked_ones(world):
    booked = svc.book_slots(world.users["p1"], [world.slot("B001-S1", 1, 12)], now=_now(world))
    rng = blocking.BlockRange(first=_day(world, 1), last=_day(world, 1))
    seen = blocking.preview(world.hubs["B001"], rng, now=_now(world))
    assert len(seen.blocked) == 7 and [s.code for s, _b in seen.booked] == [
        world.slot("B001-S1", 1, 12)
    ]
    assert _count(Slot, Slot.state == "blocked") == 1  # preview wrote nothing
    done = blocking.block_range(world.hubs["B001"], rng, "设备检修", world.users["op1"],
                                now=_now(world))  # fmt: skip
    assert len(done.blocked) == 7
    blocked = set(db.session.scalars(select(Slot.code).where(Slot.state == "blocked")))
    day1 = {world.slot(st, 1, h) for st in ("B001-S1", "B001-S2") for h in (10, 12, 14, 20)}
    assert blocked == (day1 - {world.slot("B001-S1", 1, 12)}) | {world.slot("B001-S2", 0, 10)}
    db.session.refresh(booked)
    assert booked.status == "confirmed" and _count(SlotHold) == 1
    reasons = db.session.scalars(
        select(AuditEvent.detail).where(AuditEvent.action == "slot.block")
    ).all()
    assert len(reasons) == 7 and {r["reason"] for r in reasons} == {"设备检修"}
    # Ganzhou is untouched.
    assert _count(Slot, Slot.state == "blocked", Slot.code.like("B002%")) == 0


def test_blocking_a_time_range_at_one_studio(world):
    rng = blocking.BlockRange(
        first=_day(world, 0), last=_day(world, 2), start=time(18), end=time(22),
        studios=("B001-S2",),
    )  # fmt: skip
    done = blocking.block_range(world.hubs["B001"], rng, "晚间活动", world.users["op1"],
                                now=_now(world))  # fmt: skip
    assert sorted(s.code for s in done.blocked) == [world.slot("B001-S2", d, 20) for d in range(3)]


@pytest.mark.parametrize(
    ("first", "last", "start", "end", "studios", "reason", "code"),
    [
        (1, 0, None, None, (), "r", "range_order"),
        (0, 40, None, None, (), "r", "range_long"),
        (0, 0, time(14), time(12), (), "r", "break"),
        (0, 0, None, None, ("B002-S1",), "r", "unknown_studio"),
        (0, 0, None, None, (), "  ", "reason"),
        (0, 0, None, None, (), "x" * 301, "reason_long"),
        (5, 5, None, None, (), "r", "nothing_to_block"),  # Saturday: no slots
        (None, None, None, None, (), "r", "range_far"),  # year 9999
    ],
)
def test_bad_ranges_are_refused_and_nothing_is_blocked(
    world, first, last, start, end, studios, reason, code
):
    if first is None:
        rng = blocking.BlockRange(first=date(9999, 12, 31), last=date(9999, 12, 31))
    else:
        rng = blocking.BlockRange(_day(world, first), _day(world, last), start, end, studios)
    with pytest.raises(TimetableError) as refused:
        blocking.block_range(world.hubs["B001"], rng, reason, world.users["op1"], now=_now(world))
    db.session.rollback()
    assert refused.value.code == code
    assert _count(Slot, Slot.state == "blocked") == 1
