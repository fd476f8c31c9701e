"""Solve a tiny hand-built week and read the answer back by request."""

from __future__ import annotations

from collections import defaultdict

from scheduler.domain import Instance, Plan
from scheduler.solve import solve
from scheduler.validate import validate


def solved(inst: Instance, seconds: float = 1.0) -> Plan:
    """A 1-second, 1-worker, seeded solve; the plan always passes the validator."""
    plan = solve(inst, time_limit_s=seconds, workers=1, seed=7)
    assert validate(inst, plan) == []
    return plan


def sessions(plan: Plan) -> dict[str, list[tuple[str, ...]]]:
    """Each request's sessions (slot tuples), in plan order."""
    out: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    for a in plan.assignments:
        out[a.request].append(a.slots)
    return out
