"""Browser tests of the operator's bulk work: tick many tentative bookings and confirm them at
once; block a whole day after seeing what it blocks. Chinese and English, desktop and phone."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app.extensions import db
from app.models import Booking, Slot
from app.services.booking import service as booking_service
from tests.browser.helpers import DESKTOP, PHONE, app_on, signed_in, user

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TEXT = {
    "zh": {"confirm": "确认", "apply": "应用到所选", "confirmed": "已确认 2 个预订",
           "state": "已确认", "block": "封锁一天或一个时间段", "check": "查看将封锁哪些时段",
           "will": "将封锁 7 个空闲时段", "go": "封锁 7 个时段", "done": "已封锁 7 个时段"},
    "en": {"confirm": "Confirm", "apply": "Apply to selected", "confirmed": "2 bookings confirmed",
           "state": "Confirmed", "block": "Block a day or a time range",
           "check": "Check what this blocks", "will": "7 open slots will be blocked.",
           "go": "Block 7 slots", "done": "7 slots blocked."},
}  # fmt: skip


@pytest.mark.parametrize(
    ("lang", "viewport"), [("zh", DESKTOP), ("en", PHONE)], ids=["zh-desktop", "en-phone"]
)
def test_operator_confirms_many_tentative_bookings_at_once(browser, live, tmp_path, lang, viewport):
    app = app_on(tmp_path)
    w = live.world
    with app.app_context():
        codes = []
        for name, slot in (("p1", w.slot("B001-S1", 0, 10)), ("p2", w.slot("B001-S1", 1, 12)),
                           ("p3", w.slot("B001-S2", 2, 14))):  # fmt: skip
            booking = booking_service.book_slots(user(name), [slot])  # fmt: skip
            booking.status = "tentative"
            codes.append(booking.code)
        db.session.commit()
    t = TEXT[lang]
    context, page = signed_in(browser, viewport, live.url, "op1", lang)
    try:
        page.goto(f"{live.url}/operator/bases/B001/bookings?week={w.week_start}&show=tentative")
        page.get_by_test_id(f"pick-{codes[0]}").check()
        page.get_by_test_id(f"pick-{codes[2]}").check()
        page.locator("#bulkAction").select_option(label=t["confirm"])
        page.get_by_role("button", name=t["apply"]).click()
        page.wait_for_load_state()
        assert t["confirmed"] in page.locator(".alert-success").inner_text()
        # Only the one left unticked is still waiting to be confirmed.
        assert page.locator("[data-testid^=pick-]").count() == 1
        assert page.get_by_test_id(f"pick-{codes[1]}").count() == 1
        page.goto(f"{live.url}/operator/bases/B001/bookings?week={w.week_start}")
        assert t["state"] in page.locator(f"#{codes[0]}").inner_text()
    finally:
        context.close()
    with app.app_context():
        got = {b.code: b.status for b in db.session.query(Booking)}
        assert got == {codes[0]: "confirmed", codes[1]: "tentative", codes[2]: "confirmed"}
        db.engine.dispose()


@pytest.mark.parametrize(
    ("lang", "viewport"), [("en", DESKTOP), ("zh", PHONE)], ids=["en-desktop", "zh-phone"]
)
def test_operator_blocks_a_whole_day(browser, live, tmp_path, lang, viewport):
    app = app_on(tmp_path)
    w = live.world
    day = w.week_start + timedelta(days=1)
    with app.app_context():
        booking_service.book_slots(user("p1"), [w.slot("B001-S2", 1, 20)])
    t = TEXT[lang]
    context, page = signed_in(browser, viewport, live.url, "op1", lang)
    try:
        page.goto(f"{live.url}/operator/bases/B001/week?week={w.week_start}")
        page.get_by_test_id("block-range-link").click()
        page.wait_for_load_state()
        page.fill("#first", day.isoformat())
        page.fill("#reason", "直播设备检修" if lang == "zh" else "lighting maintenance")
        page.get_by_role("button", name=t["check"]).click()
        page.wait_for_load_state()
        assert t["will"] in page.get_by_test_id("block-count").inner_text()
        assert w.slot("B001-S2", 1, 20) not in page.get_by_test_id("block-preview").inner_text()
        page.get_by_role("button", name=t["go"]).click()
        page.wait_for_load_state()
        assert re.search(r"/operator/bases/B001/week", page.url)
        assert t["done"] in page.locator(".alert-success").inner_text()
    finally:
        context.close()
    with app.app_context():
        blocked = {s.code for s in db.session.query(Slot).filter(Slot.state == "blocked")}
        expected = {w.slot(st, 1, h) for st in ("B001-S1", "B001-S2") for h in (10, 12, 14, 20)}
        expected -= {w.slot("B001-S2", 1, 20)}
        assert blocked == expected | {w.slot("B001-S2", 0, 10)}
        db.engine.dispose()
