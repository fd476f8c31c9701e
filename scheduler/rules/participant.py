"""A participant's day (hard, spec rule 6): no overlap, a daily cap, one base per day.

All three are counted over every request of the participant. Kept bookings are already folded in
by ``candidates.py`` (a candidate overlapping a kept session, at another base than a kept session
of that day, or on a day whose cap kept sessions already fill, is never created); what is left is
what the new sessions may still do.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from ortools.sat.python import cp_model

from scheduler.candidates import Candidates
from scheduler.variables import Vars


def add_no_overlap(model: cp_model.CpModel, vars: Vars, week: Candidates) -> None:
    """Hard: at every instant, a participant is in at most one session.

    Two intervals overlap iff one contains the other's start, so checking the instants where some
    candidate starts is enough (and exact).
    """
    for (p, d), idx in vars.by_participant_day.items():
        if len(idx) < 2:
            continue
        starts = sorted({week.start[i] for i in idx})
        for t in starts:
            covering = [i for i in idx if week.start[i] <= t < week.end[i]]
            if len(covering) > 1:
                vars.at_most(model, covering, 1, f"overlap[{p}/d{d}@{t}]")


def add_daily_cap(model: cp_model.CpModel, vars: Vars, week: Candidates) -> None:
    """Hard: sessions starting on one local day <= ``max_sessions_per_day`` (kept ones included)."""
    cap = week.instance.policy.max_sessions_per_day
    if cap is None:
        return
    for (p, d), idx in vars.by_participant_day.items():
        left = cap - week.kept_per_day.get((p, d), 0)
        if len(idx) > left:
            vars.at_most(model, idx, left, f"daily_cap[{p}/d{d}]")


def add_same_day_same_base(model: cp_model.CpModel, vars: Vars, week: Candidates) -> None:
    """Hard: when the policy asks, all of a participant's sessions of one day are at one base.

    One indicator per (participant, day, base) that has candidates; a chosen candidate implies its
    base's indicator, and at most one indicator per participant-day is on. (Implications, not one
    big-M sum per base: their LP is tighter, and an area closed in 5.6 s instead of 10+.)
    """
    if not week.instance.policy.same_day_same_base:
        return
    for (p, d), idx in vars.by_participant_day.items():
        per_base: dict[str, list[int]] = defaultdict(list)
        for i in idx:
            per_base[week.base(i)].append(i)
        if len(per_base) < 2:
            continue
        flags = []
        for b, members in per_base.items():
            y = model.new_bool_var(f"at_base[{p}/d{d}@{b}]")
            vars.at_base[(p, d, b)] = y
            vars.derived.append((y, _any_of(members)))
            flags.append(y)
            vars.implies(model, members, y)
        model.add_at_most_one(flags).with_name(f"same_base[{p}/d{d}]")


def _any_of(members: list[int]) -> Callable[[set[int]], int]:
    """The value of an indicator that is on when any of ``members`` is chosen."""
    return lambda chosen: int(any(i in chosen for i in members))
