"""Browser test: the run report filtered by base, in Chinese and English, desktop and phone."""

from __future__ import annotations

import pytest

from app.extensions import db
from tests.app.web.report_world import make_run
from tests.browser.helpers import DESKTOP, PHONE, app_on, signed_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FILTER = {"zh": ("筛选", "60 条中的 5 条"), "en": ("Filter", "5 of 60")}


@pytest.mark.parametrize(
    ("lang", "viewport"),
    [("zh", DESKTOP), ("en", PHONE), ("en", DESKTOP), ("zh", PHONE)],
    ids=["zh-desktop", "en-phone", "en-desktop", "zh-phone"],
)
def test_admin_filters_the_run_report_by_base(browser, live, tmp_path, lang, viewport):
    app = app_on(tmp_path)
    with app.app_context():
        run_id = make_run(live.world)
        db.engine.dispose()
    button, count = FILTER[lang]
    context, page = signed_in(browser, viewport, live.url, "admin", lang)
    try:
        page.goto(f"{live.url}/runs/{run_id}")
        assert page.get_by_test_id("change-row").count() == 50
        assert page.get_by_test_id("kpi-table").is_visible()
        page.locator("#fBase").select_option("B002")
        page.get_by_role("button", name=button, exact=True).click()
        page.wait_for_load_state()
        assert "base=B002" in page.url
        assert page.get_by_test_id("change-row").count() == 5
        assert count in page.get_by_test_id("changes-count").inner_text()
        # The summary stays on top, whatever the filter.
        assert page.get_by_test_id("kpi-table").is_visible()
        summary_top = page.get_by_test_id("kpi-table").bounding_box()["y"]
        assert summary_top < page.get_by_test_id("changes-table").bounding_box()["y"]
        # Headers never wrap one character per line: each stays on one line.
        for header in page.locator("[data-testid=changes-table] thead th").all():
            box = header.bounding_box()
            assert box["height"] < 40, header.inner_text()
        # The page itself never scrolls sideways on a phone (only the table does).
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"] + 1
    finally:
        context.close()
