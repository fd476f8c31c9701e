"""``solve(week, ...) -> Plan``: the CP-SAT solve, end to end, never returning a broken plan.

1. The input is checked (``validate.check_instance``): bookings that clash or break a hard rule
   stop the run with :class:`InstanceError` naming them.
2. A warm start: the previous plan if it is still valid for this week, else greedy; then greedy
   again with the requests in better orders (``construct.py``), within ``START_SHARE`` of the
   time; the best of them is the first incumbent, so the answer is never worse than it.
3. The large-neighbourhood search (``lns.py``) re-solves one area of the week after another with
   the exact CP-SAT model of that area (``model.py``): levels 1-2 of the objective for the first
   ``STAGE1_SHARE`` of the time, then levels 3-5 with every request's session count held;
   the last ``POLISH_SHARE`` (at most ``POLISH_S_PER_SESSION`` per session of the week: a
   medium week's pass ends within seconds, and the search keeps the rest) moves single sessions,
   or swaps two, within their base where level 4 gains (``polish.py``).
   ``time_limit_s`` covers everything ``solve`` does, the warm start included. The bound on
   level 1 is the linear relaxation of ``bound.py`` where the week is small enough for it, else
   every session of every request with an eligible base; once the plan reaches it, level 1 is
   proved optimal and the search stops when the lower levels stall (it need not run to the
   limit).
4. ``validate``: if the plan broke a hard rule (a bug) or were worse than the warm start on
   weighted served, the warm start is returned instead and ``stats["fallback"]`` says why; it is
   None when the search's own plan is returned (tests assert that, or they test the fallback).
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from scheduler.bound import served_bound
from scheduler.candidates import eligibility, kept_bookings
from scheduler.construct import best_start
from scheduler.domain import Assignment, Instance, Plan, Unassigned
from scheduler.greedy import greedy
from scheduler.lns import Search, run
from scheduler.polish import polish
from scheduler.validate import check_instance, validate

#: Share of the time spent on levels 1-2 (served, regional coverage); the rest goes to 3-5.
STAGE1_SHARE = 0.6
#: Share of the time kept for the last level-4 pass (``polish.py``) ...
POLISH_SHARE = 0.2
#: ... but no more than this per session of the week: the programme week's ~42,000 sessions
#: use their whole fifth of 300 s, a medium week's ~1,700 ended in a few seconds and left the
#: rest of its fifth unused.
POLISH_S_PER_SESSION = 0.0015
#: The LP bound (``bound.py``) is worked out only on weeks up to this many (request, base)
#: pairs (the national week has 0.16 million, the programme week 5.6 million, whose LP takes
#: minutes) and for at most this share of the time; stopped early it is the looser Lagrangian one.
BOUND_MAX_PAIRS = 1_000_000
BOUND_SHARE = 0.1
#: Share of the time that re-ordered greedy starts may take.
START_SHARE = 0.25
#: Wall time kept back for validation and building the plan (plus a little per slot: the
#: programme week's 63,592 slots take ~5 s of CPU to validate and build, more on a busy machine).
RESERVE_S = 0.5
RESERVE_PER_SLOT_S = 0.0002

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
    start_orders: bool = True,
) -> Plan:
    """The best plan found within ``time_limit_s`` seconds on ``workers`` CP-SAT threads.

    ``previous`` (a valid plan of this week) is the warm start instead of greedy; with
    ``start_orders=False`` greedy is not re-run in other orders against it (the seam of a
    parted solve, ``parts.py``, whose start already was).
    """
    t0 = time.monotonic()
    deadline = t0 + time_limit_s - RESERVE_S - RESERVE_PER_SLOT_S * len(instance.slots)
    problems = check_instance(instance)
    if problems:
        shown = "; ".join(str(v) for v in problems[:3])
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise InstanceError(f"the week's bookings break hard rules: {shown}{more}")

    eligible = eligibility(instance)  # once: ~2.6 s on the programme week (5.6M pairs)
    warm, warm_name = _warm_start(instance, previous)
    start_by = t0 + START_SHARE * time_limit_s
    if start_orders or warm_name != "previous":
        warm, warm_name = best_start(instance, (warm, warm_name), start_by, eligible)
    new = new_sessions(instance, warm)
    search = Search(instance, new, workers, random.Random(seed), eligible=eligible)
    bound, bound_kind = _served_bound(search), "sessions"
    relaxed = None  # a programme week's LP takes minutes: `python -m scheduler bound` reports it
    if sum(map(len, eligible)) <= BOUND_MAX_PAIRS:
        by = time.monotonic() + BOUND_SHARE * time_limit_s  # after the warm start's share
        relaxed = served_bound(instance, eligible, deadline=by, start=new)
    if relaxed is not None and relaxed < bound:
        bound, bound_kind = relaxed, "lp"
    best = [search.served_key(search.sessions)[0]]

    if on_progress is not None:
        progress = on_progress  # bound here: the callback below never sees a None

        def report(served: int) -> None:
            """From CP-SAT's solution callback: the week's weighted served when it improves."""
            if served > best[0]:
                best[0] = served
                progress(time.monotonic() - t0, float(served), float(bound))

        progress(time.monotonic() - t0, float(best[0]), float(bound))
        search.on_served = report
    search_error: str | None = None
    sessions_in_week = len(search.kept) + len(search.sessions)
    polish_from = deadline - min(
        POLISH_SHARE * time_limit_s, POLISH_S_PER_SESSION * sessions_in_week
    )
    try:
        run(search, polish_from, STAGE1_SHARE, bound=bound)
    except Exception as exc:  # noqa: BLE001 - a bug in the search must not cost the week its plan
        # The search's sessions may be half-way through an area: validation below decides
        # whether they stand, and otherwise the warm start is returned.
        search_error = f"{type(exc).__name__}: {exc}"

    stats: dict[str, Any] = {
        "status": "OPTIMAL" if search.proved == {0, 1} else "FEASIBLE",
        "warm_start": warm_name,
        "bound": bound,
        "bound_kind": bound_kind,
        "proved_levels": "1-2" if 0 in search.proved else "",
        "areas_solved": search.iterations,
        "areas_improved": search.improvements,
        "areas_optimal": search.solved_optimally,
        "fallback": None,
    }
    if search_error:
        stats["search_error"] = search_error
    sessions = [Assignment(b.request, b.slots) for b in search.kept] + search.sessions
    if not search_error:
        sessions = polish(instance, sessions, deadline)
    plan = plan_of(instance, sessions, stats, search.eligible)
    if 0 in search.proved:  # levels 1-2 proved optimal: the bound is the objective itself
        plan.stats["bound"] = plan.stats["objective"]
    elif plan.stats["objective"] >= bound:  # level 1 proved by the bound
        plan.stats["proved_levels"] = "1"
    broken = validate(instance, plan)
    if broken or plan.stats["objective"] < _weighted(instance, warm.assignments):
        why = f"{len(broken)} hard-rule violations" if broken else "worse than the warm start"
        if search_error:
            why = f"{why} after the search failed ({search_error})"
        stats = {
            **stats,
            "status": "FEASIBLE",
            "proved_levels": "",
            "fallback": f"{warm_name}: {why}",
        }
        plan = plan_of(instance, list(warm.assignments), stats, search.eligible)
    else:
        plan.stats["violations"] = 0  # validated above: callers need not check it again
    plan.stats["wall_s"] = round(time.monotonic() - t0, 2)
    return plan


def _warm_start(instance: Instance, previous: Plan | None) -> tuple[Plan, str]:
    if previous is not None and not validate(instance, previous):
        return previous, "previous"
    return greedy(instance), "greedy"


def new_sessions(instance: Instance, plan: Plan) -> list[Assignment]:
    """The plan's sessions beyond the kept bookings (which stay implicit in the search)."""
    kept = Counter((b.request, b.slots) for b in kept_bookings(instance))
    out = []
    for a in plan.assignments:
        if kept[(a.request, a.slots)] > 0:
            kept[(a.request, a.slots)] -= 1
        else:
            out.append(Assignment(a.request, tuple(a.slots)))
    return out


