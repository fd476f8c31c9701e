"""PostgreSQL under contention: many participants try to book one slot at the same instant.

Each attempt runs in its own thread with its own app context, session and connection; a
barrier releases them together, so most pass the friendly pre-check before anyone commits and
the database's unique slot hold is what decides. Exactly one wins; every other attempt gets
``SlotTaken``; one hold row remains.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Booking, Participant, Slot, SlotHold, User
from app.services.booking import service as booking
from app.services.booking.rules import SlotTaken
from tests.app.locking import waits_until_commit
from tests.app.services.world import build_world

ATTEMPTS = 60


@pytest.mark.postgres
def test_sixty_participants_race_for_one_slot(own_database):
    app = own_database(pool_size=ATTEMPTS + 2, max_overflow=0)  # a big pool of its own
    with app.app_context():
        world = build_world()
        hash_ = world.users["p1"].password_hash
        ids = []
        for i in range(ATTEMPTS):
            p = Participant(
                code=f"P9{i:03d}",
                name=f"合作社{i}",
                kind="producer",
                province="山东省",
                region="east",
                lat=36.0,
                lon=118.0,
                priority=1,
            )
            u = User(username=f"racer{i}", role="participant", participant=p, password_hash=hash_)
            db.session.add_all([p, u])
            db.session.flush()
            ids.append(u.id)
        db.session.commit()
        slot = world.slot("B001-S1", 2, 20)

    barrier = threading.Barrier(ATTEMPTS, timeout=60)
    results: list[str] = []
    lock = threading.Lock()

    def attempt(user_id: int) -> None:
        with app.app_context():
            user = db.session.get(User, user_id)
            db.session.execute(select(1))  # hold a connection before the start signal
            barrier.wait()
            try:
                booking.book_slots(user, [slot])
                outcome = "booked"
            except SlotTaken:
                outcome = "taken"
            except Exception as exc:  # anything else is a failure of the test
                outcome = f"error: {exc!r}"
            finally:
                db.session.remove()
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=attempt, args=(uid,)) for uid in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert len(results) == ATTEMPTS
    assert results.count("booked") == 1, results
    assert results.count("taken") == ATTEMPTS - 1, [r for r in results if r.startswith("error")]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SlotHold)) == 1
        active = db.session.scalar(
            select(func.count()).select_from(Booking).where(Booking.status != "cancelled")
        )
        assert active == 1


@pytest.mark.postgres
def test_the_unique_hold_decides_when_the_pre_check_cannot_see_the_rival(own_database):
    """A rival's hold, inserted but not yet committed, is invisible to the pre-check; the
    insert then waits on the unique index and fails once the rival commits: SlotTaken."""
    app = own_database()
    with app.app_context():
        world = build_world()
        rival = booking.book_slots(world.users["p2"], [world.slot("B002-S1", 1, 10)])
        target = world.slot("B001-S1", 2, 20)
        slot_id = db.session.scalar(select(SlotHold.slot_id).where(SlotHold.booking_id == rival.id))
        target_id = db.session.scalar(select(Slot.id).where(Slot.code == target))
        p1_id, rival_id = world.users["p1"].id, rival.id
        assert slot_id != target_id

    outcome: list[object] = []

    def attempt() -> None:
        with app.app_context():
            try:
                booking.book_slots(db.session.get(User, p1_id), [target])
                outcome.append("booked")
            except SlotTaken as exc:
                outcome.append(exc.detail)
            finally:
                db.session.remove()

    with app.app_context():
        with db.engine.connect() as rival_conn:
            rival_conn.exec_driver_sql(
                "INSERT INTO slot_holds (slot_id, booking_id, held_at) VALUES (%s, %s, now())",
                (target_id, rival_id),
            )
            waits_until_commit(
                rival_conn, attempt, "the booking should wait on the rival's uncommitted hold"
            )
        assert outcome == [{"slots": [target]}]
        assert db.session.scalar(select(func.count()).select_from(SlotHold)) == 2


@pytest.mark.postgres
def test_an_operator_cannot_block_a_slot_a_booking_is_taking(own_database):
    """A booking in flight holds its slots FOR SHARE: blocking one waits for it, then sees the
    hold and refuses, so a slot is never both blocked and booked."""
    from app.services.timetable.service import TimetableError, block_slot

    app = own_database()
    with app.app_context():
        world = build_world()
        rival = booking.book_slots(world.users["p2"], [world.slot("B002-S1", 1, 10)])
        target_id = db.session.scalar(
            select(Slot.id).where(Slot.code == world.slot("B001-S1", 2, 20))
        )
        admin_id = db.session.scalar(select(User.id).where(User.role == "admin"))
        rival_id = rival.id

    outcome: list[str] = []

    def block() -> None:
        with app.app_context():
            try:
                block_slot(
                    db.session.get(Slot, target_id), "maintenance", db.session.get(User, admin_id)
                )
                outcome.append("blocked")
            except TimetableError as exc:
                outcome.append(exc.code)
            finally:
                db.session.remove()

    with app.app_context():
        with db.engine.connect() as booking_conn:  # what book_slots does, held open
            booking_conn.exec_driver_sql(
                "SELECT id FROM slots WHERE id = %s FOR SHARE", (target_id,)
            )
            booking_conn.exec_driver_sql(
                "INSERT INTO slot_holds (slot_id, booking_id, held_at) VALUES (%s, %s, now())",
                (target_id, rival_id),
            )
            waits_until_commit(
                booking_conn, block, "blocking should wait for the booking in flight"
            )
        assert outcome == ["booked"]
        assert db.session.get(Slot, target_id).state == "open"
