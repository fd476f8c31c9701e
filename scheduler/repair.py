"""Repair: place a few requests into a live week, around everything already booked.

``repair(instance, request_ids, *, time_limit_s, movable=...) -> Plan`` is the instant
placement's solver. ``instance`` is usually a *neighbourhood* of the week (the requests being
placed, the slots they could use, the bookings on those slots and their participants' other
bookings), not the whole week: every hard rule that a new session could break is decided inside
it, so a plan valid for the neighbourhood is valid for the week.

It uses the week's own CP-SAT model (``candidates.generate`` + ``model.build``) in two phases:

1. **nothing moves**: every booking is a constant; candidates only for ``request_ids``; the
   objective is, strictly in this order, weighted sessions served (priority 1/2/3 = 1/2/4),
   the line (``order``: who waits longest first), preference points;
2. **tentative bookings may move**, only if phase 1 left a request short and ``movable`` names
   tentative bookings: each of those keeps its number of sessions (moved, never dropped), and a
   move costs one unit of a level just below weighted served. The answer is taken only if it
   serves *strictly* more weight than phase 1 — so a tentative booking moves only when that
   serves more, whatever the solver's time limit let it prove.

Both phases start from first come, first served (``greedy``) around every booking, and phase 1
falls back to it when the solver finds nothing within ``time_limit_s`` (which the solves spend,
not the building of their models): a busy machine costs quality, never the placement.

Locked, confirmed and frozen bookings are never variables (``candidates.kept_bookings``). The
plan is checked with ``validate.validate`` before it is returned; a plan that would break a rule
is never returned (the unchanged bookings are, and ``stats["fallback"]`` says why).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager

from ortools.sat.python import cp_model

from scheduler.candidates import Candidates, eligible_bases, generate, kept_bookings
from scheduler.cpsat import hint_indices, make_solver
from scheduler.domain import Assignment, Booking, Instance, Plan, Unassigned
from scheduler.greedy import greedy
from scheduler.model import WeekModel, build
from scheduler.rules import Penalty
from scheduler.studios import assign_studios
from scheduler.validate import validate

#: Level indices in ``model.SOFT_RULES``: weighted served, preferences, tentative stability.
SERVED, PREFERENCES, STABILITY = 0, 3, 4
BookingKey = tuple[str, tuple[str, ...]]


def repair(
    instance: Instance,
    request_ids: Sequence[str],
    *,
    time_limit_s: float,
    movable: Collection[BookingKey] = (),
    order: Sequence[str] | None = None,
    workers: int = 1,
) -> Plan:
    """The instance's bookings plus as many sessions of ``request_ids`` as fit (see the module).

    ``movable`` are ``(request, slots)`` keys of tentative bookings that may move to serve more;
    ``order`` is the line (first = waited longest), default ``request_ids``' order.
    """
    t0 = time.monotonic()
    inst = instance
    index = {r.id: k for k, r in enumerate(inst.requests)}
    unknown = [r for r in request_ids if r not in index]
    if unknown:
        raise ValueError(f"unknown request(s): {', '.join(unknown)}")
    targets = {index[r] for r in request_ids}
    line = list(order if order is not None else request_ids)
    kept = kept_bookings(inst)
    kept_keys = Counter((b.request, b.slots) for b in kept)
    tentative = [b for b in inst.bookings if (b.request, b.slots) not in kept_keys]
    movers = [b for b in tentative if (b.request, b.slots) in set(movable)]
    eligible: list[list[str]] = [[] for _ in inst.requests]
    for k in targets | {index[b.request] for b in movers}:
        eligible[k] = eligible_bases(inst, inst.requests[k])

    # First come, first served around every booking: the solver's hint, and its answer when the
    # time runs out before it finds one (a loaded machine, a large batch).
    first = _greedy_sessions(inst, targets)
    budget = Budget(time_limit_s)
    sessions, status = _solve(inst, targets, tentative, [], line, eligible, budget, workers, first)
    if sessions is None and first:
        sessions = [Assignment(b.request, b.slots) for b in tentative] + first
        status = "GREEDY"
    phase, moved = 1, 0
    served = _served(inst, targets, sessions)
    short = served < sum(inst.weight_of(inst.requests[k].id) * inst.requests[k].sessions
                         for k in targets)  # fmt: skip
    if movers and short and budget.left() > 0.1:
        fixed = [b for b in tentative if b not in movers]
        more, status2 = _solve(inst, targets, fixed, movers, line, eligible, budget, workers, [])
        if more is not None and _served(inst, targets, more) > served:
            sessions, status, phase = more, status2, 2
            placed = Counter((a.request, a.slots) for a in more)
            moved = sum(1 for b in movers if not _take(placed, (b.request, b.slots)))
    base = [Assignment(b.request, b.slots) for b in kept]
    if sessions is None:  # the solver found nothing in time: nothing changes
        sessions = [Assignment(b.request, b.slots) for b in tentative]
    plan = _plan(inst, base + sessions, targets)
    stats = {"status": status, "phase": phase, "moved": moved}
    broken = validate(inst, plan)
    if broken:  # pragma: no cover - the model holds every hard rule; this is the safety net
        unchanged = base + [Assignment(b.request, b.slots) for b in tentative]
        plan = _plan(inst, unchanged, targets)
        stats.update(fallback=f"{len(broken)} hard-rule violations, first: {broken[0]}", moved=0)
    stats["new_sessions"] = len(plan.assignments) - len(inst.bookings)
    stats["served_weight"] = _served(inst, targets, list(plan.assignments))
    stats["wall_s"] = round(time.monotonic() - t0, 3)
    return Plan(plan.instance, plan.assignments, plan.unassigned, stats)


def _solve(
    inst: Instance,
    targets: set[int],
    fixed: list[Booking],
    movers: list[Booking],
    line: list[str],
    eligible: list[list[str]],
    budget: Budget,
    workers: int,
    hint: list[Assignment],
) -> tuple[list[Assignment] | None, str]:
    """One phase: the fixed bookings as constants, the movers' and targets' sessions as variables.

    Returns every non-kept session of the answer (the fixed ones included), or None. ``hint``
    (new sessions of the targets) is the solver's starting point.
    """
    index = {r.id: k for k, r in enumerate(inst.requests)}
    mover_index = Counter(index[b.request] for b in movers)
    only = targets | set(mover_index)
    week = generate(inst, fixed=tuple(fixed), eligible=eligible, only=only)
    same = [Assignment(b.request, b.slots) for b in fixed]
    if not len(week):
        return same + [Assignment(b.request, b.slots) for b in movers], "NO_CANDIDATES"
    wm = build(week)
    for ri, n in mover_index.items():  # a moved session is moved, never dropped
        idx = wm.vars.by_request.get(ri, [])
        total = cp_model.LinearExpr.sum([wm.vars.x[i] for i in idx])
        wm.model.add(total >= n if ri in targets else total == n)
    wm.levels.append(_line_penalty(wm, targets, line))
    stages = (SERVED, STABILITY, len(wm.levels) - 1, PREFERENCES) if movers else (
        SERVED, len(wm.levels) - 1, PREFERENCES)  # fmt: skip
    expr, _ = wm.lexicographic(stages)
    wm.model.minimize(expr)
    start = hint_indices(week, [Assignment(b.request, b.slots) for b in movers] + hint)
    wm.vars.hint(wm.model, set(start))
    limit = budget.left()
    if limit < 0.05:
        return None, "TIME_LIMIT"
    solver = make_solver(workers, 0, limit)
    # By name: OR-Tools' stubs type the returned status apart from cp_model.OPTIMAL.
    with budget.spending():
        status = solver.status_name(solver.solve(wm.model))
    if status not in ("OPTIMAL", "FEASIBLE"):
        return None, status
    chosen = wm.vars.extract(solver)
    return same + assign_studios(week, chosen), status


class Budget:
    """The solver's time: ``time_limit_s`` is spent by the solves alone, not by building their
    models, so a slow read of the model on a busy machine does not leave the search no time."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def left(self) -> float:
        return self.seconds

    @contextmanager
    def spending(self) -> Iterator[None]:
        t = time.monotonic()
        try:
            yield
        finally:
            self.seconds -= time.monotonic() - t


