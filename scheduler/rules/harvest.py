"""Harvest freshness (soft, level 4): a lot's sessions as soon after it is ready as possible.

The hard part of a harvest lot (rule 10: every session inside ``ready``..``best_before``) is
decided per candidate in ``candidates.py``. What is left is how fresh: each session of a request
with a lot costs ``FRESH_POINTS_PER_HOUR`` per whole hour from ``ready`` to its start, the
referee's ``harvest_mean_hours_after_ready`` summed over the sessions (the number of sessions is
fixed in the stage that minimises level 4, so the sum and the mean move together).
"""

from __future__ import annotations

from ortools.sat.python import cp_model

from scheduler.candidates import Candidates
from scheduler.rules import Penalty
from scheduler.variables import Vars

#: Spotlight points (level 4's unit, see ``rules/preferences.py``) per hour after ``ready``.
FRESH_POINTS_PER_HOUR = 1


def hours_after_ready(week: Candidates, i: int) -> int:
    """Whole hours from candidate ``i``'s lot being ready to its start (0 without a lot)."""
    lot = week.request(i).harvest
    if lot is None:
        return 0
    return max(0, (week.start[i] - int(lot.ready.timestamp()) // 60) // 60)


def soft_harvest_freshness(model: cp_model.CpModel, vars: Vars, week: Candidates) -> Penalty:
    """Soft, level 4: hours from ready to start over every harvest session (unit: points)."""
    cost = [FRESH_POINTS_PER_HOUR * hours_after_ready(week, i) for i in range(len(week))]
    if not any(cost):
        return Penalty("harvest_hours_after_ready", 0, 0)
    worst_of: dict[int, int] = {}
    for ri, c in zip(week.req, cost, strict=True):
        worst_of[ri] = max(worst_of.get(ri, 0), c)
    worst = sum(week.open_sessions[ri] * c for ri, c in worst_of.items())
    return Penalty(
        "harvest_hours_after_ready", cp_model.LinearExpr.weighted_sum(vars.x, cost), worst
    )
