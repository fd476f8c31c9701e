"""A run over the tiny two-base world with many changes: 55 sessions added at Linyi (B001,
east), 3 moved from Linyi to Ganzhou (B002, central), 2 dropped at Ganzhou."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import OptimizationRun, PlanningWeek, RunChange
from tests.app.services.world import World


def make_run(world: World, *, state: str = "applied", progress: dict | None = None) -> int:
    """Store the run (state ``state``); returns its id."""
    week = db.session.scalar(
        select(PlanningWeek).where(PlanningWeek.week_start == world.week_start)
    )
    run = OptimizationRun(
        planning_week_id=week.id,
        kind="manual",
        state=state,
        solver_status="FEASIBLE" if state == "applied" else None,
        wall_s=4.2,
        kpis_before={"sessions_served": 10, "served_ratio": 0.5, "min_region_ratio": 0.4},
        kpis={"sessions_served": 62, "served_ratio": 0.9, "min_region_ratio": 0.8},
        added=55,
        moved=3,
        dropped=2,
        progress=progress or {"phase": "done"},
        message="done" if state == "applied" else None,
        started_at=world.local(-3, 9),
        finished_at=world.local(-3, 9) + timedelta(seconds=5) if state == "applied" else None,
    )
    db.session.add(run)
    db.session.flush()
    linyi = [world.slot(s, d, h) for s in ("B001-S1", "B001-S2") for d in range(3)
             for h in (12, 14, 20)]  # fmt: skip
    ganzhou = [world.slot("B002-S1", d, h) for d in range(3) for h in (10, 12, 14, 20)]
    for i in range(55):
        db.session.add(RunChange(run_id=run.id, change="added", request_code=f"R9{i:05d}",
                                 after_slots=[linyi[i % len(linyi)]], after_base="B001",
                                 reason="placed"))  # fmt: skip
    for i in range(3):
        db.session.add(RunChange(run_id=run.id, change="moved", request_code=f"R8{i:05d}",
                                 before_slots=[linyi[i]], after_slots=[ganzhou[i]],
                                 before_base="B001", after_base="B002", reason="closer"))  # fmt: skip
    for i in range(2):
        db.session.add(RunChange(run_id=run.id, change="dropped", request_code=f"R7{i:05d}",
                                 before_slots=[ganzhou[5 + i]], before_base="B002",
                                 reason="displaced"))  # fmt: skip
    db.session.commit()
    return run.id
