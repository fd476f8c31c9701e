"""CP-SAT as the solver's searches use it: one set of parameters, hints from a plan, progress.

The large-neighbourhood search (``lns``) and the repair of a few requests (``repair``) both solve
models built from candidates; they share the solver's parameters, the way an incumbent plan is
turned into a hint, and the callback that reports each improving solution.
"""

from __future__ import annotations

from collections.abc import Callable

from ortools.sat.python import cp_model

from scheduler.candidates import Candidates
from scheduler.domain import Assignment


class Solutions(cp_model.CpSolverSolutionCallback):
    """Passes every improving CP-SAT solution's objective value on."""

    def __init__(self, report: Callable[[float], None]):
        super().__init__()
        self.report = report

    def on_solution_callback(self) -> None:
        self.report(self.objective_value)


def hint_indices(week: Candidates, sessions: list[Assignment]) -> list[int]:
    """Candidate indices reproducing ``sessions`` (those that lie in the candidates' area)."""
    req_index = {r.id: k for k, r in enumerate(week.instance.requests)}
    lookup = week.index_of()
    out = []
    for a in sessions:
        place = week.where.get(a.slots[0])
        i = lookup.get((req_index[a.request], *place)) if place else None
        if i is not None:
            out.append(i)
    return out


def make_solver(workers: int, seed: int | None, limit: float) -> cp_model.CpSolver:
    """A CP-SAT solver with the project's parameters."""
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
