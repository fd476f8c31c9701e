"""Preferences and the spotlight (soft, level 4): preferred bases by rank, prime time in rotation.

Level 4 is counted in *spotlight points*, shared with ``rules/harvest.py`` (one point per hour a
harvest session waits after its lot is ready) and ``rules/category.py`` (``CLASH_POINTS`` per
same-category session too many in a province at once). Here: a session at a request's k-th
preferred base (of n) earns ``BASE_POINTS`` x (n - k); one with any prime slot earns, if the
request asked for prime time, ``prime_points`` of its participant: the fewer prime-time sessions
it had in the four weeks before (``prime_recent``), the more, so prime time goes first to those
who had less of it (the referee's ``prime_winners_mean_recent``). The penalty is the points a
request's open sessions could earn at best minus the points they do earn.
"""

from __future__ import annotations

from ortools.sat.python import cp_model

from scheduler.candidates import Candidates
from scheduler.domain import Participant
from scheduler.rules import Penalty
from scheduler.variables import Vars

#: Spotlight points per rank of a preferred base (the last preferred base earns this once).
BASE_POINTS = 12
#: Prime points when ``prime_recent`` is not known (the middle of the rotation below).
PRIME_POINTS = 24
#: Prime points by ``prime_recent`` (0, 1, 2, 3 …); four or more recent prime sessions earn none.
PRIME_ROTATION = (48, 36, 24, 12)


def prime_points(participant: Participant) -> int:
    """Points for giving a prime-wanting session of ``participant`` prime time."""
    if participant.prime_recent is None:
        return PRIME_POINTS
    if participant.prime_recent < len(PRIME_ROTATION):
        return PRIME_ROTATION[participant.prime_recent]
    return 0


def preference_points(week: Candidates, i: int) -> int:
    """Points one candidate placement earns."""
    r = week.request(i)
    pts = 0
    if week.base(i) in r.prefer_bases:
        pts += BASE_POINTS * (len(r.prefer_bases) - r.prefer_bases.index(week.base(i)))
    if r.prefer_prime and week.prime[i]:
        pts += prime_points(week.instance.participant_by_id[r.participant])
    return pts


def soft_preferences(model: cp_model.CpModel, vars: Vars, week: Candidates) -> Penalty:
    """Soft, level 4: preference points missed (unit: spotlight points)."""
    inst = week.instance
    reqs = inst.requests
    worst = 0
    for ri, n in week.open_sessions.items():
        r = reqs[ri]
        prime = prime_points(inst.participant_by_id[r.participant]) if r.prefer_prime else 0
        worst += n * (BASE_POINTS * len(r.prefer_bases) + prime)
    points = [preference_points(week, i) for i in range(len(week))]
    earned = cp_model.LinearExpr.weighted_sum(vars.x, points)
    return Penalty("preferences_missed", worst - earned, worst)
