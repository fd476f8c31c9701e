"""A run solved in parts (``app/services/runs/parts.py``): the split, one job per part, the merge
and the seam give a valid plan applied like any other, the parts' files leave the database, and
a part whose run is over does nothing. The spread over real workers is in
``tests/app/jobs/test_workers.py``."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from app.extensions import db
from app.models import Job, OptimizationRun, RunFile
from app.services.runs.folders import run_folder
from app.services.runs.parts import PART_KIND, parts_for, run_part
from app.services.runs.reoptimize import reoptimize
from scheduler.generate import generate
from scheduler.io import load_instance, load_plan
from scheduler.validate import validate
from tests.app.nightly.conftest import WEEK, fixed_bookings


def test_a_run_in_parts_applies_a_valid_plan_and_leaves_no_files_in_the_database(nightly_app):
    nightly_app.config.update(SOLVER_PARTS=2, SOLVER_PARTS_MIN_REQUESTS=1)
    fixed = fixed_bookings()
    run = reoptimize(WEEK, trigger="manual", actor_label="test", time_limit_s=8)
    assert run.state in ("applied", "no_change"), run.message
    assert fixed_bookings() == fixed

    folder = run_folder(run)
    inst = load_instance(folder / "instance.json")
    split = json.loads((folder / "split.json").read_text(encoding="utf-8"))
    assert len(split["parts"]) == 2
    owners = [p for part in split["parts"] for p in part["participants"]]
    assert len(owners) == len(set(owners))
    for i in (0, 1):  # each part answered, for its own participants only
        answer = json.loads((folder / f"part-{i}.json").read_text(encoding="utf-8"))
        mine = set(split["parts"][i]["participants"])
        assert answer["part"] == i
        assert {inst.request_by_id[a["request"]].participant for a in answer["assignments"]} <= mine
    assert validate(inst, load_plan(folder / "merged.json")) == []
    plan = load_plan(folder / "plan.json")
    assert validate(inst, plan) == [] and plan.stats["warm_start"] == "previous"
    assert run.wall_s > plan.stats["wall_s"] > 0  # split, parts and seam, not the seam alone

    jobs = db.session.scalars(select(Job).where(Job.kind == PART_KIND)).all()
    assert sorted(j.payload["part"] for j in jobs) == [0, 1]
    assert all(j.status == "done" and j.result["part"] == j.payload["part"] for j in jobs)
    assert db.session.scalar(select(func.count()).select_from(RunFile)) == 0


def test_small_weeks_are_not_split(sqlite_nightly_app):
    inst = generate("tiny", seed=1)
    cfg = {"SOLVER_PARTS": 4, "SOLVER_PARTS_MIN_REQUESTS": len(inst.requests) + 1}
    assert parts_for(cfg, inst) == 0
    assert parts_for({**cfg, "SOLVER_PARTS_MIN_REQUESTS": 1}, inst) == 4
    assert parts_for({"SOLVER_PARTS": 1, "SOLVER_PARTS_MIN_REQUESTS": 1}, inst) == 0


def test_a_part_of_a_run_that_is_over_or_too_late_does_nothing(sqlite_nightly_app):
    run = reoptimize(WEEK, trigger="manual", actor_label="test", time_limit_s=2)
    assert run.state != "running"
    out = run_part({"run_id": run.id, "part": 0, "time_limit_s": 5})
    assert out == {"part": 0, "skipped": "the run is no longer running"}
    assert run_part({"run_id": 10_000, "part": 1, "time_limit_s": 5})["skipped"]
    row = db.session.get(OptimizationRun, run.id)
    row.state = "running"
    db.session.commit()
    late = run_part({"run_id": run.id, "part": 0, "time_limit_s": 5, "until": 0})
    assert late == {"part": 0, "skipped": "too late for this run"}


def test_a_runs_parts_answer_under_the_attempts_token(sqlite_nightly_app, monkeypatch):
    """A part job left over from an earlier attempt of the run answers under its own token, so
    the run merges only what its own parts answered."""
    from app.services.runs import parts

    monkeypatch.setattr(parts, "drop_files", lambda run_id: None)
    sqlite_nightly_app.config.update(SOLVER_PARTS=2, SOLVER_PARTS_MIN_REQUESTS=1)
    run = reoptimize(WEEK, trigger="manual", actor_label="test", time_limit_s=8)
    assert run.state in ("applied", "no_change"), run.message
    jobs = db.session.scalars(select(Job).where(Job.kind == PART_KIND)).all()
    tokens = {j.payload["token"] for j in jobs}
    assert len(tokens) == 1
    names = set(db.session.scalars(select(RunFile.name).where(RunFile.run_id == run.id)))
    token = tokens.pop()
    assert names == {"instance.json", "split.json", f"part-0-{token}.json", f"part-1-{token}.json"}
