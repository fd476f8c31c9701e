"""Browser: a producer records a harvest lot and files a request that sells it; an operator runs
a what-if and reads the comparison; both in Chinese and English."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Booking, BookingRequest, BookingSlot, HarvestLot, Slot
from tests.browser.test_flows import DESKTOP, _login, _page

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_producer_records_a_lot_and_sells_it_fresh(browser, live):
    live.app.config["INSTANT_PLACEMENT"] = True  # the test queue is eager: placed as it is filed
    context, page = _page(browser, DESKTOP)
    try:
        _login(page, live.url, "p1")
        page.goto(f"{live.url}/me/lots")
        start = live.world.week_start
        page.fill("#product", "寿光黄瓜")
        page.fill("#quantity", "800")
        ready = datetime.combine(start + timedelta(days=1), time(6))
        page.fill("#ready_at", ready.strftime("%Y-%m-%dT%H:%M"))
        page.fill("#best_before", (ready + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"))
        page.get_by_role("button", name="登记批次").click()
        page.wait_for_load_state()
        assert "批次 L000001 已登记" in page.locator(".alert-success").inner_text()
        assert "新鲜期至" in page.get_by_test_id("lot-L000001").inner_text()
        page.goto(f"{live.url}/me/requests/new")
        page.fill("#window_start", start.isoformat())
        page.fill("#window_end", (start + timedelta(days=6)).isoformat())
        page.select_option("#harvest_lot", "L000001")
        page.get_by_role("button", name="提交需求").click()
        page.wait_for_load_state()
        assert "新鲜期至" in page.get_by_test_id("request-lot").inner_text()
        # The proposal placed for the lot carries its freshness deadline, inside the lot's days.
        page.goto(f"{live.url}/me/sessions")
        fresh = page.locator("[data-testid^='fresh-']")
        assert fresh.count() >= 1
        assert "L000001" in fresh.first.inner_text() and "新鲜期至" in fresh.first.inner_text()
        with live.app.app_context():
            lot = db.session.scalar(select(HarvestLot).where(HarvestLot.code == "L000001"))
            starts = db.session.scalars(
                select(Slot.start)
                .join(BookingSlot, BookingSlot.slot_id == Slot.id)
                .join(Booking, Booking.id == BookingSlot.booking_id)
                .join(BookingRequest, BookingRequest.id == Booking.request_id)
                .where(BookingRequest.harvest_lot_id == lot.id, Booking.status == "tentative")
            ).all()
            assert starts and all(lot.ready_at <= t < lot.best_before for t in starts)
            db.session.remove()
        page.go_back()  # the request page again
        page.wait_for_load_state()
        page.locator("#langMenu").click()
        page.get_by_role("link", name="English").click()
        page.wait_for_load_state()
        assert "fresh until" in page.get_by_test_id("request-lot").inner_text()
    finally:
        context.close()


def test_operator_runs_a_what_if_and_reads_the_comparison(browser, live):
    context, page = _page(browser, DESKTOP)
    page.set_default_timeout(60000)  # two solves run inline (the test queue is eager)
    try:
        _login(page, live.url, "op1")
        page.goto(f"{live.url}/runs/what-if")
        page.fill("#wiWeek", live.world.week_start.isoformat())
        page.fill("#wiAdd", "B001:kitchen,outdoor")
        page.get_by_role("button", name="运行推演").click()
        page.wait_for_load_state()
        result = page.get_by_test_id("what-if-result").inner_text()
        assert "现状" in result and "weighted_served" in result
        page.locator("#langMenu").click()
        page.get_by_role("link", name="English").click()
        page.wait_for_load_state()
        assert "As it is" in page.get_by_test_id("what-if-result").inner_text()
    finally:
        context.close()
