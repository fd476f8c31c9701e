"""Browser tests: an operator publishes a week; a producer books a kitchen slot and finds it
under "my sessions" (desktop and phone); the language switch changes the page's text."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.app.services.world import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


def _page(browser, viewport):
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    context.set_default_timeout(15000)
    return context, context.new_page()


def _login(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/auth/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_load_state()


def test_operator_generates_and_publishes_a_week(browser, live):
    context, page = _page(browser, DESKTOP)
    try:
        _login(page, live.url, "op1")
        week = (live.world.week_start + timedelta(days=14)).isoformat()
        page.goto(f"{live.url}/operator/bases/B001/week?week={week}")
        assert page.get_by_test_id("week-state").inner_text() == "未生成"
        page.get_by_role("button", name="按模板生成时段").click()
        page.wait_for_load_state()
        assert page.get_by_test_id("week-state").inner_text() == "草稿"
        assert page.locator(".cl-slot-open").count() >= 18  # 6 slots × 3 days, first studio
        page.on("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="发布本周").click()
        page.wait_for_load_state()
        assert page.get_by_test_id("week-state").inner_text() == "已发布"
        assert "本周已发布" in page.locator(".alert-success").inner_text()
    finally:
        context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_producer_books_a_kitchen_slot_and_sees_it_in_my_sessions(browser, live, viewport):
    context, page = _page(browser, viewport)
    try:
        _login(page, live.url, "p2")  # the Ganzhou orange co-op
        assert "/me/slots" in page.url
        if viewport is PHONE:
            page.get_by_role("button", name="筛选").click()
            page.locator("#filters.collapse.show").wait_for()  # opened, not still sliding open
        page.get_by_label("厨房").check()
        page.get_by_role("button", name="搜索").click()
        page.wait_for_load_state()
        assert "features=kitchen" in page.url
        first = page.locator("[data-slots]").first
        assert "厨房" in first.inner_text()
        first.get_by_role("link", name="预订…").click()
        page.wait_for_load_state()
        summary = page.get_by_test_id("book-summary")
        assert "厨房" in summary.inner_text() and "公里" in summary.inner_text()
        slot_code = page.locator("input[name=choice]:checked").get_attribute("value")
        page.get_by_role("button", name="确认预订").click()
        page.wait_for_load_state()
        assert "/me/sessions" in page.url
        assert "预订成功" in page.locator(".alert-success").inner_text()
        upcoming = page.get_by_test_id("upcoming").inner_text()
        assert "已确认" in upcoming
        page.goto(f"{live.url}/me/slots?features=kitchen")
        assert f"{slot_code} " not in page.locator("[data-testid=offers]").inner_html()
    finally:
        context.close()


def test_language_switch_changes_the_page_text(browser, live):
    context, page = _page(browser, DESKTOP)
    try:
        _login(page, live.url, "p1")
        assert page.locator("h1").first.inner_text() == "查找空闲时段"
        page.locator("#langMenu").click()
        page.get_by_role("link", name="English").click()
        page.wait_for_load_state()
        assert page.locator("h1").first.inner_text() == "Find a free slot"
        assert page.locator("html").get_attribute("lang") == "en"
        page.get_by_role("link", name="My sessions").click()
        page.wait_for_load_state()
        assert page.locator("h1").first.inner_text() == "My sessions"
        page.locator("#langMenu").click()
        page.get_by_role("link", name="中文").click()
        page.wait_for_load_state()
        assert page.locator("h1").first.inner_text() == "我的场次"
    finally:
        context.close()
