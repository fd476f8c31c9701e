"""Stability (soft, level 5): few moves or drops of ``tentative`` bookings.

A tentative booking (after the freeze) is kept when its request gets the same start in the same
studio class; ``studios.py`` then puts it back into its own studio whenever the class allows, so
it stays unchanged. The penalty counts the tentative bookings not kept (unit: bookings).
"""

from __future__ import annotations

from ortools.sat.python import cp_model

from scheduler.candidates import Candidates
from scheduler.rules import Penalty
from scheduler.variables import Vars


def tentative_candidates(week: Candidates) -> tuple[int, list[int]]:
    """The movable tentative bookings' count and the candidates that would keep them."""
    inst = week.instance
    kept = {(b.request, b.slots) for b in week.kept}
    lookup = week.index_of()
    req_index = {r.id: k for k, r in enumerate(inst.requests)}
    total, keepers = 0, []
    for b in inst.bookings:
        if b.status != "tentative" or (b.request, b.slots) in kept:
            continue
        total += 1
        place = week.where.get(b.slots[0])
        if place is not None:
            i = lookup.get((req_index[b.request], *place))
            if i is not None:
                keepers.append(i)
    return total, sorted(set(keepers))


def soft_tentative_stability(model: cp_model.CpModel, vars: Vars, week: Candidates) -> Penalty:
    """Soft, level 5: tentative bookings moved or dropped (unit: bookings)."""
    total, keepers = tentative_candidates(week)
    kept = cp_model.LinearExpr.sum([vars.x[i] for i in keepers])
    return Penalty("tentative_moved", total - kept, total)
