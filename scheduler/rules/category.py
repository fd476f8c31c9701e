"""Competing categories: separation per base (hard, spec rule 9) and clashes per province (soft).

Two sessions of different participants selling the same ``category`` split one audience when they
run at the same time. With ``policy.category_separation == "base"`` that is forbidden at one base;
across the bases of one province it is a cost (the referee's ``category_clashes_province``).

Kept sessions (input bookings and, in an area of the search, the incumbent's sessions outside it)
are constants: ``candidates.py`` never creates a candidate that would overlap a kept same-category
session of someone else at its base, so the hard rule here is only about new sessions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime

from ortools.sat.python import cp_model

from scheduler.candidates import Candidates, day_index
from scheduler.rules import Penalty
from scheduler.variables import Vars

#: Cost of one session too many at one instant in one province and category (spotlight points,
#: the unit of level 4: see ``rules/preferences.py``).
CLASH_POINTS = 24


def _category(week: Candidates, i: int) -> str | None:
    inst = week.instance
    return inst.participant_by_id[week.request(i).participant].category


def _covering(starts: list[int], ends: list[int], idx: list[int]) -> dict[int, list[int]]:
    """For each instant where one of ``idx`` starts, the members of ``idx`` running then.

    Two intervals overlap iff one contains the other's start, so these instants are enough."""
    out: dict[int, list[int]] = {}
    for t in sorted({starts[i] for i in idx}):
        out[t] = [i for i in idx if starts[i] <= t < ends[i]]
    return out


def add_category_separation(model: cp_model.CpModel, vars: Vars, week: Candidates) -> None:
    """Hard (rule 9): at one base, same-category sessions of different participants never overlap.

    A participant's own sessions never overlap either (rule 6), so at every instant at most one
    session of a (base, category) runs: one at-most-one per instant where a candidate starts.
    """
    if week.instance.policy.category_separation != "base":
        return
    groups: dict[tuple[str, str, int], list[int]] = defaultdict(list)
    for i in range(len(week)):
        category = _category(week, i)
        if category:
            groups[(week.base(i), category, week.day[i])].append(i)
    for (base, category, d), idx in groups.items():
        if len(idx) < 2:
            continue
        for t, covering in _covering(week.start, week.end, idx).items():
            if len(covering) > 1:
                vars.at_most(model, covering, 1, f"category[{base}/{category}/d{d}@{t}]")


def soft_category_clashes_province(
    model: cp_model.CpModel, vars: Vars, week: Candidates
) -> Penalty:
    """Soft, level 4: same-category sessions running at once in one province, beyond the first.

    At every instant where a session of a (province, category) starts, every session running
    beyond the first costs ``CLASH_POINTS`` (unit: spotlight points). Kept sessions count as
    constants. This is the referee's pair count made linear: k sessions at once are k - 1 here
    and k (k - 1) / 2 pairs there; both are zero exactly when nothing clashes.
    """
    inst = week.instance
    province_of = {b.id: b.province for b in inst.bases}
    groups: dict[tuple[str, str, int], list[int]] = defaultdict(list)
    for i in range(len(week)):
        category = _category(week, i)
        if category:
            groups[(province_of[week.base(i)], category, week.day[i])].append(i)
    if not groups:
        return Penalty("category_clashes_province", 0, 0)
    kept: dict[tuple[str, str, int], list[tuple[int, int]]] = defaultdict(list)
    for b in week.kept:
        category = inst.participant_by_id[inst.request_by_id[b.request].participant].category
        if not category:
            continue
        first, last = inst.slot_by_id[b.slots[0]], inst.slot_by_id[b.slots[-1]]
        key = (province_of[inst.base_of_slot(first.id)], category, day_index(inst, first.start))
        if key in groups:
            kept[key].append((_min(first.start), _min(last.end)))
    terms, worst = [], 0
    for (province, category, d), idx in groups.items():
        fixed = kept.get((province, category, d), [])
        instants = {week.start[i] for i in idx} | {s for s, _ in fixed}
        for t in sorted(instants):
            covering = [i for i in idx if week.start[i] <= t < week.end[i]]
            already = sum(s <= t < e for s, e in fixed)
            top = len(covering) + already - 1
            if not covering or top <= 0:
                continue
            over = model.new_int_var(0, top, f"clash[{province}/{category}/d{d}@{t}]")
            model.add(over >= cp_model.LinearExpr.sum([vars.x[j] for j in covering]) + already - 1)
            vars.derived.append((over, _excess(covering, already)))
            terms.append(over)
            worst += CLASH_POINTS * top
    return Penalty("category_clashes_province", CLASH_POINTS * sum(terms), worst)


def _excess(covering: list[int], already: int) -> Callable[[set[int]], int]:
    def value(chosen: set[int]) -> int:
        return max(0, sum(i in chosen for i in covering) + already - 1)

    return value


def _min(t: datetime) -> int:
    """Minutes since the epoch, as ``candidates.py`` counts time."""
    return int(t.timestamp()) // 60
