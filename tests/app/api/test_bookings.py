"""POST/GET/DELETE /api/v1/bookings: 201, 409, 422 naming the rule, 403 for staff."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Booking, SlotHold
from app.services.booking import requests as request_svc
from app.services.booking import service as booking
from tests.app.api.conftest import assert_error


def _holds() -> int:
    return db.session.scalar(select(func.count()).select_from(SlotHold))


def test_book_two_consecutive_slots(api, world):
    slots = [world.slot("B002-S1", 1, 12), world.slot("B002-S1", 1, 14)]
    r = api.post("/api/v1/bookings", as_="p2", json={"slots": slots})
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["id"] == "K000001" and body["status"] == "confirmed"
    assert (body["participant"], body["base"], body["studio"]) == ("P002", "B002", "B002-S1")
    assert body["slots"] == slots and body["request"] is None
    assert body["start"].endswith("T12:00:00+08:00") and body["end"].endswith("T16:00:00+08:00")
    assert _holds() == 2
    again = api.get("/api/v1/bookings/K000001", as_="p2").get_json()
    assert again == body


def test_taken_slot_is_409_naming_the_slot(api, world):
    s = world.slot("B001-S1", 2, 20)
    assert api.post("/api/v1/bookings", as_="p1", json={"slots": [s]}).status_code == 201
    error = assert_error(api.post("/api/v1/bookings", as_="p2", json={"slots": [s]}), 409)
    assert error["reason"] == "slot_taken" and error["detail"] == {"slots": [s]}
    assert _holds() == 1


def test_invalid_bookings_are_422_and_say_which_rule(api, world, app):
    w = world
    cases = [
        ([w.slot("B001-S1", 0, 10), w.slot("B001-S1", 0, 14)], "not_consecutive"),
        ([w.slot("B001-S1", 0, 10), w.slot("B002-S1", 0, 12)], "not_consecutive"),
        ([w.slot("B001-S2", 0, 10)], "slot_blocked"),
        ([w.slot("B002-S1", 7, 10)], "not_published"),
        (["SL000404"], "unknown_slot"),
    ]
    for slots, reason in cases:
        r = api.post("/api/v1/bookings", as_="p1", json={"slots": slots})
        assert_error(r, 422, reason)
    app.config["MAX_SLOTS_PER_BOOKING"] = 2
    run = [w.slot("B001-S1", 0, h) for h in (10, 12, 14)]
    assert_error(api.post("/api/v1/bookings", as_="p1", json={"slots": run}), 422, "wrong_length")
    for body in ({"slots": []}, {"slots": [1]}, {}, {"slots": "x"}, {"slots": ["a"], "who": 1}):
        assert_error(api.post("/api/v1/bookings", as_="p1", json=body), 422, "validation")
    assert _holds() == 0 and db.session.scalar(select(func.count()).select_from(Booking)) == 0


def test_participant_rules_hold_for_api_bookings(api, world):
    w = world
    book = lambda *s: api.post("/api/v1/bookings", as_="p1", json={"slots": list(s)})  # noqa: E731
    assert book(w.slot("B001-S1", 0, 12)).status_code == 201
    assert_error(book(w.slot("B002-S1", 0, 20)), 422, "same_day_same_base")
    assert_error(book(w.slot("B001-S2", 0, 12)), 422, "overlap")
    assert book(w.slot("B001-S2", 0, 14)).status_code == 201
    error = assert_error(book(w.slot("B001-S1", 0, 20)), 422, "daily_cap")
    assert error["detail"]["max"] == 2


def test_staff_may_not_book_through_the_api(api, world):
    for user in ("op1", "admin"):
        r = api.post("/api/v1/bookings", as_=user, json={"slots": [world.slot("B001-S1", 1, 10)]})
        assert_error(r, 403, "role_cannot_book")
    assert _holds() == 0


def test_booking_against_a_request_checks_its_length_and_needs(api, world):
    req = request_svc.file_request(
        world.users["p1"],
        sessions=1,
        length=2,
        window_start=world.local(0, 0),
        window_end=world.local(3, 0),
        needs=["kitchen"],
    )
    one = [world.slot("B001-S1", 1, 10)]
    r = api.post("/api/v1/bookings", as_="p1", json={"slots": one, "request": req.code})
    assert_error(r, 422, "wrong_length")
    plain = [world.slot("B001-S2", 1, 10), world.slot("B001-S2", 1, 12)]
    r = api.post("/api/v1/bookings", as_="p1", json={"slots": plain, "request": req.code})
    assert_error(r, 422, "needs")
    good = [world.slot("B001-S1", 1, 10), world.slot("B001-S1", 1, 12)]
    r = api.post("/api/v1/bookings", as_="p1", json={"slots": good, "request": req.code})
    assert r.status_code == 201 and r.get_json()["request"] == req.code
    r = api.post("/api/v1/bookings", as_="p2", json={"slots": good, "request": req.code})
    assert_error(r, 404, "not_found")
    listed = api.get(f"/api/v1/requests/{req.code}", as_="p1").get_json()
    assert listed["served"] == 1


def test_cancel_frees_the_slot_and_is_audited(api, world):
    s = world.slot("B001-S1", 2, 14)
    code = api.post("/api/v1/bookings", as_="p1", json={"slots": [s]}).get_json()["id"]
    r = api.delete(f"/api/v1/bookings/{code}", as_="p1")
    assert r.status_code == 200 and r.get_json()["status"] == "cancelled"
    assert r.get_json()["cancelled_at"] is not None
    assert_error(api.delete(f"/api/v1/bookings/{code}", as_="p1"), 409, "invalid_state")
    assert api.post("/api/v1/bookings", as_="p2", json={"slots": [s]}).status_code == 201
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["booking.create", "booking.cancel", "booking.create"]


def test_staff_cancel_needs_a_reason_given_as_json(api, world):
    code = api.post(
        "/api/v1/bookings", as_="p1", json={"slots": [world.slot("B001-S1", 2, 14)]}
    ).get_json()["id"]
    assert_error(api.delete(f"/api/v1/bookings/{code}", as_="op1"), 422, "reason")
    r = api.delete(f"/api/v1/bookings/{code}", as_="op1", json={"reason": "power cut"})
    assert r.status_code == 200 and r.get_json()["status"] == "cancelled"


def test_list_bookings_mine_and_my_bases(api, world):
    booking.book_slots(world.users["p1"], [world.slot("B001-S1", 1, 10)])
    booking.book_slots(world.users["p2"], [world.slot("B002-S1", 1, 10)])
    booking.book_slots(world.users["p3"], [world.slot("B001-S2", 1, 10)])
    ids = lambda user, q="": [b["id"] for b in api.get(f"/api/v1/bookings{q}", as_=user).get_json()]  # noqa: E731
    assert ids("p1") == ["K000001"]
    assert ids("p2") == ["K000002"]
    assert ids("op1") == ["K000003", "K000001"]
    assert ids("op2") == ["K000002"]
    assert ids("admin") == ["K000003", "K000002", "K000001"]
    assert ids("admin", "?base=B002") == ["K000002"]
    assert ids("admin", "?status=cancelled") == []
    assert_error(api.get("/api/v1/bookings?status=gone", as_="p1"), 422, "validation")


def test_tentative_sessions_accept_decline_confirm_lock(api, world):
    made = [
        booking.book_slots(world.users["p1"], [world.slot("B001-S1", d, 10)]) for d in (0, 1, 2)
    ]
    for b in made:
        b.status = "tentative"
    db.session.commit()
    a, d, c = (b.code for b in made)
    assert api.post(f"/api/v1/bookings/{a}/accept", as_="p1").get_json()["status"] == "confirmed"
    assert api.post(f"/api/v1/bookings/{d}/decline", as_="p1").get_json()["status"] == "cancelled"
    assert api.post(f"/api/v1/bookings/{c}/confirm", as_="op1").get_json()["status"] == "confirmed"
    assert api.post(f"/api/v1/bookings/{c}/lock", as_="op1").get_json()["status"] == "locked"
    assert_error(api.delete(f"/api/v1/bookings/{c}", as_="p1"), 409, "locked")
    assert_error(api.post(f"/api/v1/bookings/{a}/accept", as_="p1"), 409, "invalid_state")
