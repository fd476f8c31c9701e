"""Base balance (soft, level 3): no base far above ``target_utilization`` while others stand idle.

A base's utilization is its used slots (kept bookings included, the whole week) over its slots.
The cost is a convex piecewise-linear curve of it around the week's expected mean ``m`` (slots
asked over slots offered, at most the target): each slot used beyond ``m`` costs 1, beyond
1.25 ``m`` 1 more, beyond 1.5 ``m`` 2 more, beyond 2 ``m`` 4 more and beyond
``target_utilization`` 8 more, scaled by 1000 / (the base's slots) so that a slot counts by how
much it moves the base's ratio. Minimising a convex function of every ratio with the total fixed
pulls the ratios together, which is what a low spread (stdev) of utilization means; the steep
step at the target keeps bases under it while others have room.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from ortools.sat.python import cp_model

from scheduler.candidates import Candidates
from scheduler.domain import Instance
from scheduler.rules import Penalty
from scheduler.variables import Vars

#: (multiple of the expected mean utilization, extra cost per slot); None = the policy's target
STEPS = ((1.0, 1), (1.25, 1), (1.5, 2), (2.0, 4), (None, 8))


def expected_mean(inst: Instance) -> float:
    """Slots asked over slots offered, capped at the target: where a balanced week would sit."""
    asked = sum(r.sessions * r.length for r in inst.requests)
    return min(inst.policy.target_utilization, asked / max(1, len(inst.slots)))


def soft_base_balance(model: cp_model.CpModel, vars: Vars, week: Candidates) -> Penalty:
    """Soft, level 3: sum over bases of the utilization curve (unit: scaled slot-steps)."""
    inst = week.instance
    kept = Counter(inst.base_of_slot(s) for b in week.kept for s in b.slots)
    target = inst.policy.target_utilization
    mean = expected_mean(inst)
    terms, worst = [], 0
    for base, size in inst.slot_count_by_base.items():
        idx = vars.by_base.get(base, [])
        if size == 0 or not idx:
            continue
        lengths = [week.length[i] for i in idx]
        top = min(size, kept[base] + sum(lengths))
        steps = [
            (int((target if level is None else min(target, level * mean)) * size), cost)
            for level, cost in STEPS
        ]
        steps = [(threshold, cost) for threshold, cost in steps if top > threshold]
        if not steps:
            continue
        # One variable for the base's used slots, so each step's constraint stays two terms.
        used = model.new_int_var(kept[base], top, f"used[{base}]")
        model.add(
            used == kept[base] + cp_model.LinearExpr.weighted_sum([vars.x[i] for i in idx], lengths)
        )
        used_value = _used(idx, week.length, kept[base])
        vars.derived.append((used, used_value))
        scale = max(1, round(1000 / size))
        for threshold, cost in steps:
            excess = model.new_int_var(0, top - threshold, f"over[{base}>{threshold}]")
            model.add(excess >= used - threshold)
            vars.derived.append((excess, _excess(used_value, threshold)))
            terms.append(cost * scale * excess)
            worst += cost * scale * (top - threshold)
    return Penalty("base_imbalance", sum(terms), worst)


def _used(idx: list[int], length: list[int], kept: int) -> Callable[[set[int]], int]:
    """Used slots of a base for a set of chosen candidates (remembered for the last set asked)."""
    memo: dict[int, int] = {}

    def value(chosen: set[int]) -> int:
        if id(chosen) not in memo:
            memo.clear()
            memo[id(chosen)] = kept + sum(length[i] for i in idx if i in chosen)
        return memo[id(chosen)]

    return value


def _excess(used: Callable[[set[int]], int], threshold: int) -> Callable[[set[int]], int]:
    """Used slots beyond ``threshold`` (0 when under it) for a set of chosen candidates."""
    return lambda chosen: max(0, used(chosen) - threshold)
