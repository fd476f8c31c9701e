"""Browser tests: an operator publishes a week; the language switch changes the page's text.
(A producer's search and booking: ``test_producer``.)"""

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
