"""The axe-core check (from npm, pinned in package.json, installed by ``make install``) over the
main pages in Chinese and English, desktop and phone: no serious or critical violation of WCAG
2.1 A/AA, colour contrast included. Without npm the check skips and says why."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.extensions import db
from tests.app.services.world import PASSWORD
from tests.app.web.report_world import make_run
from tests.browser.helpers import DESKTOP, PHONE, app_on

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
RUN_AXE = """async () => {
  const result = await axe.run(document, {
    runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
  });
  return result.violations.map(v => ({
    id: v.id, impact: v.impact,
    nodes: v.nodes.slice(0, 4).map(n => n.target.join(' ') + ' :: ' + n.failureSummary),
  }));
}"""


@pytest.fixture(scope="session")
def axe_source() -> Path:
    """axe.min.js from node_modules; skipped (with the reason) when npm is not installed."""
    if not AXE.is_file():
        if shutil.which("npm") is None:
            pytest.skip("npm is not installed, so axe-core is not: the accessibility check skips")
        pytest.fail("axe-core is missing from node_modules: run `make install` (it runs npm ci)")
    return AXE


def _serious(page, axe_source: Path) -> list[dict]:
    page.add_script_tag(path=str(axe_source))
    return [v for v in page.evaluate(RUN_AXE) if v["impact"] in ("serious", "critical")]


def _pages(world, run_id: int) -> dict[str, list[str]]:
    """Who looks at which main pages."""
    week = world.week_start.isoformat()
    return {
        "": ["/"],
        "p1": [
            "/me/slots",
            f"/me/slots?view=week&week={week}",
            f"/me/slots/{world.slot('B001-S2', 1, 14)}/book",
            "/me/requests/new",
        ],
        "op1": [f"/operator/bases/B001/week?week={week}", f"/runs/{run_id}"],
        "admin": ["/operator/"],
    }


@pytest.mark.parametrize(
    ("lang", "viewport"),
    [("zh", DESKTOP), ("en", DESKTOP), ("zh", PHONE), ("en", PHONE)],
    ids=["zh-desktop", "en-desktop", "zh-phone", "en-phone"],
)
def test_main_pages_have_no_serious_accessibility_violations(
    browser, live, tmp_path, axe_source, lang, viewport
):
    app = app_on(tmp_path)
    with app.app_context():
        run_id = make_run(live.world)
        db.engine.dispose()
    found: dict[str, list[dict]] = {}
    for username, paths in _pages(live.world, run_id).items():
        # The page's Content-Security-Policy forbids injected scripts; the test's own may pass.
        context = browser.new_context(viewport=viewport, locale="zh-CN", bypass_csp=True)
        context.set_default_timeout(15000)
        page = context.new_page()
        try:
            if username:
                page.goto(f"{live.url}/auth/login")
                page.fill("#username", username)
                page.fill("#password", PASSWORD)
                page.click("form button[type=submit]")
                page.wait_for_load_state()
            for path in paths:
                sep = "&" if "?" in path else "?"
                response = page.goto(f"{live.url}{path}{sep}lang={lang}")
                assert response is not None and response.status == 200, path
                assert page.url.split("?")[0] == f"{live.url}{path.split('?')[0]}", page.url
                assert page.locator("html").get_attribute("lang").startswith(lang[:2])
                bad = _serious(page, axe_source)
                if bad:
                    found[path] = bad
        finally:
            context.close()
    assert not found, "\n".join(
        f"{path}: {v['id']} ({v['impact']}): {node}"
        for path, items in found.items()
        for v in items
        for node in v["nodes"]
    )
