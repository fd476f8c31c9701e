"""Regional coverage (soft, level 2): raise the worst macro-region's served ratio.

The ratio is served sessions over asked sessions of the region's participants (kept bookings
included), as the referee's ``min_region_ratio``. It is kept in units of 1/10,000 (the referee
rounds to four digits): ``floor_ratio`` is at most every region's ratio, and the penalty is how far
it stays below 1.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from ortools.sat.python import cp_model

from scheduler.candidates import Candidates
from scheduler.rules import Penalty
from scheduler.variables import Vars

RATIO_UNIT = 10_000


def soft_regional_coverage(model: cp_model.CpModel, vars: Vars, week: Candidates) -> Penalty:
    """Soft, level 2: 10,000 x (1 - worst region's served ratio) (unit: 1/10,000 of a ratio)."""
    inst = week.instance
    region_of = {p.id: p.region for p in inst.participants}
    asked: Counter[str] = Counter()
    for r in inst.requests:
        asked[region_of[r.participant]] += r.sessions
    kept: Counter[str] = Counter(
        region_of[inst.request_by_id[b.request].participant] for b in week.kept
    )
    members: dict[str, list[int]] = defaultdict(list)
    for i, ri in enumerate(week.req):
        members[region_of[inst.requests[ri].participant]].append(i)
    floor_ratio = model.new_int_var(0, RATIO_UNIT, "floor_ratio")
    for g, n in asked.items():
        if n == 0:
            continue
        served = kept[g] + cp_model.LinearExpr.sum([vars.x[i] for i in members.get(g, ())])
        model.add(n * floor_ratio <= RATIO_UNIT * served).with_name(f"coverage[{g}]")

    def value(chosen: set[int]) -> int:
        ratios = [
            RATIO_UNIT * (kept[g] + sum(i in chosen for i in members.get(g, ()))) // n
            for g, n in asked.items()
            if n
        ]
        return min(ratios, default=RATIO_UNIT)

    vars.derived.append((floor_ratio, value))
    return Penalty("region_shortfall", RATIO_UNIT - floor_ratio, RATIO_UNIT)
