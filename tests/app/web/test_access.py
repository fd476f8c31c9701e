"""Who sees which page: roles, other bases (404), other participants' sessions (404)."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Booking, Slot
from app.services.booking import service as booking_service


def test_visitors_are_sent_to_login(app, world):
    client = app.test_client()
    for url in ("/operator/", "/operator/bases/B001/week", "/me/slots", "/me/sessions"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/auth/login" in response.headers["Location"]


def test_operator_sees_own_base_and_not_the_other(login):
    op1 = login("op1")
    own = op1.get("/operator/bases/B001/week?week=" + _week(op1))
    assert own.status_code == 200
    assert "临沂直播基地" in own.get_data(as_text=True)
    for url in (
        "/operator/bases/B002",
        "/operator/bases/B002/week",
        "/operator/bases/B002/bookings",
        "/operator/bases/B002/dashboard",
        "/operator/bases/B002/bookings.csv",
        "/operator/bases/B002/template",
    ):
        assert op1.get(url).status_code == 404, url


def _week(client) -> str:
    from tests.app.services.world import next_monday

    return next_monday().isoformat()


def test_operator_cannot_touch_other_bases_slots_or_bookings(app, world, login):
    booking = booking_service.book_slots(world.users["p2"], [world.slot("B002-S1", 1, 10)])
    op1 = login("op1")
    assert (
        op1.post(
            f"/operator/slots/{world.slot('B002-S1', 1, 12)}/block", data={"reason": "x"}
        ).status_code
        == 404
    )
    assert (
        op1.post(f"/operator/bookings/{booking.code}/cancel", data={"reason": "x"}).status_code
        == 404
    )
    assert op1.post(f"/operator/bookings/{booking.code}/lock").status_code == 404
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status == "confirmed"
    slot = db.session.scalar(select(Slot).where(Slot.code == world.slot("B002-S1", 1, 12)))
    assert slot.state == "open"


def test_participant_pages_refuse_staff_and_operator_pages_refuse_participants(login):
    assert login("op1").get("/me/slots").status_code == 403
    p1 = login("p1")
    assert p1.get("/operator/").status_code == 403
    assert p1.get("/operator/bases/B001/week").status_code == 403


def test_admin_operates_every_base(login):
    admin = login("admin")
    home = admin.get("/operator/")
    assert home.status_code == 200
    page = home.get_data(as_text=True)
    assert "临沂直播基地" in page and "赣州直播基地" in page
    assert admin.get("/operator/bases/B002/week").status_code == 200


def test_participant_cannot_act_on_someone_elses_session(app, world, login):
    booking = booking_service.book_slots(world.users["p1"], [world.slot("B001-S1", 2, 10)])
    p2 = login("p2")
    for action in ("cancel", "accept", "decline"):
        assert p2.post(f"/me/sessions/{booking.code}/{action}").status_code == 404
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status == "confirmed"
    assert booking.code not in p2.get("/me/sessions").get_data(as_text=True)
