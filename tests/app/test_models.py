"""What the database itself enforces, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError, StatementError

from app.extensions import db
from app.models import Booking, BookingRequest, Participant, Slot, SlotHold, User
from tests.app.db_world import T0, booking, tiny_world


def test_second_active_hold_on_a_slot_is_refused(any_app):
    w = tiny_world()
    slot = w["slots"][0]
    booking(w, "K000001", 0, slot)
    with pytest.raises(IntegrityError):
        booking(w, "K000002", 1, slot)


def test_cancelling_releases_the_hold_and_history_stays(any_app):
    w = tiny_world()
    slot = w["slots"][0]
    first = booking(w, "K000001", 0, slot)
    first.status = "cancelled"
    db.session.execute(delete(SlotHold).where(SlotHold.booking_id == first.id))
    db.session.flush()
    second = booking(w, "K000002", 1, slot)
    db.session.commit()
    assert db.session.scalar(select(SlotHold.booking_id).where(SlotHold.slot_id == slot.id)) == (
        second.id
    )
    assert [s.code for s in first.current_slots] == [slot.code]


@pytest.mark.parametrize(
    ("model", "field", "value"),
    [
        (Participant, "priority", 4),
        (BookingRequest, "sessions", 0),
        (BookingRequest, "length", 0),
        (Booking, "status", "maybe"),
        (Slot, "state", "gone"),
    ],
)
def test_check_constraints(any_app, model, field, value):
    w = tiny_world()
    row = {
        Participant: w["people"][0],
        BookingRequest: w["request"],
        Slot: w["slots"][0],
        Booking: None,
    }[model] or booking(w, "K000009", 0, w["slots"][2])
    setattr(row, field, value)
    with pytest.raises(IntegrityError):
        db.session.flush()


def test_slot_must_end_after_it_starts(any_app):
    w = tiny_world()
    w["slots"][1].end = w["slots"][1].start
    with pytest.raises(IntegrityError):
        db.session.flush()


def test_participant_account_needs_a_participant(any_app):
    user = User(username="someone", role="participant", password_hash="x")
    db.session.add(user)
    with pytest.raises(IntegrityError):
        db.session.flush()


def test_instants_come_back_aware_in_utc(any_app):
    w = tiny_world()
    shanghai = timezone(timedelta(hours=8))
    w["slots"][0].start = datetime(2026, 12, 8, 8, 0, tzinfo=shanghai)
    db.session.commit()
    db.session.expire_all()
    got = db.session.scalar(select(Slot.start).where(Slot.code == "SL000001"))
    assert got == datetime(2026, 12, 8, 0, 0, tzinfo=UTC)
    assert got.utcoffset() == timedelta(0)
    assert T0.tzinfo is UTC


def test_naive_instants_are_refused(app):
    w = tiny_world()
    w["slots"][0].start = datetime(2026, 12, 8, 8, 0)
    with pytest.raises(StatementError, match="naive datetime"):
        db.session.flush()


def test_passwords_are_argon2_hashes(app):
    user = User(username="alice", role="admin")
    user.set_password("correct horse")
    assert user.password_hash.startswith("$argon2id$")
    assert user.check_password("correct horse")
    assert not user.check_password("wrong")
