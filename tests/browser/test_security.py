"""Browser tests of the security headers and sign-out: the main pages of every role run under the
Content-Security-Policy without a single violation (their scripts, charts and pickers still
work), and "log out everywhere" signs out another browser that chose "keep me signed in"."""

from __future__ import annotations

import pytest

from tests.app.services.world import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DESKTOP = {"width": 1366, "height": 900}

#: Records every violation the page reports (Playwright's init script is not subject to the CSP).
WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__cspViolations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline'));
});
"""


class Watched:
    """A browser context whose pages report CSP violations and console errors."""

    def __init__(self, browser):
        self.context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
        self.context.set_default_timeout(15000)
        self.context.add_init_script(WATCH_CSP)
        self.page = self.context.new_page()
        self.console: list[str] = []
        self.page.on(
            "console",
            lambda m: self.console.append(m.text) if m.type in ("error", "warning") else None,
        )

    def visit(self, url: str) -> None:
        self.page.goto(url)
        self.page.wait_for_load_state()
        self.check(url)

    def check(self, where: str) -> None:
        violations = self.page.evaluate("window.__cspViolations")
        policy_errors = [m for m in self.console if "Content Security Policy" in m]
        assert violations == [] and policy_errors == [], (where, violations, policy_errors)

    def login(self, base_url: str, username: str, *, remember: bool = False) -> None:
        self.page.goto(f"{base_url}/auth/login")
        self.page.fill("#username", username)
        self.page.fill("#password", PASSWORD)
        if remember:
            self.page.check("#remember")
        self.page.click("form button[type=submit]")
        self.page.wait_for_load_state()
        self.check("login")


def test_main_pages_run_under_the_policy_without_a_violation(browser, live):
    producer = Watched(browser)
    operator = Watched(browser)
    try:
        producer.login(live.url, "p1")
        for path in ("/me/slots", "/me/requests", "/me/requests/new", "/notifications"):
            producer.visit(live.url + path)
        producer.visit(live.url + "/me/profile")  # the province → city → county picker (app.js)
        producer.page.select_option("#province", "山东省")
        assert producer.page.locator("#city option").count() > 1
        producer.visit(live.url + "/me/slots")
        producer.page.locator("[data-testid^=offer-]").first.get_by_role(
            "link", name="预订…"
        ).click()
        producer.page.wait_for_load_state()
        producer.check("book summary")
        producer.page.get_by_role("button", name="确认预订").click()
        producer.page.wait_for_load_state()
        assert "预订成功" in producer.page.locator(".alert-success").inner_text()
        producer.visit(live.url + "/me/sessions")
        producer.visit(live.url + "/auth/account")

        operator.login(live.url, "admin")  # admins see both bases, so the base switcher too
        week = live.world.week_start.isoformat()
        for path in (
            "/operator/",
            f"/operator/bases/B001/week?week={week}",
            f"/operator/bases/B001/bookings?week={week}",
            "/operator/bases/B001/template",
            "/operator/bases/B001",
            "/operator/bases/B001/calendar",
            "/runs/",
            "/api/v1/docs",
        ):
            operator.visit(live.url + path)
        operator.visit(f"{live.url}/operator/bases/B001/dashboard?week={week}")
        # The server-drawn bars get their length from classes: the booked studio's bar shows.
        widths = operator.page.eval_on_selector_all(
            ".cl-hbar-fill", "els => els.map(e => e.getBoundingClientRect().width)"
        )
        tracks = operator.page.eval_on_selector_all(
            ".cl-hbar-track", "els => els.map(e => e.getBoundingClientRect().width)"
        )
        assert widths and max(w / t for w, t in zip(widths, tracks, strict=True)) > 0.05
        # A modal filled by app.js (block a slot) opens and closes under the policy.
        operator.visit(f"{live.url}/operator/bases/B001/week?week={week}")
        operator.page.locator("[data-fill-action]").first.click()
        operator.page.locator(".modal.show").wait_for()
        operator.check("modal")
        operator.page.keyboard.press("Escape")
        # The base switcher (app.js, no inline handler) opens the other base's page.
        operator.page.select_option("#hubSwitch", index=1)
        operator.page.wait_for_url("**/bases/B002/**")
        operator.check("base switcher")
    finally:
        producer.context.close()
        operator.context.close()


def test_log_out_everywhere_signs_out_a_remembered_browser(browser, live):
    laptop, phone = Watched(browser), Watched(browser)
    try:
        laptop.login(live.url, "p3", remember=True)
        phone.login(live.url, "p3", remember=True)
        phone.visit(live.url + "/me/sessions")
        assert "/me/sessions" in phone.page.url
        laptop.visit(live.url + "/auth/account")
        laptop.page.on("dialog", lambda dialog: dialog.accept())
        laptop.page.get_by_test_id("logout-everywhere").click()
        laptop.page.wait_for_load_state()
        assert "/auth/login" in laptop.page.url
        phone.visit(live.url + "/me/sessions")
        assert "/auth/login" in phone.page.url, "the other browser is still signed in"
    finally:
        laptop.context.close()
        phone.context.close()
