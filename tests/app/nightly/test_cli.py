"""``flask reoptimize`` and ``flask runs``: one line per outcome, JSON history, clean refusals."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from app.extensions import db
from app.models import OptimizationRun
from tests.app.nightly.conftest import WEEK, fault_command


def run_count() -> int:
    return db.session.scalar(select(func.count(OptimizationRun.id)))


def test_reoptimize_then_runs_json_lists_every_run_oldest_first(sqlite_nightly_app):
    cli = sqlite_nightly_app.test_cli_runner()
    done = cli.invoke(args=["reoptimize", "--week", WEEK.isoformat(), "--time-limit", "3"])
    assert done.exit_code == 0, done.output
    assert done.stdout.startswith("run #1 applied:")
    sqlite_nightly_app.config["SOLVER_COMMAND"] = fault_command("crash")
    failed = cli.invoke(args=["reoptimize", "--week", WEEK.isoformat(), "--time-limit", "2"])
    assert failed.exit_code == 1 and "run #2 failed" in failed.stderr
    assert "Traceback" not in failed.output

    listed = cli.invoke(args=["runs", "--json"])
    assert listed.exit_code == 0
    runs = json.loads(listed.stdout)
    assert [r["id"] for r in runs] == [1, 2]
    assert [r["status"] for r in runs] == ["applied", "failed"]
    for r in runs:
        assert {"id", "week", "trigger", "status", "started_at", "finished_at", "kpis"} <= set(r)
        assert r["week"] == WEEK.isoformat() and r["trigger"] == "manual"
        assert r["kpis"]["weighted_served"] >= r["kpis_before"]["weighted_served"]
    assert runs[0]["added"] + runs[0]["moved"] + runs[0]["dropped"] > 0

    table = cli.invoke(args=["runs"])
    assert table.exit_code == 0 and "#1" in table.stdout and "applied" in table.stdout


def test_bad_input_gets_one_line_a_failure_code_and_no_run(sqlite_nightly_app):
    cli = sqlite_nightly_app.test_cli_runner()
    for args in (
        ["reoptimize", "--week", "2001-01-01"],
        ["reoptimize", "--week", "next monday"],
        ["reoptimize", "--week", WEEK.isoformat(), "--time-limit", "0"],
        ["reoptimize", "--week", WEEK.isoformat(), "--time-limit", "nan"],
        ["reoptimize", "--week", WEEK.isoformat(), "--time-limit", "inf"],
        ["reoptimize", "--week", WEEK.isoformat(), "--base", "B999"],
        ["reoptimize"],
    ):
        result = cli.invoke(args=args)
        assert result.exit_code != 0, args
        assert "Traceback" not in result.output
        assert [line for line in result.stderr.splitlines() if line.startswith("Error")], args
    assert run_count() == 0


def test_runs_on_an_empty_history(sqlite_nightly_app):
    cli = sqlite_nightly_app.test_cli_runner()
    assert json.loads(cli.invoke(args=["runs", "--json"]).stdout) == []
    assert "no runs yet" in cli.invoke(args=["runs"]).stdout


def test_the_scheduler_refuses_a_bad_cron_expression_in_one_line(sqlite_nightly_app):
    for bad in ("61 2 * * *", "0 2 * *", "0 2 * * 9"):
        sqlite_nightly_app.config["NIGHTLY_CRON"] = bad
        result = sqlite_nightly_app.test_cli_runner().invoke(args=["scheduler"])
        assert result.exit_code == 1 and result.stderr.startswith("Error: NIGHTLY_CRON=")
        assert "Traceback" not in result.output
