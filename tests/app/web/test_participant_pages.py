"""Participant pages: find with filters and distance, book, taken → alternatives, sessions."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import Booking, BookingRequest
from app.models.profiles import ParticipantProfile
from app.services.booking import service as booking_service
from app.services.booking.shortfall import why_not_placed


def test_find_slots_filters_by_feature_daypart_and_distance(app, world, login):
    p1 = login("p1")  # Shouguang, Shandong: ~150 km from Linyi, ~1,300 km from Ganzhou
    kitchen = p1.get("/me/slots?features=kitchen&daypart=evening").get_data(as_text=True)
    assert world.slot("B001-S1", 0, 20) in kitchen
    assert world.slot("B002-S1", 0, 20) in kitchen
    assert world.slot("B001-S2", 0, 20) not in kitchen  # no kitchen
    assert world.slot("B001-S1", 0, 10) not in kitchen  # morning
    near = p1.get("/me/slots?max_km=500").get_data(as_text=True)
    assert world.slot("B001-S1", 0, 10) in near and world.slot("B002-S1", 0, 10) not in near
    assert " km" in near
    assert world.slot("B001-S2", 0, 10) not in near  # blocked
    assert world.slot("B002-S1", 7, 10) not in p1.get("/me/slots").get_data(as_text=True)  # draft


def test_book_then_see_it_under_my_sessions(app, world, login):
    p1 = login("p1")
    code = world.slot("B001-S1", 1, 20)
    response = p1.post(f"/me/slots/{code}/book")
    assert response.status_code == 302 and "/me/sessions" in response.headers["Location"]
    booking = db.session.scalars(select(Booking)).one()
    assert booking.status == "confirmed" and booking.origin == "participant"
    sessions = p1.get("/me/sessions").get_data(as_text=True)
    assert booking.code in sessions and "临沂直播基地" in sessions and "已确认" in sessions
    assert code not in p1.get("/me/slots").get_data(as_text=True)


def test_a_slot_just_taken_gives_a_friendly_page_with_alternatives(app, world, login):
    code = world.slot("B001-S1", 1, 12)
    booking_service.book_slots(world.users["p2"], [code])
    p1 = login("p1")
    response = p1.post(f"/me/slots/{code}/book", follow_redirects=True)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "刚刚被别人订走了" in page
    assert world.slot("B001-S1", 1, 14) in page  # same studio, next slot, same kitchen
    assert (
        db.session.scalar(
            select(Booking).where(Booking.participant_id == world.participants["P001"].id)
        )
        is None
    )


def test_a_broken_rule_explains_itself_without_an_error_page(app, world, login):
    p1 = login("p1")
    assert p1.post(f"/me/slots/{world.slot('B001-S1', 0, 10)}/book").status_code == 302
    assert p1.post(f"/me/slots/{world.slot('B001-S1', 0, 12)}/book").status_code == 302
    third = p1.post(f"/me/slots/{world.slot('B001-S1', 0, 14)}/book")
    assert third.status_code == 200
    assert "当天的场次已达上限" in third.get_data(as_text=True)
    other_base = p1.post(f"/me/slots/{world.slot('B002-S1', 1, 10)}/book")
    assert other_base.status_code == 302  # another day: allowed


def test_cancel_before_cutoff_and_accept_tentative(app, world, login):
    booking = booking_service.book_slots(world.users["p1"], [world.slot("B001-S1", 2, 20)])
    p1 = login("p1")
    assert p1.post(f"/me/sessions/{booking.code}/cancel").status_code == 302
    db.session.refresh(booking)
    assert booking.status == "cancelled"
    tentative = booking_service.book_slots(world.users["p1"], [world.slot("B001-S1", 2, 10)])
    tentative.status = "tentative"
    db.session.commit()
    assert "接受" in p1.get("/me/sessions").get_data(as_text=True)
    p1.post(f"/me/sessions/{tentative.code}/accept")
    db.session.refresh(tentative)
    assert tentative.status == "confirmed"


def test_cancel_after_cutoff_is_refused_kindly(app, world, login):
    app.config["CANCEL_CUTOFF_HOURS"] = 24 * 30
    booking = booking_service.book_slots(world.users["p1"], [world.slot("B001-S1", 2, 20)])
    p1 = login("p1")
    page = p1.post(f"/me/sessions/{booking.code}/cancel", follow_redirects=True)
    assert page.status_code == 200 and "已超过在线取消期限" in page.get_data(as_text=True)
    db.session.refresh(booking)
    assert booking.status == "confirmed"


def _outdoor_request_form(world) -> dict:
    """The request form for two 1-slot sessions in an outdoor studio, any day of the week."""
    start = world.week_start
    return {
        "sessions": "2",
        "length": "1",
        "window_start": start.isoformat(),
        "window_end": (start + timedelta(days=6)).isoformat(),
        "needs": ["outdoor"],
    }


def test_file_a_request_and_see_why_it_is_not_placed(app, world, login):
    p1 = login("p1")
    response = p1.post("/me/requests/new", data=_outdoor_request_form(world))
    assert response.status_code == 302
    req = db.session.scalars(select(BookingRequest)).one()
    assert req.sessions == 2 and req.needs == ["outdoor"] and req.any_base
    detail = p1.get(f"/me/requests/{req.code}").get_data(as_text=True)
    assert req.code in detail and "未安排的原因" in detail
    assert req.code in p1.get("/me/requests").get_data(as_text=True)
    assert login("p2").get(f"/me/requests/{req.code}").status_code == 404


def test_why_a_request_is_short_is_worked_out_once_per_change_of_its_week(app, world, login):
    p1 = login("p1")
    assert p1.post("/me/requests/new", data=_outdoor_request_form(world)).status_code == 302
    req = db.session.scalars(select(BookingRequest)).one()
    first = why_not_placed(req)
    assert first and why_not_placed(req) is first  # kept: the week did not change
    english = p1.get(f"/me/requests/{req.code}?lang=en").get_data(as_text=True)
    assert "No base within reach has a studio with Outdoor." in english
    assert first[0].zh not in english
    booking_service.book_slots(world.users["p2"], [world.slot("B001-S1", 1, 12)])
    assert why_not_placed(req) is not first  # the week's bookings changed: worked out again


def test_profile_uses_real_places(app, world, login):
    p1 = login("p1")
    assert "山东省" in p1.get("/me/profile").get_data(as_text=True)
    form = {"name": "赣南脐橙合作社", "kind": "producer", "province": "江西省",
            "city": "赣州市", "county": "章贡区", "categories": ["fruit"]}  # fmt: skip
    assert p1.post("/me/profile", data=form).status_code == 302
    participant = world.participants["P001"]
    db.session.refresh(participant)
    assert participant.province == "江西省" and participant.region == "east"
    assert 25 < participant.lat < 26.5
    assert db.session.get(ParticipantProfile, participant.id).categories == ["fruit"]
    bad = dict(form, county="不存在县")
    assert "请从列表中选择" in p1.post("/me/profile", data=bad).get_data(as_text=True)


def test_my_calendar_feed(app, world, login):
    booking_service.book_slots(world.users["p1"], [world.slot("B001-S1", 1, 20)])
    p1 = login("p1")
    page = p1.get("/me/sessions").get_data(as_text=True)
    url = page.split('readonly value="', 1)[1].split('"')[0].replace("&amp;", "&")
    feed = app.test_client().get(url.replace("http://localhost", ""))
    assert feed.status_code == 200 and feed.get_data(as_text=True).count("BEGIN:VEVENT") == 1


def test_book_a_four_hour_session_of_two_consecutive_slots(app, world, login):
    p1 = login("p1")
    page = p1.get("/me/slots?length=2&base=B001").get_data(as_text=True)
    first, second = world.slot("B001-S1", 1, 10), world.slot("B001-S1", 1, 12)
    assert f"{first},{second} " in page and "10:00–14:00" in page
    # 14:00 and 20:00 are not consecutive, so no run starts at 14:00.
    assert f"{world.slot('B001-S1', 1, 14)}," not in page
    response = p1.post(f"/me/slots/{first}/book", data={"slots": [first, second]})
    assert response.status_code == 302
    booking = db.session.scalars(select(Booking)).one()
    assert [s.code for s in booking.current_slots] == [first, second]
    assert "10:00–14:00" in p1.get("/me/sessions").get_data(as_text=True)
    assert p1.post(f"/me/slots/{second}/book", data={"slots": [first]}).status_code == 400


def _why_not(page: str) -> str:
    return page.split('data-testid="why-not"', 1)[1].split("</ul>", 1)[0]


def test_why_not_placed_speaks_plainly_once_with_links_to_the_slots(app, world, login):
    p1 = login("p1")
    assert p1.post("/me/requests/new", data=_outdoor_request_form(world)).status_code == 302
    outdoor = db.session.scalars(select(BookingRequest)).one()
    said = _why_not(p1.get(f"/me/requests/{outdoor.code}").get_data(as_text=True))
    assert "户外" in said and "outdoor" not in said  # the feature by its Chinese name
    assert said.count("<li>") == 1 and "（2 场）" in said  # one reason for both sessions
    start = world.week_start
    form = dict(_outdoor_request_form(world), needs=["kitchen"], bases=["B001"])
    form["window_start"] = start.isoformat()
    form["window_end"] = (start + timedelta(days=1)).isoformat()
    assert p1.post("/me/requests/new", data=form).status_code == 302
    kitchen = db.session.scalars(select(BookingRequest).order_by(BookingRequest.id.desc())).first()
    said = _why_not(p1.get(f"/me/requests/{kitchen.code}").get_data(as_text=True))
    assert "临沂直播基地有合适的空闲直播间" in said and "B001-S1-D" not in said
    assert said.count("<li>") == 2  # two different free times, each once
    assert f"request={kitchen.code}" in said and "base=B001" in said
    assert f"day={start.isoformat()}" in said
    english = _why_not(p1.get(f"/me/requests/{kitchen.code}?lang=en").get_data(as_text=True))
    assert "has a free studio that fits" in english and "a free eligible run" not in english
