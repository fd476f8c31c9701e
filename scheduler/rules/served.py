"""Weighted served sessions (soft, level 1 of the objective).

Counts the weighted sessions *not* served: each open session of a request of priority 1, 2, 3
costs 1, 2, 4 (``PRIORITY_WEIGHT``, as the referee's ``weighted_served``) until it is placed.
Kept bookings are served whatever the model does, so they are left out.
"""

from __future__ import annotations

from ortools.sat.python import cp_model

from scheduler.candidates import Candidates
from scheduler.rules import Penalty
from scheduler.variables import Vars


def session_weight(week: Candidates, ri: int) -> int:
    """Priority weight of one session of request number ``ri``."""
    return week.instance.weight_of(week.instance.requests[ri].id)


def soft_weighted_served(model: cp_model.CpModel, vars: Vars, week: Candidates) -> Penalty:
    """Soft, level 1: weighted sessions asked but not placed (unit: weighted sessions)."""
    worst = sum(session_weight(week, ri) * n for ri, n in week.open_sessions.items())
    weights = [session_weight(week, ri) for ri in week.req]
    served = cp_model.LinearExpr.weighted_sum(vars.x, weights)
    return Penalty("weighted_unserved", worst - served, worst)
