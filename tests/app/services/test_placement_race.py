"""PostgreSQL, two real connections: a direct booking racing a placement on the same slot.

The direct booking is never lost and the slot is never held twice: a booking committed while
the placement solved makes the placement read the week again; a booking in flight when the
placement writes makes the placement's hold wait on the unique slot key and then give way.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select, text

from app.extensions import db
from app.models import Booking, BookingRequest, PlanningWeek, Slot, SlotHold, User
from app.services.booking import lifecycle
from app.services.booking import requests as svc
from app.services.booking import service as booking
from app.services.placement import place, trigger
from tests.app.locking import waits_until_commit
from tests.app.services.world import build_world


def _setup(app, monkeypatch):
    """One request (P001) that only the slot B002-S1 day 0 20:00 fits, filed but not yet placed
    (its job is left queued: the test runs the placement itself)."""
    monkeypatch.setattr(trigger, "_enqueue", lambda *args, **kwargs: None)
    app.config["INSTANT_PLACEMENT"] = True
    with app.app_context():
        world = build_world()
        now = world.local(-3, 12)
        req = svc.file_request(
            world.users["p1"], sessions=1, length=1, bases=["B002"],
            window_start=world.local(0, 20), window_end=world.local(0, 22), now=now,
        )  # fmt: skip
        week_id = db.session.scalar(
            select(PlanningWeek.id).where(PlanningWeek.week_start == world.week_start)
        )
        target = world.slot("B002-S1", 0, 20)
        return {
            "now": now,
            "request": req.id,
            "week": week_id,
            "target": target,
            "target_id": db.session.scalar(select(Slot.id).where(Slot.code == target)),
            "p2": world.users["p2"].id,
        }


def _holder(slot_id: int) -> Booking | None:
    hold = db.session.get(SlotHold, slot_id)
    return None if hold is None else db.session.get(Booking, hold.booking_id)


@pytest.mark.postgres
def test_a_booking_committed_during_the_solve_wins_and_the_placement_reads_again(
    own_database, monkeypatch
):
    app = own_database()
    s = _setup(app, monkeypatch)
    real_repair = place.repair
    booked: list[str] = []

    def repair_then_someone_books(*args, **kwargs):
        plan = real_repair(*args, **kwargs)
        if not booked:  # the first solve: a direct booking commits on its own connection

            def direct() -> None:
                with app.app_context():
                    made = booking.book(db.session.get(User, s["p2"]), [s["target"]])
                    booked.append(made.code)
                    db.session.remove()

            t = threading.Thread(target=direct)
            t.start()
            t.join(timeout=30)
        return plan

    monkeypatch.setattr(place, "repair", repair_then_someone_books)
    with app.app_context():
        result = place.place_queued(s["week"], now=s["now"])
        assert result["added"] == 0 and len(booked) == 1
        holder = _holder(s["target_id"])
        assert holder.code == booked[0] and holder.status == "confirmed"
        assert db.session.get(BookingRequest, s["request"]).placement == "done"
        assert db.session.scalar(select(func.count()).select_from(SlotHold)) == 1


@pytest.mark.postgres
def test_a_booking_in_flight_when_the_placement_writes_keeps_its_slot(own_database, monkeypatch):
    app = own_database()
    s = _setup(app, monkeypatch)
    with app.app_context():
        p2 = db.session.get(User, s["p2"]).participant_id
    outcome: list[dict] = []

    def placement() -> None:
        with app.app_context():
            outcome.append(place.place_queued(s["week"], now=s["now"]))
            db.session.remove()

    with app.app_context():
        with db.engine.connect() as rival_conn:  # a direct booking's writes, not yet committed
            rival_id = rival_conn.exec_driver_sql(
                "INSERT INTO bookings (code, participant_id, planning_week_id, status, origin, "
                "created_at, updated_at) VALUES ('K900001', %s, %s, 'confirmed', 'participant', "
                "now(), now()) RETURNING id",
                (p2, s["week"]),
            ).scalar_one()
            rival_conn.exec_driver_sql(
                "INSERT INTO booking_slots (booking_id, slot_id, position, assigned_at) "
                "VALUES (%s, %s, 0, now())",
                (rival_id, s["target_id"]),
            )
            rival_conn.exec_driver_sql(
                "INSERT INTO slot_holds (slot_id, booking_id, held_at) VALUES (%s, %s, now())",
                (s["target_id"], rival_id),
            )
            waits_until_commit(
                rival_conn, placement, "the placement's hold should wait on the rival's"
            )
        assert outcome and outcome[0]["added"] == 0
        assert _holder(s["target_id"]).code == "K900001"
        mine = db.session.scalar(
            select(func.count())
            .select_from(Booking)
            .where(Booking.request_id == s["request"], Booking.status != "cancelled")
        )
        assert mine == 0


@pytest.mark.postgres
def test_two_workers_claiming_at_once_take_different_requests(own_database, monkeypatch):
    """A claim in flight on one connection (its row locked) is skipped, not waited for: the
    second worker takes the next queued request at once, and neither takes the other's."""
    app = own_database()
    s = _setup(app, monkeypatch)
    with app.app_context():
        first = db.session.get(BookingRequest, s["request"])
        second = svc.file_request(
            db.session.get(User, s["p2"]), sessions=1, length=1, bases=["B002"],
            window_start=first.window_start, window_end=first.window_end, now=s["now"],
        )  # fmt: skip
        first_id, second_id = first.id, second.id
        db.session.commit()
        with db.engine.connect() as rival:  # another worker's claim, not yet committed
            rival.exec_driver_sql(
                "SELECT id FROM booking_requests WHERE id = %s FOR UPDATE", (first_id,)
            ).all()
            db.session.execute(text("SET LOCAL lock_timeout = '5s'"))  # fail, do not hang
            assert place._claim(s["week"], 1, s["now"]) == [second_id]  # no wait on the rival
            rival.rollback()
        assert place._claim(s["week"], 1, s["now"]) == [first_id]
        assert place._claim(s["week"], 1, s["now"]) == []  # each request claimed once only


@pytest.mark.postgres
def test_a_cancelled_slot_is_offered_to_the_request_waiting_for_it(own_database, monkeypatch):
    """The refill's page of the waiting list, read by PostgreSQL: the freed slot goes to the
    request that only it fits, as a proposal."""
    app = own_database()
    s = _setup(app, monkeypatch)
    with app.app_context():
        rival = db.session.get(User, s["p2"])
        taken = booking.book(rival, [s["target"]])
        db.session.commit()
        assert place.place_queued(s["week"], now=s["now"])["added"] == 0  # it waits
        assert db.session.get(BookingRequest, s["request"]).placement == "done"
        lifecycle.cancel(rival, db.session.get(Booking, taken.id), now=s["now"])
        db.session.commit()
        result = place.refill(s["week"], trigger.hubs_of_slots([s["target_id"]]), now=s["now"])
        assert result == {"candidates": 1, "added": 1}
        holder = _holder(s["target_id"])
        assert holder.request_id == s["request"] and holder.status == "tentative"
