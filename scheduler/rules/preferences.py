"""Preferences (soft, level 4): preferred bases by rank, prime time when asked.

A session at a request's k-th preferred base (of n) earns n - k points, one with any prime slot
earns 2 points if the request asked for prime time. The penalty is the points a request's open
sessions could earn at best minus the points they do earn.
"""

from __future__ import annotations

from ortools.sat.python import cp_model

from scheduler.candidates import Candidates
from scheduler.rules import Penalty
from scheduler.variables import Vars

PRIME_POINTS = 2


def preference_points(week: Candidates, i: int) -> int:
    """Points one candidate placement earns."""
    r = week.request(i)
    pts = 0
    if week.base(i) in r.prefer_bases:
        pts += len(r.prefer_bases) - r.prefer_bases.index(week.base(i))
    if r.prefer_prime and week.prime[i]:
        pts += PRIME_POINTS
    return pts


def soft_preferences(model: cp_model.CpModel, vars: Vars, week: Candidates) -> Penalty:
    """Soft, level 4: preference points missed (unit: points)."""
    reqs = week.instance.requests
    worst = 0
    for ri, n in week.open_sessions.items():
        r = reqs[ri]
        worst += n * (len(r.prefer_bases) + (PRIME_POINTS if r.prefer_prime else 0))
    points = [preference_points(week, i) for i in range(len(week))]
    earned = cp_model.LinearExpr.weighted_sum(vars.x, points)
    return Penalty("preferences_missed", worst - earned, worst)
