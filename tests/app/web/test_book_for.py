"""Booking for a walk-in by name: the field finds participants by code or part of the name;
one match books, several open a page to pick from, none says so; suggestions as JSON."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import Booking, Participant, ParticipantProfile
from app.services.booking.people import find_participants


def _bookings():
    return db.session.scalar(select(func.count()).select_from(Booking))


def test_find_participants_by_code_or_part_of_the_name(app, world):
    assert [p.code for p in find_participants("p003")] == ["P003"]
    assert [p.code for p in find_participants("P002 · 赣南脐橙合作社")] == ["P002"]
    assert [p.code for p in find_participants("脐橙")] == ["P002"]
    assert [p.code for p in find_participants("合作社")] == ["P001", "P002"]
    assert find_participants("   ") == [] and find_participants("不存在的公司") == []
    assert find_participants("%") == [] and find_participants("_") == []  # literal, not LIKE
    # Names starting with the words come before names that only contain them.
    db.session.add(Participant(code="P004", name="合作社联合体", kind="producer",
                               province="山东", region="east", lat=36.0, lon=118.0))  # fmt: skip
    db.session.commit()
    assert [p.code for p in find_participants("合作社")] == ["P004", "P001", "P002"]


def test_one_match_by_name_books_at_once(app, world, login):
    op1 = login("op1")
    slot = world.slot("B001-S2", 2, 14)
    done = op1.post(f"/operator/slots/{slot}/book-for", data={"participant": "义乌小商品"},
                    follow_redirects=True).get_data(as_text=True)  # fmt: skip
    assert "义乌小商品公司" in done
    booking = db.session.scalars(select(Booking)).one()
    assert booking.participant.code == "P003" and booking.origin == "operator"


def test_several_matches_offer_a_choice_and_nothing_is_booked_yet(app, world, login):
    op1 = login("op1")
    slot = world.slot("B001-S2", 2, 14)
    page = op1.post(f"/operator/slots/{slot}/book-for", data={"participant": "合作社"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-testid="book-for-choose"' in text
    assert "寿光蔬菜合作社" in text and "赣南脐橙合作社" in text and "义乌" not in text
    assert _bookings() == 0
    op1.post(f"/operator/slots/{slot}/book-for", data={"participant": "P002"})
    assert db.session.scalars(select(Booking)).one().participant.code == "P002"


def test_no_match_or_too_long_says_so_and_writes_nothing(app, world, login):
    op1 = login("op1")
    slot = world.slot("B001-S2", 2, 14)
    none = op1.post(f"/operator/slots/{slot}/book-for", data={"participant": "永仁县果业合作社"},
                    follow_redirects=True).get_data(as_text=True)  # fmt: skip
    assert "没有名称或编号与“永仁县果业合作社”相符的参与方" in none
    long = op1.post(f"/operator/slots/{slot}/book-for", data={"participant": "x" * 121},
                    follow_redirects=True).get_data(as_text=True)  # fmt: skip
    assert "最多输入 120 个字符" in long
    assert _bookings() == 0


def test_suggestions_json_for_staff_only(app, world, login):
    rows = login("op1").get("/operator/participants.json?q=合作社").get_json()
    assert [r["code"] for r in rows] == ["P001", "P002"] and rows[0]["name"] == "寿光蔬菜合作社"
    assert login("op1").get("/operator/participants.json").get_json() == []
    assert login("p1").get("/operator/participants.json?q=P00").status_code == 403


def test_find_participants_by_phone(app, world):
    p3 = world.participants["P003"]
    db.session.add(ParticipantProfile(participant_id=p3.id, phone="138-0013 8000"))
    db.session.commit()
    for typed in ("13800138000", "138 0013 8000", "+86 138 0013 8000", "0013 80"):
        assert [p.code for p in find_participants(typed)] == ["P003"], typed
    assert find_participants("139 0000 0000") == []
    assert find_participants("1380") == [find_participants("P003")[0]]
