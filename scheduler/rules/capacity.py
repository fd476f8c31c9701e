"""Studio capacity (hard, spec rules 1 and 2): no slot is used twice.

Counted per studio class (identical studio-days, see ``candidates.py``) and position: the sessions
covering a position never outnumber the class's studios. Because the class's studios are identical
machines and sessions are intervals, this count is exact: ``studios.py`` turns any solution into
concrete studios without a clash.
"""

from __future__ import annotations

from ortools.sat.python import cp_model

from scheduler.candidates import Candidates
from scheduler.variables import Vars


def add_studio_capacity(model: cp_model.CpModel, vars: Vars, week: Candidates) -> None:
    """Hard: at every class position, covering sessions <= number of identical studios."""
    for (ci, q), idx in vars.by_class_position.items():
        size = week.classes[ci].size
        if len(idx) > size:
            vars.at_most(model, idx, size, f"capacity[{week.classes[ci].name}:p{q}]")
