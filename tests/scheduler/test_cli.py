"""The command line end to end: generate a week, greedy, check, explain, and bad input."""

import io
import json
import subprocess
import sys

import pytest

from scheduler.cli import main
from scheduler.console import Progress, summary
from scheduler.io import dump_instance, load_plan, write_json
from tests.scheduler.builders import at, plan, req, slot, week


def run(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "scheduler", *argv], capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def small_week(tmp_path):
    path = tmp_path / "week.json"
    assert main(["generate", "--size", "S", "--seed", "3", "-o", str(path)]) == 0
    return path


def test_generate_greedy_check_explain(small_week, tmp_path, capsys):
    plan = tmp_path / "plan.json"
    assert main(["greedy", str(small_week), "-o", str(plan)]) == 0
    out = capsys.readouterr().out
    assert "weighted served" in out and "plan written" in out
    assert main(["check", str(small_week), str(plan)]) == 0
    assert "VALID" in capsys.readouterr().out
    assert main(["check", str(small_week), str(plan), "--json"]) == 0
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert figures["violations"] == 0 and figures["weighted_served"] > 0
    assert main(["explain", str(small_week), str(plan)]) == 0
    out = capsys.readouterr().out
    assert "request(s) left short" in out
    assert main(["explain", str(small_week), str(plan), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc and {"request", "missing", "denials"} <= doc[0].keys()
    assert {"code", "zh", "en"} <= doc[0]["denials"][0].keys()


def test_bound_prints_the_lp_optimum_or_the_looser_bound_its_time_allowed(tmp_path, capsys):
    path = tmp_path / "s1.json"
    assert main(["generate", "--size", "S", "--seed", "1", "-o", str(path)]) == 0
    capsys.readouterr()
    assert main(["bound", str(path)]) == 0
    assert "weighted served ≤ 748  (the LP's optimum" in capsys.readouterr().out
    assert main(["bound", str(path), "--time-limit", "0.000001"]) == 0
    out = capsys.readouterr().out
    assert "Lagrangian" in out and int(out.split("≤ ")[1].split()[0]) >= 748
    with pytest.raises(SystemExit) as refused:
        main(["bound", str(path), "--time-limit", "-1"])
    assert refused.value.code == 2


def test_python_dash_m_scheduler_end_to_end(small_week, tmp_path):
    plan = tmp_path / "plan.json"
    done = run("greedy", str(small_week), "-o", str(plan))
    assert done.returncode == 0, done.stderr
    done = run("check", str(small_week), str(plan))
    assert done.returncode == 0 and "VALID" in done.stdout


def test_check_exits_1_on_a_broken_plan(tmp_path, capsys):
    inst = week(requests=[req("R1", "P1"), req("R2", "P2")])
    write_json(dump_instance(inst), tmp_path / "w.json")
    broken = {
        "format": "livehub-plan/1",
        "instance": inst.name,
        "assignments": [
            {"request": "R1", "slots": [slot("B1-S1", 0, 18)]},
            {"request": "R2", "slots": [slot("B1-S1", 0, 18)]},
        ],
    }
    (tmp_path / "p.json").write_text(json.dumps(broken), encoding="utf-8")
    assert main(["check", str(tmp_path / "w.json"), str(tmp_path / "p.json")]) == 1
    out = capsys.readouterr().out
    assert "BROKEN rule 2: slot B1-S1/d0/18 used 2 times" in out


def test_explain_one_request_and_an_unknown_one(small_week, tmp_path, capsys):
    plan = tmp_path / "plan.json"
    main(["greedy", str(small_week), "-o", str(plan)])
    capsys.readouterr()
    assert main(["explain", str(small_week), str(plan), "--request", "R000001"]) == 0
    assert capsys.readouterr().out.startswith("R000001 (")
    assert main(["explain", str(small_week), str(plan), "--request", "R9"]) == 2
    assert capsys.readouterr().err.strip() == "error: unknown request(s): R9"


@pytest.mark.parametrize(
    "content",
    ["{not json", json.dumps({"format": "other"}), json.dumps([1, 2]), "\x00\xff"],
)
def test_bad_instance_one_line_exit_2_no_file(tmp_path, content):
    bad = tmp_path / "bad.json"
    bad.write_text(content, encoding="utf-8", errors="ignore")
    out = tmp_path / "plan.json"
    done = run("greedy", str(bad), "-o", str(out))
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert not out.exists()


def test_bad_arguments_and_missing_files(tmp_path, capsys):
    assert main(["check", str(tmp_path / "nope.json"), str(tmp_path / "p.json")]) == 2
    assert "no such file" in capsys.readouterr().err
    for argv in (["frobnicate"], ["solve", "x.json"], ["solve", "x", "-o", "y", "--workers", "0"]):
        with pytest.raises(SystemExit) as e:
            main(argv)
        assert e.value.code == 2
        assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_inconsistent_input_is_refused_and_nothing_written(tmp_path, capsys):
    inst = week(
        requests=[req("R1", "P1"), req("R2", "P2")],
        bookings=[
            ("R1", [slot("B1-S1", 0, 18)], "locked"),
            ("R2", [slot("B1-S1", 0, 18)], "locked"),
        ],
    )
    write_json(dump_instance(inst), tmp_path / "w.json")
    assert main(["greedy", str(tmp_path / "w.json"), "-o", str(tmp_path / "p.json")]) == 2
    err = capsys.readouterr().err
    assert "inconsistent input" in err and "B1-S1/d0/18" in err and "R1, R2" in err
    assert not (tmp_path / "p.json").exists()


@pytest.mark.slow
def test_solve_through_the_cli(small_week, tmp_path):
    plan = tmp_path / "plan.json"
    done = run("solve", str(small_week), "-o", str(plan), "--time-limit", "5", "--workers", "2")
    assert done.returncode == 0, done.stderr
    assert "weighted served" in done.stdout and "status" in done.stdout
    assert load_plan(plan).assignments
    assert run("check", str(small_week), str(plan)).returncode == 0


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_one_updating_line_on_a_terminal():
    out = FakeTerminal()
    progress = Progress(out)
    progress(1.0, 700, 800)
    progress(2.0, 750, 760)
    progress.close()
    text = out.getvalue()
    assert text.count("\r") == 2 and text.endswith("\n") and text.count("\n") == 1
    assert "objective 750  bound 760  gap 1.32 %" in text


def test_progress_periodic_lines_otherwise():
    out = io.StringIO()
    progress = Progress(out, every_s=3600)
    for k in range(5):
        progress(float(k), 700 + k, 800)
    progress.close()
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 and "objective 700" in lines[0]  # the first, then none for an hour


def test_summary_names_the_new_figures_only_when_the_week_has_them_and_any_fallback():
    plain = week({"B1-S1": []}, requests=[req("R1", "P1")])
    text = summary(plain, plan(plain, ("R1", [slot("B1-S1", 0, 18)])))
    assert "harvest" not in text and "category" not in text and "fallback" not in text
    fresh = week(
        {"B1-S1": []},
        requests=[req("R1", "P1", prime=True, prime_recent=2, harvest=(at(0, 6), at(1, 0)))],
    )
    p = plan(fresh, ("R1", [slot("B1-S1", 0, 18)]))
    p.stats["fallback"] = "greedy: 1 hard-rule violations"
    text = summary(fresh, p)
    assert "mean prime_recent 2.0" in text and "12.0 h after ready" in text
    assert "fallback            greedy: 1 hard-rule violations" in text
