"""Instant placement and the waiting list with the queue in eager mode (the job runs inline
right after the write that enqueues it), on SQLite and PostgreSQL.

Every test ends by checking the whole week against ``scheduler.validate``: what a placement
writes from its neighbourhood must hold for the week.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.jobs import placement as placement_jobs
from app.models import Booking, BookingRequest, PlanningWeek, TimetableWeek, utcnow
from app.models.notification import Notification
from app.services.booking import lifecycle
from app.services.booking import requests as svc
from app.services.booking import service as booking
from app.services.exchange.export import build_instance, build_plan
from app.services.placement import neighbourhood, place, trigger, waitlist
from scheduler.validate import validate


@pytest.fixture(autouse=True)
def instant_placement(app):
    """Filing a request and freeing a slot enqueue placements (eager: they run inline)."""
    app.config["INSTANT_PLACEMENT"] = True


def _now(world):
    return world.local(-3, 12)


def _file(world, user="p1", **kw):
    args = {
        "sessions": 1,
        "length": 1,
        "window_start": world.local(0, 0),
        "window_end": world.local(3, 0),
        "now": _now(world),
    }
    args.update(kw)
    return svc.file_request(world.users[user], **args)


def _week(world) -> PlanningWeek:
    return db.session.scalar(
        select(PlanningWeek).where(PlanningWeek.week_start == world.week_start)
    )


def _active(req) -> list[Booking]:
    return list(
        db.session.scalars(
            select(Booking)
            .where(Booking.request_id == req.id, Booking.status != "cancelled")
            .order_by(Booking.id)
        )
    )


def _slots(b: Booking) -> list[str]:
    db.session.refresh(b)
    return [s.code for s in b.current_slots]


def _assert_week_valid(world):
    week = _week(world)
    inst = build_instance(db.session, week, freeze_until=None, timezone="Asia/Shanghai")
    assert validate(inst, build_plan(db.session, week, inst)) == []


def test_a_burst_of_requests_is_placed_in_small_batches_each_enqueueing_the_next(
    app, world, monkeypatch
):
    enqueued = []
    monkeypatch.setattr(trigger, "_enqueue", lambda kind, payload, dedupe_key: enqueued.append(
        (kind, payload, dedupe_key)))  # fmt: skip
    app.config["PLACEMENT_BATCH"] = 2
    reqs = [_file(world, "p1", sessions=2), _file(world, "p2"), _file(world, "p3", length=2)]
    assert [r.placement for r in reqs] == ["queued"] * 3
    # One week, one key: while the first job waits, the queue hands back that same job.
    assert len({key for _, _, key in enqueued}) == 1 and enqueued[0][0] == "placement.requests"
    filed = len(enqueued)
    first = placement_jobs.place_requests_job(enqueued[0][1])
    # The first job claims the two oldest and, seeing one more waiting, enqueues the next job
    # before it solves (another worker can take it meanwhile).
    assert first["requests"] == 2 and len(enqueued) == filed + 1
    for r in reqs[:2]:
        db.session.refresh(r)
        assert r.placement == "done"
    db.session.refresh(reqs[2])
    assert reqs[2].placement == "queued"
    second = placement_jobs.place_requests_job(enqueued[-1][1])
    assert second["requests"] == 1 and len(enqueued) == filed + 1  # nothing left: no next job
    assert first["added"] + second["added"] == 4
    for r in reqs:
        db.session.refresh(r)
        got = _active(r)
        assert r.placement == "done" and len(got) == r.sessions
        assert all(b.status == "tentative" and b.origin == "optimizer" for b in got)
    kinds = db.session.scalars(
        select(Notification.kind).where(Notification.user_id == world.users["p1"].id)
    ).all()
    assert kinds.count("booking_proposed") == 2
    # A further pass finds nothing queued and changes nothing.
    assert place.place_queued(_week(world).id)["requests"] == 0
    _assert_week_valid(world)


def test_filing_places_at_once_with_a_deadline(world):
    before = utcnow()
    req = _file(world, "p1", sessions=2)
    db.session.refresh(req)
    got = _active(req)
    assert req.placement == "done" and len(got) == 2
    ttl = timedelta(hours=24)
    assert all(before + ttl <= b.expires_at <= utcnow() + ttl for b in got)
    _assert_week_valid(world)


def test_a_tentative_booking_moves_only_to_serve_more_and_its_participant_is_told(world):
    b002 = ["B002"]
    first = _file(world, "p2", bases=b002, prefer_prime=True,
                  window_start=world.local(0, 0), window_end=world.local(1, 0))  # fmt: skip
    (held,) = _active(first)
    assert _slots(held) == [world.slot("B002-S1", 0, 20)]  # prime time, as preferred
    # P1 can only use that very slot: P2's proposal moves to another time of the same day.
    second = _file(world, "p1", bases=b002,
                   window_start=world.local(0, 20), window_end=world.local(0, 22))  # fmt: skip
    (mine,) = _active(second)
    assert _slots(mine) == [world.slot("B002-S1", 0, 20)]
    assert _slots(held)[0].startswith("B002-S1-D0-") and _slots(held) != _slots(mine)
    kinds = db.session.scalars(
        select(Notification.kind).where(Notification.user_id == world.users["p2"].id)
    ).all()
    assert "booking_moved" in kinds
    # A third request that fits elsewhere moves nobody.
    where = {b.code: _slots(b) for b in _active(first) + _active(second)}
    third = _file(world, "p3", bases=b002)
    assert len(_active(third)) == 1
    assert {b.code: _slots(b) for b in _active(first) + _active(second)} == where
    _assert_week_valid(world)


def test_confirmed_bookings_never_move_and_the_request_waits(world):
    only = [world.slot("B002-S1", 0, 20)]
    booking.book(world.users["p2"], only, now=_now(world))
    req = _file(world, "p1", bases=["B002"],
                window_start=world.local(0, 20), window_end=world.local(0, 22))  # fmt: skip
    db.session.refresh(req)
    assert req.placement == "done" and _active(req) == []
    entry = waitlist.place_of(req)
    assert entry is not None and entry.missing == 1
    assert [w.request.code for w in waitlist.for_hub(_week(world), world.hubs["B002"])] == [
        req.code
    ]
    _assert_week_valid(world)


def test_a_cancelled_booking_is_offered_to_the_waiting_list(world):
    only = [world.slot("B002-S1", 0, 20)]
    made = booking.book(world.users["p2"], only, now=_now(world))
    early = _file(world, "p1", bases=["B002"],
                  window_start=world.local(0, 20), window_end=world.local(0, 22))  # fmt: skip
    late = _file(world, "p3", bases=["B002"],
                 window_start=world.local(0, 20), window_end=world.local(0, 22))  # fmt: skip
    db.session.execute(
        BookingRequest.__table__.update()
        .where(BookingRequest.id == late.id)
        .values(created_at=early.created_at + timedelta(minutes=1))
    )
    db.session.commit()
    assert _active(early) == [] and _active(late) == []
    lifecycle.cancel(world.users["p2"], db.session.get(Booking, made.id), now=_now(world))
    (offer,) = _active(early)  # the one who waited longer
    assert _slots(offer) == only and offer.status == "tentative" and _active(late) == []
    # Declined: the slot goes to the next in line.
    lifecycle.decline(world.users["p1"], offer, now=_now(world))
    assert [_slots(b) for b in _active(late)] == [only]
    _assert_week_valid(world)


def test_a_proposal_past_its_deadline_is_released_and_goes_to_the_next_in_line(world):
    only = {"bases": ["B002"], "window_start": world.local(0, 20), "window_end": world.local(0, 22)}
    first = _file(world, "p1", **only)
    (offer,) = _active(first)
    second = _file(world, "p3", **only)
    assert _active(second) == []
    # The clock's periodic pass: nothing is overdue yet, then the deadline passes.
    assert placement_jobs.expire_job({}) == {"weeks": 0, "bases": 0}
    offer.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert placement_jobs.expire_job({}) == {"weeks": 1, "bases": 1}
    db.session.refresh(offer)
    assert offer.status == "cancelled"
    assert [_slots(b) for b in _active(second)] == [[world.slot("B002-S1", 0, 20)]]
    # The next placement releases overdue proposals too.
    (again,) = _active(second)
    again.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    place.refill(_week(world).id, set())
    db.session.refresh(again)
    assert again.status == "cancelled"
    _assert_week_valid(world)


def test_a_request_for_a_week_without_a_published_timetable_says_so(world):
    for tw in db.session.scalars(select(TimetableWeek)):
        tw.state = "draft"
    db.session.commit()
    req = _file(world, "p1")
    assert req.placement == "failed" and "published" in req.placement_reason
    assert place.place_queued(_week(world).id)["requests"] == 0


def test_the_area_where_tentative_bookings_may_move_stays_on_the_targets_days(app, world):
    # P2's proposal sits at day 0 20:00 and its request allows days 0-2; a request for day 0 at
    # 20:00 reads where that proposal could move on day 0 only, not its whole window.
    first = _file(world, "p2", bases=["B002"], prefer_prime=True,
                  window_start=world.local(0, 0), window_end=world.local(1, 0))  # fmt: skip
    (held,) = _active(first)
    assert _slots(held) == [world.slot("B002-S1", 0, 20)]
    first.window_end = world.local(3, 0)
    db.session.commit()
    app.config["INSTANT_PLACEMENT"] = False  # build the neighbourhood by hand
    later = _file(world, "p1", bases=["B002"],
                  window_start=world.local(0, 20), window_end=world.local(0, 22))  # fmt: skip
    nb = neighbourhood.build(db.session, _week(world), [later.id], freeze_until=_now(world),
                             timezone="Asia/Shanghai", max_bases=6, allow_moves=True)  # fmt: skip
    assert (first.code, (world.slot("B002-S1", 0, 20),)) in nb.movable
    days = {code.split("-D")[1][0] for code in nb.instance.slot_by_id if code.startswith("B002")}
    assert days == {"0"}
