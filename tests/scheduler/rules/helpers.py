"""Rule tests at the model: build the real CP-SAT model of a tiny week, fix its decision variables
to a hand-made assignment, and ask CP-SAT whether that assignment is allowed and what it costs.

    status(inst, ("R1", [slot("B1-S1", 0, 18)]), ("R2", [slot("B1-S1", 0, 18)])) == "INFEASIBLE"
    penalty(inst, soft_preferences, ("R1", [slot("B2-S1", 0, 18)])) == 3

Every candidate not named is fixed to 0, so the assignment is the whole set of new sessions (kept
bookings are constants of the model). Naming a placement that is not a candidate is an error:
such a test would be about ``candidates.py``, not about the rule. ``solved`` is the end-to-end
path; it asserts that the search's own plan came back, not the warm start it falls back to.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable

from ortools.sat.python import cp_model

from scheduler import model as week_model
from scheduler.candidates import Candidates, generate
from scheduler.domain import Instance, Plan
from scheduler.model import WeekModel, build
from scheduler.rules import Penalty
from scheduler.solve import solve
from scheduler.validate import validate

Session = tuple[str, Iterable[str]]
SoftRule = Callable[..., Penalty]


def candidate(week: Candidates, request: str, slots: Iterable[str]) -> int:
    """The index of the candidate placing one session of ``request`` on ``slots``."""
    slots = tuple(slots)
    req_index = {r.id: k for k, r in enumerate(week.instance.requests)}
    place = week.where.get(slots[0])
    i = None if place is None else week.index_of().get((req_index[request], *place))
    if i is None or week.length[i] != len(slots):
        raise AssertionError(f"{request} on {slots} is not a candidate placement")
    return i


def fixed(inst: Instance, *sessions: Session) -> WeekModel:
    """The week's model with every decision variable fixed: the sessions named are 1, others 0."""
    wm = build(generate(inst))
    chosen = {candidate(wm.week, request, slots) for request, slots in sessions}
    assert len(chosen) == len(sessions), "one placement named twice: a boolean holds it once"
    for i, x in enumerate(wm.vars.x):
        wm.model.add(x == int(i in chosen))
    return wm


def _solver() -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 10
    solver.parameters.random_seed = 1
    return solver


def status(inst: Instance, *sessions: Session) -> str:
    """``"OPTIMAL"`` when the model allows exactly these new sessions, ``"INFEASIBLE"`` when a hard
    rule of the model forbids them."""
    solver = _solver()
    return solver.status_name(solver.solve(fixed(inst, *sessions).model))


def penalty(inst: Instance, soft_rule: SoftRule, *sessions: Session) -> int:
    """The value of ``soft_rule``'s penalty on exactly these new sessions (its auxiliary variables
    at their best, as the solver would set them)."""
    wm = fixed(inst, *sessions)
    term = wm.terms[week_model.SOFT_RULES.index(soft_rule)]
    wm.model.minimize(term.expr)
    solver = _solver()
    result = solver.solve(wm.model)
    assert result == cp_model.OPTIMAL, solver.status_name(result)
    return round(solver.objective_value)


def solved(inst: Instance, seconds: float = 1.0) -> Plan:
    """A 1-second, 1-worker, seeded solve whose plan is the search's own (no fallback) and valid."""
    plan = solve(inst, time_limit_s=seconds, workers=1, seed=7)
    assert plan.stats["fallback"] is None, plan.stats["fallback"]
    assert validate(inst, plan) == []
    return plan


def sessions(plan: Plan) -> dict[str, list[tuple[str, ...]]]:
    """Each request's sessions (slot tuples), in plan order."""
    out: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    for a in plan.assignments:
        out[a.request].append(a.slots)
    return out


def starts(inst: Instance, request: str) -> set[str]:
    """The slots where a new session of ``request`` may start: every candidate's first slot, in
    every studio of its class (what ``candidates.py`` leaves open to the model)."""
    week = generate(inst)
    out: set[str] = set()
    for i in range(len(week)):
        if week.request(i).id == request:
            c = week.classes[week.cls[i]]
            out.update(row[week.pos[i]] for row in c.slots)
    return out
