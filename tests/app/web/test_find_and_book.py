"""The find page: one card per time at a base, paging, the week view, filters that do not
parse said (not ignored), the summary before booking, a request's filters applied."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import Booking
from app.services.booking import requests as request_service


def test_one_card_per_time_at_a_base_says_how_many_studios(app, world, login):
    p1 = login("p1")
    page = p1.get(f"/me/slots?base=B001&day={(world.week_start + timedelta(days=1)).isoformat()}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert text.count('data-slots="') == 4  # 10, 12, 14, 20 at Linyi, not 8 cards
    assert "14:00 有 2 个直播间空闲" in text
    english = p1.get(page.request.full_path + "&lang=en").get_data(as_text=True)
    assert "2 studios free at 14:00" in english


def test_paging_shows_more(app, world, login):
    p1 = login("p1")
    first = p1.get("/me/slots?sort=soonest").get_data(as_text=True)
    assert first.count('data-slots="') == 20 and 'data-testid="more"' in first
    second = p1.get("/me/slots?sort=soonest&page=2").get_data(as_text=True)
    assert 0 < second.count('data-slots="') <= 20
    assert p1.get("/me/slots?page=abc").status_code == 400


def test_a_distance_that_is_not_a_number_is_said_not_ignored(app, world, login):
    p1 = login("p1")
    response = p1.get("/me/slots?max_km=abc")
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'data-testid="max-km-error"' in text and "请输入整数" in text
    assert 'data-slots="' not in text
    english = p1.get("/me/slots?max_km=0&lang=en").get_data(as_text=True)
    assert "The distance must be from 1 to 5000 km." in english
    assert "This field is required" not in english


def test_the_week_view_says_which_days_have_nothing_published(app, world, login):
    p1 = login("p1")
    text = p1.get(f"/me/slots?view=week&week={world.week_start.isoformat()}").get_data(as_text=True)
    assert text.count("尚未发布时段") == 4  # Thursday to Sunday
    assert f'data-testid="day-{world.week_start.isoformat()}"' in text
    assert "个直播间空闲" in text
    assert p1.get("/me/slots?view=week&week=someday").status_code == 400


def test_a_day_with_nothing_published_says_so(app, world, login):
    p1 = login("p1")
    day = (world.week_start + timedelta(days=5)).isoformat()
    text = p1.get(f"/me/slots?day={day}&lang=en").get_data(as_text=True)
    assert 'data-testid="day-unpublished"' in text and "No base has published" in text


def test_the_summary_names_where_when_how_far_and_the_features_before_booking(app, world, login):
    p1 = login("p1")
    first = world.slot("B001-S2", 1, 14)
    summary = p1.get(f"/me/slots/{first}/book?slots={first}")
    text = summary.get_data(as_text=True)
    assert summary.status_code == 200 and 'data-testid="book-summary"' in text
    assert "临沂直播基地" in text and "14:00–16:00" in text and "公里" in text
    assert "冷链" in text and "厨房" in text  # B001-S1, the other studio free then
    assert db.session.scalar(select(Booking.id)) is None  # nothing booked yet
    kitchen = world.slot("B001-S1", 1, 14)
    done = p1.post(f"/me/slots/{first}/book", data={"choice": kitchen})
    assert done.status_code == 302 and "/me/sessions" in done.headers["Location"]
    booking = db.session.scalars(select(Booking)).one()
    assert [s.code for s in booking.current_slots] == [kitchen]
    english = p1.get(f"/me/slots/{first}/book?slots={first}&lang=en").get_data(as_text=True)
    assert "You already have a session at that time." in english  # no longer offered to me


def test_a_request_link_applies_its_filters_and_books_towards_it(app, world, login):
    req = request_service.file_request(
        world.users["p1"],
        sessions=1,
        length=1,
        window_start=world.local(1, 0),
        window_end=world.local(2, 0),
        needs=["kitchen"],
        bases=["B001"],
        now=world.local(-3, 12),
    )
    p1 = login("p1")
    text = p1.get(f"/me/slots?request={req.code}").get_data(as_text=True)
    assert 'data-testid="request-filter"' in text
    offered = text.split('data-slots="')[1:]
    assert len(offered) == 4 and all(o.startswith("B001-S1-D1-") for o in offered)
    code = world.slot("B001-S1", 1, 20)
    p1.post(f"/me/slots/{code}/book", data={"choice": code, "request": req.code})
    booking = db.session.scalars(select(Booking)).one()
    assert booking.request_id == req.id
    assert login("p2").get(f"/me/slots?request={req.code}").status_code == 404