def _served_bound(search: Search) -> int:
    """An upper bound on weighted served: every session of every request that has an eligible
    base (a base it may use with a studio that has its features), plus what is kept."""
    inst = search.instance
    kept = Counter(b.request for b in search.kept)
    total = 0
    for k, r in enumerate(inst.requests):
        n = r.sessions if search.eligible[k] else kept[r.id]
        total += inst.weight_of(r.id) * n
    return total


def _weighted(instance: Instance, sessions: Iterable[Assignment]) -> int:
    return sum(instance.weight_of(a.request) for a in sessions)


#: Reasons written into ``Plan.unassigned`` (``explain.py`` names the binding one per session).
NO_BASE = "no base it may use has a studio with its features"
NOT_PLACED = "not placed: every eligible run was taken, or the participant's day was full"


def plan_of(
    instance: Instance,
    sessions: list[Assignment],
    stats: dict[str, Any],
    eligible: list[list[str]] | None = None,
) -> Plan:
    """A plan of these sessions: what each short request misses, and why; ``objective``."""
    eligible = eligible if eligible is not None else eligibility(instance)
    served = Counter(a.request for a in sessions)
    unassigned = tuple(
        Unassigned(r.id, r.sessions - served[r.id], NOT_PLACED if eligible[k] else NO_BASE)
        for k, r in enumerate(instance.requests)
        if served[r.id] < r.sessions
    )
    stats = {**stats, "objective": _weighted(instance, sessions)}
    return Plan(instance.name, tuple(sessions), unassigned, stats)
