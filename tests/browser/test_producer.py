"""Browser: a producer searches, books through the summary and sees the session (zh and en,
desktop and phone); a producer files a request, a real queue worker proposes a session by
instant placement, and the producer accepts it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from werkzeug.serving import make_server

from app import create_app
from app.extensions import db
from config import TestingConfig
from tests.app.jobs.conftest import Workers, queue_name, redis_url  # noqa: F401  (fixtures)
from tests.app.services.world import build_world
from tests.browser.conftest import Live
from tests.browser.helpers import DESKTOP, PHONE, signed_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WORDS = {
    "zh_CN": {"filters": "筛选", "kitchen": "厨房", "search": "搜索", "book": "预订…",
              "confirm": "确认预订", "booked": "预订成功", "confirmed": "已确认", "km": "公里",
              "free": "个直播间空闲", "week": "周", "unpublished": "尚未发布时段"},
    "en": {"filters": "Filters", "kitchen": "Kitchen", "search": "Search", "book": "Book…",
           "confirm": "Confirm booking", "booked": "Booked!", "confirmed": "Confirmed", "km": "km",
           "free": "free at", "week": "Week", "unpublished": "No timetable published yet"},
}  # fmt: skip


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_producer_searches_books_through_the_summary_and_sees_it(browser, live, lang, viewport):
    words = WORDS[lang]
    context, page = signed_in(browser, viewport, live.url, "p2", lang)  # the Ganzhou co-op
    try:
        page.goto(f"{live.url}/me/slots")
        if viewport is PHONE:
            page.get_by_role("button", name=words["filters"]).click()
            page.locator("#filters.collapse.show").wait_for()
        page.get_by_label(words["kitchen"]).check()
        page.get_by_role("button", name=words["search"]).click()
        page.wait_for_load_state()
        assert "features=kitchen" in page.url
        first = page.locator("[data-slots]").first
        assert words["kitchen"] in first.inner_text() and words["free"] in first.inner_text()
        first.get_by_role("link", name=words["book"]).click()
        page.wait_for_load_state()
        summary = page.get_by_test_id("book-summary").inner_text()
        assert words["kitchen"] in summary and words["km"] in summary
        where = page.get_by_test_id("summary-where").inner_text()
        chosen = page.locator("input[name=choice]:checked").get_attribute("value")
        page.get_by_role("button", name=words["confirm"]).click()
        page.wait_for_load_state()
        assert "/me/sessions" in page.url
        assert words["booked"] in page.locator(".alert-success").inner_text()
        upcoming = page.get_by_test_id("upcoming").inner_text()
        assert words["confirmed"] in upcoming and where.split(" · ")[0] in upcoming
        page.goto(f"{live.url}/me/slots?features=kitchen")
        assert f"{chosen} " not in page.get_by_test_id("offers").inner_html()
        page.get_by_test_id("week-view").click()
        page.wait_for_load_state()
        grid = page.get_by_test_id("week-grid").inner_text()
        assert grid.count(words["unpublished"]) >= 4  # Thursday to Sunday of the seeded week
    finally:
        context.close()


@pytest.fixture
def live_queue(tmp_path, redis_url, queue_name) -> Iterator[tuple[Live, Workers]]:  # noqa: F811
    """The live server with instant placement on a Redis queue, and one real worker."""

    class QueueConfig(TestingConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'browser.sqlite'}"
        WTF_CSRF_ENABLED = True
        QUEUE_URL = redis_url
        QUEUE_NAME = queue_name
        INSTANT_PLACEMENT = True
        RUNS_DIR = str(tmp_path / "runs")

    app = create_app(QueueConfig)
    with app.app_context():
        db.create_all()
        world = build_world()
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    pool = Workers(app, tmp_path)
    pool.start(INSTANT_PLACEMENT="1", PLACEMENT_TIME_LIMIT_S="1")
    try:
        yield Live(url=f"http://127.0.0.1:{server.server_port}", world=world, app=app), pool
    finally:
        pool.stop_all()
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.engine.dispose()


@pytest.mark.parametrize(
    ("lang", "viewport"), [("zh_CN", DESKTOP), ("en", PHONE)], ids=["zh-desktop", "en-phone"]
)
def test_request_then_the_worker_proposes_then_the_producer_accepts(
    browser, live_queue, lang, viewport
):
    live, pool = live_queue
    start = live.world.week_start
    context, page = signed_in(browser, viewport, live.url, "p1", lang)
    try:
        page.goto(f"{live.url}/me/requests/new")
        page.fill("#sessions", "1")
        page.fill("#window_start", start.isoformat())
        page.fill("#window_end", (start + timedelta(days=2)).isoformat())
        page.get_by_label("厨房" if lang == "zh_CN" else "Kitchen").check()
        page.get_by_role("button", name="提交需求" if lang == "zh_CN" else "File request").click()
        page.wait_for_load_state()
        assert "/me/requests/R" in page.url
        detail = page.url
        # The worker places it; the page polls its live part until the proposal shows.
        proposal = page.locator("[data-testid^=session-K]").first
        proposal.wait_for(timeout=60000)
        tentative = "待确认" if lang == "zh_CN" else "Tentative"
        assert tentative in proposal.inner_text(), pool.log(pool.procs[0])
        page.reload()
        state = page.get_by_test_id("request-state").inner_text()
        assert state == ("有待你确认的场次" if lang == "zh_CN" else "Sessions to accept")
        code = proposal.get_attribute("data-testid").removeprefix("session-")
        page.get_by_role(
            "link",
            name="在“我的场次”中接受或拒绝"
            if lang == "zh_CN"
            else "Accept or decline under My sessions",
        ).click()
        page.wait_for_load_state()
        page.locator(f"form[action$='/sessions/{code}/accept'] button").click()
        page.wait_for_load_state()
        assert code in page.locator(".alert-success").inner_text()
        page.goto(detail)
        assert page.get_by_test_id("request-state").inner_text() == (
            "已安排" if lang == "zh_CN" else "Placed"
        )
    finally:
        context.close()
