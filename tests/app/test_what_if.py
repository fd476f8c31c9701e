"""flask what-if: the week and a changed copy solved side by side; nothing is written."""

from __future__ import annotations

from tests.app.cli_helpers import WEEK, one_line, run, seed, snapshot


def test_what_if_prints_the_comparison_and_writes_nothing(app):
    seed(app, requests=60, bases=3)
    with app.app_context():
        before = snapshot()
    result = run(
        app,
        "what-if",
        "--week",
        WEEK.isoformat(),
        "--add-studio",
        "B001:kitchen,cold_chain",
        "--close-base",
        "B002",
        "--add-demand",
        "B003:5",
        "--time-limit",
        "2",
    )
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "add studio B001:cold_chain,kitchen; close B002; add 5 requests near B003" in out
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()[2:10]}
    assert set(rows) >= {"sessions_served", "weighted_served", "min_region_ratio"}
    assert "would gain sessions" in out and "would lose sessions" in out
    with app.app_context():
        assert snapshot() == before


def test_what_if_refuses_bad_changes_in_one_line(app):
    seed(app, requests=20, bases=2)
    for args, expect in (
        (["--add-studio", "B001:jacuzzi"], "features"),
        (["--close-base", "B999"], "unknown base B999"),
        (["--block-day", "B001:someday"], "BASE:YYYY-MM-DD"),
        (["--add-demand", "B001:many"], "BASE:NUMBER"),
        ([], "at least one change"),
    ):
        result = run(app, "what-if", "--week", WEEK.isoformat(), "--time-limit", "1", *args)
        assert result.exit_code != 0 and one_line(result.stderr), result.stderr
        assert expect in result.stderr
