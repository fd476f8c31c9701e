"""Sessions per request (hard, spec rule 3): a request gets at most ``sessions`` sessions.

Kept bookings already count: ``week.open_sessions`` is what is left for new placements.
"""

from __future__ import annotations

from ortools.sat.python import cp_model

from scheduler.candidates import Candidates
from scheduler.variables import Vars


def add_session_count(model: cp_model.CpModel, vars: Vars, week: Candidates) -> None:
    """Hard: new sessions of a request <= sessions asked minus sessions kept."""
    reqs = week.instance.requests
    for ri, idx in vars.by_request.items():
        n = week.open_sessions[ri]
        if len(idx) > n:
            model.add(cp_model.LinearExpr.sum([vars.x[i] for i in idx]) <= n).with_name(
                f"sessions[{reqs[ri].id}]"
            )
