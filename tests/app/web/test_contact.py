"""Contact phone and WeChat on the profile: checked when saved, seen only by the operators of
bases where the participant has a session (and admins)."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import ParticipantProfile
from app.services.accounts.contact import (
    Contact,
    ContactInvalid,
    check_wechat,
    normalise_phone,
    visible_contacts,
)
from app.services.booking import lifecycle
from app.services.booking import service as booking_service

PLACE = {"name": "寿光蔬菜合作社", "kind": "producer", "province": "山东省", "city": "潍坊市",
         "county": "寿光市"}  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("+86 138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("0539 8123456", "0539-8123456"),
        ("010-12345678", "010-12345678"),
        ("", None),
    ],
)
def test_phone_numbers_are_stored_in_one_form(raw, stored):
    assert normalise_phone(raw) == stored


@pytest.mark.parametrize("raw", ["12345", "23812345678", "电话", "1381234567890", "0539-12"])
def test_what_is_not_a_phone_number_is_refused(raw):
    with pytest.raises(ContactInvalid) as caught:
        normalise_phone(raw)
    assert caught.value.code == "phone"


def test_wechat_ids_follow_wechat_rules():
    assert check_wechat(" shouguang_veg ") == "shouguang_veg"
    for bad in ("1abcdef", "abc", "a" * 21, "寿光蔬菜"):
        with pytest.raises(ContactInvalid):
            check_wechat(bad)


def test_the_profile_saves_a_contact_and_says_what_is_wrong(app, world, login):
    p1 = login("p1")
    bad = p1.post("/me/profile?lang=en", data={**PLACE, "phone": "12345", "wechat": "veg_coop1"})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 200 and "This is not a phone number" in text
    assert db.session.get(ParticipantProfile, world.participants["P001"].id) is None  # not saved
    zh = p1.post("/me/profile?lang=zh_CN", data={**PLACE, "phone": "13812345678", "wechat": "1x"})
    assert "这不是微信号" in zh.get_data(as_text=True)
    ok = p1.post("/me/profile", data={**PLACE, "phone": "+86 138 1234 5678", "wechat": "veg_coop1"})
    assert ok.status_code == 302
    profile = db.session.get(ParticipantProfile, world.participants["P001"].id)
    assert (profile.phone, profile.wechat) == ("13812345678", "veg_coop1")
    assert 'value="13812345678"' in p1.get("/me/profile").get_data(as_text=True)


def test_only_the_operators_of_my_bases_see_my_contact(app, world, login):
    p1 = world.participants["P001"]
    db.session.add(
        ParticipantProfile(
            participant_id=p1.id, categories=[], phone="13812345678", contact="微信同号"
        )
    )
    db.session.commit()
    users = world.users
    assert visible_contacts(users["op1"], [p1.id]) == {}  # no session anywhere yet
    booking = booking_service.book_slots(users["p1"], [world.slot("B001-S1", 1, 10)])
    contact = Contact("13812345678", None, "微信同号")  # the import's note too
    assert visible_contacts(users["op1"], [p1.id]) == {p1.id: contact}  # a session at B001
    assert visible_contacts(users["op2"], [p1.id]) == {}  # Ganzhou: none there
    assert visible_contacts(users["admin"], [p1.id]) == {p1.id: contact}
    assert visible_contacts(users["p2"], [p1.id]) == {}
    week = world.week_start.isoformat()
    page = login("op1").get(f"/operator/bases/B001/bookings?week={week}").get_data(as_text=True)
    assert 'data-testid="contact-P001"' in page and "13812345678" in page
    lifecycle.cancel(users["p1"], booking)
    assert visible_contacts(users["op1"], [p1.id]) == {}  # the session is gone
