"""The base page: edit the base's own details (checked, operators of that base only); retire a
studio after a page that says what happens (booked sessions kept)."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Hub, Studio
from app.services.booking import service as booking_service

DETAILS = {"name": "临沂新基地", "city": "临沂", "province": "山东省", "region": "east",
           "lat": "35.1", "lon": "118.35"}  # fmt: skip


def test_operator_edits_the_base_details(app, world, login):
    op1 = login("op1")
    page = op1.get("/operator/bases/B001").get_data(as_text=True)
    assert 'data-testid="base-edit"' in page
    bad = op1.post("/operator/bases/B001/details", data=dict(DETAILS, lat="北纬35"),
                   follow_redirects=True).get_data(as_text=True)  # fmt: skip
    assert "纬度和经度必须是数字" in bad
    far = op1.post("/operator/bases/B001/details", data=dict(DETAILS, lat="95"),
                   follow_redirects=True).get_data(as_text=True)  # fmt: skip
    assert "纬度必须在 -90 到 90 之间" in far
    assert db.session.scalar(select(Hub.name).where(Hub.code == "B001")) != "临沂新基地"
    done = op1.post("/operator/bases/B001/details", data=DETAILS, follow_redirects=True)
    assert "基地信息已保存" in done.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(select(Hub.name).where(Hub.code == "B001")) == "临沂新基地"
    assert login("op2").post("/operator/bases/B001/details", data=DETAILS).status_code == 404


def test_retire_a_studio_after_the_confirmation_page(app, world, login):
    booking = booking_service.book_slots(world.users["p1"], [world.slot("B001-S1", 1, 14)])
    op1 = login("op1")
    ask = op1.get("/operator/bases/B001/studios/B001-S1/retire").get_data(as_text=True)
    assert 'data-testid="retire-confirm"' in ask and booking.code in ask
    assert db.session.scalar(select(Studio.retired_at).where(Studio.code == "B001-S1")) is None
    done = op1.post("/operator/bases/B001/studios/B001-S1/retire", data={"confirm": "yes"},
                    follow_redirects=True).get_data(as_text=True)  # fmt: skip
    assert "直播间 B001-S1 已停用" in done and "保留 1 个已预订场次" in done
    assert 'data-testid="retired-B001-S1"' in done
    last = op1.post("/operator/bases/B001/studios/B001-S2/retire", data={"confirm": "yes"},
                    follow_redirects=True).get_data(as_text=True)  # fmt: skip
    assert "基地至少要保留一个直播间" in last
    assert op1.get("/operator/bases/B001/studios/B002-S1/retire").status_code == 404