def _greedy_sessions(inst: Instance, targets: set[int]) -> list[Assignment]:
    """The new sessions first come, first served gives the targets around every booking (only
    theirs: dropping the others' new sessions breaks no rule)."""
    ids = {inst.requests[k].id for k in targets}
    kept = Counter((b.request, b.slots) for b in inst.bookings)
    return [
        a
        for a in greedy(inst).assignments
        if a.request in ids and not _take(kept, (a.request, a.slots))
    ]


def _line_penalty(wm: WeekModel, targets: set[int], line: list[str]) -> Penalty:
    """Soft: who waited longer is served first (unit: line points; the first of ``n`` earns n)."""
    week: Candidates = wm.week
    reqs = week.instance.requests
    rank = {rid: len(line) - k for k, rid in enumerate(line)}
    points = [rank.get(reqs[ri].id, 0) if ri in targets else 0 for ri in week.req]
    worst = sum(rank.get(reqs[ri].id, 0) * n for ri, n in week.open_sessions.items()
                if ri in targets)  # fmt: skip
    earned = cp_model.LinearExpr.weighted_sum(wm.vars.x, points)
    return Penalty("line", worst - earned, worst)


def _take(counter: Counter[BookingKey], key: BookingKey) -> bool:
    if counter[key] > 0:
        counter[key] -= 1
        return True
    return False


def _served(inst: Instance, targets: set[int], sessions: list[Assignment] | None) -> int:
    """Weighted sessions the targets hold in ``sessions``."""
    if sessions is None:
        return -1
    ids = {inst.requests[k].id for k in targets}
    return sum(inst.weight_of(a.request) for a in sessions if a.request in ids)


def _plan(inst: Instance, sessions: list[Assignment], targets: set[int]) -> Plan:
    got = Counter(a.request for a in sessions)
    unassigned = tuple(
        Unassigned(r.id, r.sessions - got[r.id], "no free run that fits")
        for k, r in enumerate(inst.requests)
        if k in targets and got[r.id] < r.sessions
    )
    return Plan(inst.name, tuple(sessions), unassigned)
