"""Messages that say what happened: a number that is 0 or text, a reason over the limit, booking
my own slot again from a second tab (pages and API), in Chinese and English."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import Booking, BookingRequest
from app.services.booking import service as booking_service
from tests.app.api.conftest import Api, assert_error


def _request_form(world, **over) -> dict:
    start = world.week_start
    form = {
        "sessions": "1",
        "length": "1",
        "window_start": start.isoformat(),
        "window_end": (start + timedelta(days=2)).isoformat(),
    }
    form.update(over)
    return form


def test_zero_or_text_sessions_say_so_not_field_required(app, world, login):
    p1 = login("p1")
    zero = p1.post("/me/requests/new?lang=en", data=_request_form(world, sessions="0"))
    text = zero.get_data(as_text=True)
    assert "Ask for 1 to 14 sessions." in text and "This field is required" not in text
    words = p1.post("/me/requests/new?lang=zh_CN", data=_request_form(world, sessions="两场"))
    text = words.get_data(as_text=True)
    assert "请输入整数，例如 2。" in text and "此字段为必填项" not in text
    far = p1.post("/me/requests/new?lang=en", data=_request_form(world, max_km="abc"))
    assert "Enter a whole number, such as 2." in far.get_data(as_text=True)
    assert db.session.scalar(select(func.count(BookingRequest.id))) == 0  # nothing written


def test_a_reason_over_the_limit_is_not_a_missing_reason(app, world, login):
    op1 = login("op1")
    code = world.slot("B001-S1", 2, 10)
    long = "检修" * 151  # 302 characters
    page = op1.post(f"/operator/slots/{code}/block", data={"reason": long}, follow_redirects=True)
    text = page.get_data(as_text=True)
    assert "原因太长：最多 300 个字符。" in text and "请填写原因。" not in text
    empty = op1.post(
        f"/operator/slots/{code}/block?lang=en", data={"reason": ""}, follow_redirects=True
    )
    assert "Please give a reason." in empty.get_data(as_text=True)
    booking = booking_service.book_slots(
        world.users["op1"], [code], participant=world.participants["P001"]
    )
    page = op1.post(
        f"/operator/bookings/{booking.code}/cancel?lang=en",
        data={"reason": "x" * 301},
        follow_redirects=True,
    )
    text = page.get_data(as_text=True)
    assert "The reason is too long: at most 300 characters." in text
    db.session.refresh(booking)
    assert booking.status == "confirmed"


def test_booking_my_own_slot_again_says_I_have_it(app, world, login):
    p1 = login("p1")
    code = world.slot("B001-S1", 1, 12)
    assert p1.post(f"/me/slots/{code}/book", data={"choice": code}).status_code == 302
    again = p1.post(f"/me/slots/{code}/book", data={"choice": code}, follow_redirects=True)
    text = again.get_data(as_text=True)
    assert "你已经预订了这个场次" in text and "被别人" not in text
    assert again.request.path == "/me/sessions"
    assert db.session.scalar(select(func.count(Booking.id))) == 1
    other = login("p2").post(f"/me/slots/{code}/book", data={"choice": code})
    assert "/taken" in other.headers["Location"]  # someone else's: that message stays
    api = Api(app, world)
    error = assert_error(
        api.post("/api/v1/bookings", as_="p1", json={"slots": [code]}), 409, "already_yours"
    )
    assert error["detail"]["booking"].startswith("K")
    assert_error(api.post("/api/v1/bookings", as_="p2", json={"slots": [code]}), 409, "slot_taken")
