"""The run report: the summary on top covers the whole scope, the changed sessions come a page
at a time and filter by base, region and kind of change (bad values say why), an operator sees
only their bases; solver words and a working run's progress are in the reader's language."""

from __future__ import annotations

import re

import pytest

from app.services.runs.report import progress_view
from tests.app.web.report_world import make_run


def _rows(html: str) -> int:
    return html.count('data-testid="change-row"')


def test_the_session_list_is_paged_and_the_summary_stays(app, world, login):
    run_id = make_run(world)
    admin = login("admin")
    first = admin.get(f"/runs/{run_id}").get_data(as_text=True)
    assert _rows(first) == 50 and 'rel="next"' in first
    assert 'data-testid="kpi-table"' in first and 'data-testid="region-table"' in first
    second = admin.get(f"/runs/{run_id}?page=2").get_data(as_text=True)
    assert _rows(second) == 10 and 'rel="prev"' in second
    # Moves and drops come first.
    assert re.search(r'change-row">\s*<td>调整', first)


@pytest.mark.parametrize(
    ("query", "rows"),
    [("base=B002", 5), ("base=b001", 58), ("region=central", 5), ("change=moved", 3),
     ("change=dropped&region=central", 2), ("base=B001&change=dropped", 0)],
)  # fmt: skip
def test_filters_narrow_the_sessions_not_the_summary(app, world, login, query, rows):
    run_id = make_run(world)
    page = login("admin").get(f"/runs/{run_id}?{query}").get_data(as_text=True)
    assert _rows(page) == min(rows, 50)
    assert f"60 条中的 {rows} 条" in page
    region = page.split('data-testid="region-table"', 1)[1].split("</table>", 1)[0]
    assert "华东" in region and "华中" in region  # the summary still covers every region
    if rows == 0:
        assert "没有符合筛选条件的场次" in page


@pytest.mark.parametrize(
    ("query", "says"),
    [("change=deleted", "deleted"), ("region=mars", "mars"), ("base=B999", "B999"),
     ("page=0", "1")],
)  # fmt: skip
def test_bad_filters_answer_400_saying_why(app, world, login, query, says):
    run_id = make_run(world)
    response = login("admin").get(f"/runs/{run_id}?{query}")
    assert response.status_code == 400 and says in response.get_data(as_text=True)


def test_an_operator_sees_their_bases_only_and_cannot_filter_others(app, world, login):
    run_id = make_run(world)
    op2 = login("op2")  # runs Ganzhou (B002)
    page = op2.get(f"/runs/{run_id}").get_data(as_text=True)
    assert _rows(page) == 5 and 'data-testid="report-scope"' in page
    assert op2.get(f"/runs/{run_id}?base=B001").status_code == 400


def test_solver_words_are_translated(app, world, login):
    run_id = make_run(world)
    admin = login("admin")
    zh = admin.get(f"/runs/{run_id}").get_data(as_text=True)
    assert "已找到良好方案" in zh and "FEASIBLE" not in zh
    en = admin.get(f"/runs/{run_id}?lang=en").get_data(as_text=True)
    assert "Good plan found" in en and "FEASIBLE" not in en


def test_a_working_run_shows_share_and_time_left_and_no_empty_sections(app, world, login):
    run_id = make_run(
        world, state="running", progress={"phase": "solving", "elapsed_s": 15, "limit_s": 60,
                                          "objective": 4242, "bound": 9999}
    )  # fmt: skip
    admin = login("admin")
    page = admin.get(f"/runs/{run_id}").get_data(as_text=True)
    progress = page.split('data-testid="run-progress-text"', 1)[1].split("</div>", 1)[0]
    assert re.search(r'data-field="percent">25</span>%', progress)
    assert re.search(r'data-field="left">45</span>', progress)
    assert "4242" not in page and "9999" not in page
    assert 'data-testid="kpi-table"' not in page and 'data-testid="changes-table"' not in page
    body = admin.get(f"/runs/{run_id}/progress.json").get_json()
    assert body["status"] == "running"
    assert body["progress"] == {"phase": "solving", "share": 0.25, "percent": 25, "left_s": 45,
                                "elapsed_s": 15}  # fmt: skip


def test_progress_view_phases(app, world):
    class Run:
        state = "running"
        progress = {"phase": "checking", "elapsed_s": 70}

    assert progress_view(Run(), 60)["percent"] == 100
    Run.progress = {"phase": "solving", "elapsed_s": 200}
    assert progress_view(Run(), 60) == {"phase": "solving", "share": 0.99, "percent": 99,
                                        "left_s": 0, "elapsed_s": 200}  # fmt: skip
    Run.state, Run.progress = "queued", {}
    assert progress_view(Run(), 60)["phase"] == "queued"
