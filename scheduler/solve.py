"""``solve(week, ...) -> Plan``: the CP-SAT solve, end to end, never returning a broken plan.

1. The input is checked (``validate.check_instance``): bookings that clash or break a hard rule
   stop the run with :class:`InstanceError` naming them.
2. A warm start: the previous plan if it is still valid for this week, else greedy. Its placements
   are always candidates and are given to CP-SAT as a hint, so the first solution is already as
   good as the warm start and the search only improves on it.
3. Candidates (``candidates.py``) and the model (``model.py``), then two staged solves (levels 1-2,
   then 3-5 with 1-2 held), sharing one wall-clock budget: ``time_limit_s`` covers everything
   ``solve`` does, building included.
4. Concrete studios (``studios.py``), then ``validate``: if the plan broke a hard rule (a bug) or
   is worse than the warm start on weighted served, the warm start is returned instead and
   ``stats["fallback"]`` says why.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

from ortools.sat.python import cp_model

from scheduler.candidates import Candidates, generate
from scheduler.domain import Assignment, Booking, Instance, Plan, Unassigned
from scheduler.greedy import greedy
from scheduler.model import STAGES, WeekModel, build
from scheduler.studios import assign_studios
from scheduler.validate import check_instance, validate

#: Candidates beyond which the week is pruned per request (see ``candidates.py``); a model of this
#: size builds in a few seconds and CP-SAT still moves in it on two cores.
CANDIDATE_BUDGET = 250_000
#: Share of the solver time given to stage 1 (levels 1-2); stage 2 gets the rest.
STAGE1_SHARE = 0.7
#: Wall time kept back for studio assignment, validation and writing the plan.
RESERVE_S = 0.15

Progress = Callable[[float, float, float], None]


class InstanceError(ValueError):
    """The week's own bookings break a hard rule; the message names them."""


def solve(
    instance: Instance,
    *,
    time_limit_s: float,
    workers: int,
    seed: int | None = None,
    on_progress: Progress | None = None,
    previous: Plan | None = None,
    budget: int | None = CANDIDATE_BUDGET,
) -> Plan:
    """The best plan CP-SAT finds within ``time_limit_s`` seconds on ``workers`` threads."""
    t0 = time.monotonic()
    deadline = t0 + time_limit_s
    problems = check_instance(instance)
    if problems:
        shown = "; ".join(str(v) for v in problems[:3])
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise InstanceError(f"the week's bookings break hard rules: {shown}{more}")

    warm, warm_name = _warm_start(instance, previous)
    week = generate(instance, budget=budget, keep=(warm,))
    wm = build(week)
    hint = _hint(week, warm)
    stats: dict = {
        "warm_start": warm_name,
        "candidates": len(week),
        "candidates_exact": week.raw_count,
        "pruned": week.pruned,
        "classes": len(week.classes),
        "build_s": round(time.monotonic() - t0, 2),
    }
    chosen, stage_stats = _staged_solve(wm, hint, deadline, workers, seed, on_progress, t0)
    stats.update(stage_stats)

    sessions = [*(_as_assignment(b) for b in week.kept), *assign_studios(week, chosen)]
    plan = _plan(instance, sessions, stats)
    broken = validate(instance, plan)
    warm_served = _weighted(instance, warm)
    if broken or _weighted(instance, plan) < warm_served:
        why = f"{len(broken)} hard-rule violations" if broken else "worse than the warm start"
        plan = _plan(instance, list(warm.assignments), {**stats, "fallback": f"{warm_name}: {why}"})
    plan.stats["wall_s"] = round(time.monotonic() - t0, 2)
    return plan


def _warm_start(instance: Instance, previous: Plan | None) -> tuple[Plan, str]:
    if previous is not None and not validate(instance, previous):
        return previous, "previous"
    return greedy(instance), "greedy"


def _as_assignment(booking: Booking) -> Assignment:
    return Assignment(request=booking.request, slots=booking.slots)


def _hint(week: Candidates, warm: Plan) -> list[int]:
    """The candidates that reproduce the warm start's new sessions."""
    inst = week.instance
    req_index = {r.id: k for k, r in enumerate(inst.requests)}
    kept = Counter((b.request, b.slots) for b in week.kept)
    lookup = week.index_of()
    out = []
    for a in warm.assignments:
        if kept[(a.request, a.slots)] > 0:
            kept[(a.request, a.slots)] -= 1
            continue
        place = week.where.get(a.slots[0])
        i = lookup.get((req_index[a.request], *place)) if place else None
        if i is not None:
            out.append(i)
    return out


