"""The booking service: the hard rules hold for direct bookings, conflicts are typed errors."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import AuditEvent, Booking, BookingSlot, SlotHold
from app.models.notification import Notification, OutboxEmail
from app.services.accounts.access import Forbidden
from app.services.booking import lifecycle
from app.services.booking import service as svc
from app.services.booking.rules import RuleBroken, SlotTaken
from app.services.timetable.weeks import planning_week_for


def _now(world):
    return world.local(-3, 12)  # the Friday before the week


def book(world, user, *slots, **kw):
    kw.setdefault("now", _now(world))
    return svc.book_slots(world.users[user], list(slots), **kw)


def holds():
    return db.session.scalar(select(func.count()).select_from(SlotHold))


def test_direct_booking_is_confirmed_held_and_audited(world):
    s = world.slot("B001-S1", 0, 10)
    b = book(world, "p1", s)
    assert (b.status, b.origin, b.code) == ("confirmed", "participant", f"K{b.id:06d}")
    assert [x.code for x in b.current_slots] == [s]
    assert holds() == 1
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.booking_id == b.id)).one()
    assert event.action == "booking.create" and event.actor_user_id == world.users["p1"].id
    assert event.detail["slots"] == [s]


def test_what_book_answers_is_what_was_stored(world):
    made = svc.book(world.users["p2"], [world.slot("B002-S1", 1, 14), world.slot("B002-S1", 1, 12)],
                    now=_now(world))  # fmt: skip
    stored = db.session.get(Booking, made.id)
    assert (made.code, made.status, made.origin) == (stored.code, stored.status, stored.origin)
    assert [s.code for s in made.slots] == [s.code for s in stored.current_slots]
    assert made.participant_code == stored.participant.code == "P002"
    assert made.created_at == stored.created_at and made.request_code is None
    assert {s.hub_code for s in made.slots} == {"B002"}


def test_the_first_booking_of_a_week_creates_its_planning_week_with_the_configured_policy(
    world, app
):
    db.session.delete(planning_week_for(world.week_start))
    db.session.commit()
    app.config["MAX_SESSIONS_PER_DAY"] = 1
    b = book(world, "p1", world.slot("B001-S1", 0, 10))
    week = b.planning_week
    assert week.week_start == world.week_start and week.max_sessions_per_day == 1
    with pytest.raises(RuleBroken) as err:  # and its policy holds at once
        book(world, "p1", world.slot("B001-S1", 0, 14))
    assert err.value.code == "daily_cap"


def test_two_consecutive_slots_make_one_session(world):
    b = book(world, "p1", world.slot("B001-S1", 1, 12), world.slot("B001-S1", 1, 10))
    assert [s.code for s in b.current_slots] == [
        world.slot("B001-S1", 1, 10),
        world.slot("B001-S1", 1, 12),
    ]


@pytest.mark.parametrize(
    ("slots", "code"),
    [
        ([], "wrong_length"),
        ([("B001-S1", 0, 10), ("B001-S1", 0, 14)], "not_consecutive"),
        ([("B001-S1", 0, 10), ("B001-S2", 0, 12)], "not_consecutive"),
        ([("B001-S1", 0, 10), ("B001-S1", 0, 10)], "not_consecutive"),
        ([("B001-S2", 0, 10)], "slot_blocked"),
        ([("B002-S1", 7, 10)], "not_published"),
    ],
)
def test_invalid_slot_choices_name_the_rule_and_write_nothing(world, slots, code):
    refs = [world.slot(*s) for s in slots]
    with pytest.raises(RuleBroken) as err:
        book(world, "p1", *refs)
    assert err.value.code == code and err.value.status == 422
    assert holds() == 0
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 0


def test_unknown_slot_and_too_long_and_past(world, app):
    with pytest.raises(RuleBroken) as err:
        book(world, "p1", "SL999999")
    assert err.value.code == "unknown_slot" and err.value.detail == {"slots": ["SL999999"]}
    app.config["MAX_SLOTS_PER_BOOKING"] = 2
    run = [world.slot("B001-S1", 0, h) for h in (10, 12, 14)]
    with pytest.raises(RuleBroken) as err:
        book(world, "p1", *run)
    assert err.value.code == "wrong_length"
    with pytest.raises(RuleBroken) as err:
        book(world, "p1", world.slot("B001-S1", 0, 10), now=world.local(0, 11))
    assert err.value.code == "in_past"


def test_a_taken_slot_is_a_conflict_naming_it(world):
    s = world.slot("B002-S1", 1, 20)
    book(world, "p1", s)
    with pytest.raises(SlotTaken) as err:
        book(world, "p2", s)
    assert err.value.status == 409 and err.value.detail == {"slots": [s]}
    assert holds() == 1


def test_the_database_refuses_a_second_hold_even_without_the_check(world):
    """The unique slot hold, not the pre-check, is what guarantees one booking per slot."""
    first = book(world, "p1", world.slot("B001-S1", 2, 10))
    second = book(world, "p2", world.slot("B001-S1", 2, 12))
    with pytest.raises(IntegrityError):
        db.session.execute(
            insert(SlotHold).values(slot_id=first.holds[0].slot_id, booking_id=second.id)
        )
    db.session.rollback()
    assert holds() == 2


def test_no_overlap_for_one_participant(world):
    book(world, "p1", world.slot("B001-S1", 1, 10), world.slot("B001-S1", 1, 12))
    with pytest.raises(RuleBroken) as err:
        book(world, "p1", world.slot("B001-S2", 1, 12))
    assert err.value.code == "overlap"


def test_daily_cap_from_the_week_policy(world):
    book(world, "p1", world.slot("B001-S1", 0, 10))
    book(world, "p1", world.slot("B001-S1", 0, 14))
    with pytest.raises(RuleBroken) as err:
        book(world, "p1", world.slot("B001-S2", 0, 20))
    assert err.value.code == "daily_cap" and err.value.detail["max"] == 2
    book(world, "p1", world.slot("B001-S2", 1, 20))  # another day is fine


def test_no_daily_cap_when_the_week_sets_none(world):
    planning_week_for(world.week_start).max_sessions_per_day = None
    db.session.commit()
    for hour in (10, 14, 20):
        book(world, "p1", world.slot("B001-S1", 0, hour))
    assert holds() == 3


def test_same_day_same_base(world):
    book(world, "p1", world.slot("B001-S1", 1, 10))
    with pytest.raises(RuleBroken) as err:
        book(world, "p1", world.slot("B002-S1", 1, 14))
    assert err.value.code == "same_day_same_base"
    book(world, "p1", world.slot("B002-S1", 2, 14))


def test_staff_book_only_for_a_named_participant_at_their_base(world):
    p1 = world.participants["P001"]
    with pytest.raises(Forbidden) as err:
        book(world, "op1", world.slot("B001-S1", 0, 10))
    assert err.value.code == "role_cannot_book"
    with pytest.raises(Forbidden):
        book(world, "op2", world.slot("B001-S1", 0, 10), participant=p1)
    with pytest.raises(Forbidden):
        book(world, "p2", world.slot("B001-S1", 0, 10), participant=p1)
    b = book(world, "op1", world.slot("B001-S1", 0, 10), participant=p1)
    assert (b.origin, b.participant_id) == ("operator", p1.id)


def test_participant_cancels_before_the_cutoff_and_the_slot_is_free_again(world):
    s = world.slot("B001-S1", 2, 20)
    b = book(world, "p1", s)
    lifecycle.cancel(world.users["p1"], b, now=world.local(1, 12))
    assert b.status == "cancelled" and holds() == 0
    rows = db.session.scalars(select(BookingSlot).where(BookingSlot.booking_id == b.id)).all()
    assert [r.released_at is not None for r in rows] == [True]
    assert book(world, "p2", s).status == "confirmed"
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.booking_id == b.id).order_by(AuditEvent.id)
    ).all()
    assert actions == ["booking.create", "booking.cancel"]


def test_participant_cannot_cancel_after_the_cutoff_or_a_locked_or_foreign_booking(world):
    b = book(world, "p1", world.slot("B001-S1", 2, 20))
    with pytest.raises(lifecycle.CutoffPassed):
        lifecycle.cancel(world.users["p1"], b, now=world.local(2, 20) - timedelta(hours=23))
    with pytest.raises(Forbidden):
        lifecycle.cancel(world.users["p2"], b, now=_now(world))
    lifecycle.lock(world.users["op1"], b)
    with pytest.raises(lifecycle.InvalidState) as err:
        lifecycle.cancel(world.users["p1"], b, now=_now(world))
    assert err.value.code == "locked" and holds() == 1


def test_operator_cancels_with_a_reason_and_the_participant_is_notified(world):
    b = book(world, "p1", world.slot("B001-S1", 2, 10))
    with pytest.raises(RuleBroken) as err:
        lifecycle.cancel(world.users["op1"], b, reason="  ")
    assert err.value.code == "reason"
    with pytest.raises(Forbidden):
        lifecycle.cancel(world.users["op2"], b, reason="studio flooded")
    lifecycle.cancel(world.users["op1"], b, reason="studio flooded")
    note = db.session.scalars(select(Notification)).one()
    assert note.user_id == world.users["p1"].id and note.kind == "booking_cancelled"
    assert note.params["reason"] == "studio flooded"
    mail = db.session.scalars(select(OutboxEmail)).one()
    assert mail.to_address == "p1@example.test" and "studio flooded" in mail.body
    assert mail.sent_at is None
    with pytest.raises(lifecycle.InvalidState):
        lifecycle.cancel(world.users["admin"], b, reason="again")


def _tentative(world, user, slot):
    b = book(world, user, slot)
    b.status = "tentative"
    db.session.commit()
    return b


def test_operator_confirms_locks_and_unlocks_at_their_base_only(world):
    b = _tentative(world, "p1", world.slot("B001-S1", 1, 14))
    with pytest.raises(Forbidden):
        lifecycle.confirm(world.users["op2"], b)
    with pytest.raises(Forbidden):
        lifecycle.confirm(world.users["p1"], b)
    assert lifecycle.confirm(world.users["op1"], b).status == "confirmed"
    assert db.session.scalars(select(Notification.kind)).all() == ["booking_confirmed"]
    with pytest.raises(lifecycle.InvalidState):
        lifecycle.confirm(world.users["op1"], b)
    assert lifecycle.lock(world.users["admin"], b).status == "locked"
    assert lifecycle.unlock(world.users["op1"], b).status == "confirmed"


def test_participant_accepts_or_declines_a_tentative_session(world):
    a = _tentative(world, "p1", world.slot("B001-S1", 1, 14))
    d = _tentative(world, "p1", world.slot("B001-S1", 2, 14))
    with pytest.raises(Forbidden):
        lifecycle.accept(world.users["p2"], a)
    assert lifecycle.accept(world.users["p1"], a).status == "confirmed"
    with pytest.raises(lifecycle.InvalidState):
        lifecycle.decline(world.users["p1"], a)
    assert lifecycle.decline(world.users["p1"], d).status == "cancelled"
    assert holds() == 1