class _Progress(cp_model.CpSolverSolutionCallback):
    """Reports (elapsed, weighted served, bound on it) on every improving solution of stage 1."""

    def __init__(self, report: Progress, to_served, t0: float):
        super().__init__()
        self.report, self.to_served, self.t0 = report, to_served, t0

    def on_solution_callback(self) -> None:
        obj, bound = self.to_served(self.objective_value), self.to_served(self.best_objective_bound)
        self.report(time.monotonic() - self.t0, obj, bound)


def _staged_solve(wm: WeekModel, hint, deadline, workers, seed, on_progress, t0):
    """Stage 1 (levels 1-2), then stage 2 (levels 3-5) with stage 1's value held."""
    model = wm.model
    inst = wm.week.instance
    kept_w = sum(inst.weight_of(b.request) for b in wm.week.kept)
    served_worst = wm.levels[0].worst
    hinted = set(hint)
    wm.vars.hint(model, hinted)

    expr1, w1 = wm.lexicographic(*STAGES[0])

    def to_served(value: float) -> float:
        return min(kept_w + served_worst, kept_w + served_worst - (value // w1[0]))

    model.minimize(expr1)
    budget = max(0.1, deadline - time.monotonic() - RESERVE_S)
    solver = _solver(workers, seed, budget * STAGE1_SHARE)
    callback = _Progress(on_progress, to_served, t0) if on_progress else None
    status = solver.solve(model, callback)
    stats: dict = {"stage1": _stage_stats(solver, status)}
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        stats.update(status=solver.status_name(status), objective=None, bound=None)
        return sorted(hinted), stats
    chosen = wm.vars.extract(solver)
    stats["objective"] = to_served(solver.objective_value)
    stats["bound"] = to_served(solver.best_objective_bound)
    stage1_status = status

    # Stage 2: hold every request's session count, minimise levels 3-5 from the stage-1 solution.
    wm.vars.hint(model, set(chosen))
    served = Counter(wm.week.req[i] for i in chosen)
    for ri, idx in wm.vars.by_request.items():
        model.add(sum(wm.vars.x[i] for i in idx) == served[ri])
    expr2, _ = wm.lexicographic(*STAGES[1])
    model.minimize(expr2)
    budget = deadline - time.monotonic() - RESERVE_S
    status2 = None
    if budget > 0.2:
        solver2 = _solver(workers, seed, budget)
        status2 = solver2.solve(model)
        stats["stage2"] = _stage_stats(solver2, status2)
        if status2 in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            chosen = wm.vars.extract(solver2)
    both_optimal = stage1_status == cp_model.OPTIMAL and status2 == cp_model.OPTIMAL
    stats["status"] = "OPTIMAL" if both_optimal else "FEASIBLE"
    return chosen, stats


def _solver(workers: int, seed: int | None, limit: float) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = max(1, workers)
    solver.parameters.max_time_in_seconds = max(0.05, limit)
    if seed is not None:
        solver.parameters.random_seed = seed
    # Presolve's probing and symmetry passes cost seconds on 100k booleans and find little here
    # (the at-most-ones are already explicit); the time is better spent searching.
    solver.parameters.symmetry_level = 0
    solver.parameters.cp_model_probing_level = 0
    solver.parameters.max_presolve_iterations = 1
    return solver


def _stage_stats(solver: cp_model.CpSolver, status) -> dict:
    out = {"status": solver.status_name(status), "wall_s": round(solver.wall_time, 2)}
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        out["objective"] = solver.objective_value
        out["bound"] = solver.best_objective_bound
    return out


def _weighted(instance: Instance, plan: Plan) -> int:
    return sum(instance.weight_of(a.request) for a in plan.assignments)


def _plan(instance: Instance, sessions, stats: dict) -> Plan:
    served = Counter(a.request for a in sessions)
    unassigned = tuple(
        Unassigned(r.id, r.sessions - served[r.id], "not placed: capacity or participant limits")
        for r in instance.requests
        if served[r.id] < r.sessions
    )
    stats = dict(stats)
    stats["weighted_served"] = sum(instance.weight_of(a.request) for a in sessions)
    return Plan(
        instance=instance.name, assignments=tuple(sessions), unassigned=unassigned, stats=stats
    )


__all__ = ["InstanceError", "solve"]
