"""The figures of a plan, with the same keys and meaning as the shared referee's.

``figures(instance, plan)`` is what the web app's KPIs and the nightly job report, and what the
benchmark compares: sessions and priority-weighted sessions served (priority 1/2/3 weigh 1/2/4),
each macro-region's served ratio and the worst one, base utilization (used slots / published
slots per base) and its spread, preference and prime-time satisfaction, the mean ``prime_recent``
of those who got prime time, hours from harvest to session, same-category clashes within a
province, tentative bookings moved or dropped, and mean distance (a figure whose inputs are
absent from the week is None). Assignments that name unknown requests or slots are left out,
as the referee does; whether the plan is valid is ``validate.py``'s question.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from typing import Any

from scheduler.domain import Instance, Plan
from scheduler.validate import Session, overlapping_pairs, sessions_of


def figures(inst: Instance, plan: Plan) -> dict[str, Any]:
    """The referee's figures of ``plan`` (see ``shared/tools/check_plan.py``), as a dict."""
    asked: Counter[str] = Counter()
    weighted_asked = 0
    for r in inst.requests:
        p = inst.participant_by_id[r.participant]
        asked[p.region] += r.sessions
        weighted_asked += p.weight * r.sessions

    sessions = sessions_of(inst, plan)
    served_region: Counter[str] = Counter()
    served_kind: Counter[str] = Counter()
    weighted_served = preferred = prime_wanted = prime_got = 0
    km: list[float] = []
    winners_recent: list[int] = []
    fresh_hours: list[float] = []
    used_by_base: Counter[str] = Counter()
    for s in sessions:
        r = inst.request_by_id[s.request]
        p = inst.participant_by_id[r.participant]
        served_region[p.region] += 1
        served_kind[p.kind] += 1
        weighted_served += p.weight
        preferred += s.base in r.prefer_bases
        if r.prefer_prime:
            prime_wanted += 1
            got = any(slot.prime for slot in s.slots)
            prime_got += got
            if got and p.prime_recent is not None:
                winners_recent.append(p.prime_recent)
        if r.harvest is not None:
            fresh_hours.append((s.start - r.harvest.ready).total_seconds() / 3600)
        km.append(inst.distance_km(r.participant, s.base))
        used_by_base[s.base] += len(s.slots)

    util = {b: used_by_base[b] / n for b, n in inst.slot_count_by_base.items() if n}
    ratios = {g: served_region[g] / n for g, n in asked.items() if n}
    planned = {s.key for s in sessions}
    tentative = [b for b in inst.bookings if b.status == "tentative"]
    kept_tentative = sum((b.request, b.slots) in planned for b in tentative)
    target = inst.policy.target_utilization
    n_asked = sum(asked.values())
    n = len(sessions)
    return {
        "sessions_served": n,
        "sessions_asked": n_asked,
        "served_ratio": round(n / n_asked, 4) if n_asked else None,
        "weighted_served": weighted_served,
        "weighted_asked": weighted_asked,
        "served_by_kind": dict(served_kind),
        "region_served_ratio": {g: round(v, 4) for g, v in sorted(ratios.items())},
        "min_region_ratio": round(min(ratios.values()), 4) if ratios else None,
        "utilization_max": round(max(util.values()), 4) if util else None,
        "utilization_min": round(min(util.values()), 4) if util else None,
        "utilization_stdev": round(statistics.pstdev(util.values()), 4) if util else None,
        "bases_over_target": sum(1 for u in util.values() if u > target + 1e-9),
        "preferred_base_share": round(preferred / n, 4) if n else None,
        "prime_satisfaction": round(prime_got / prime_wanted, 4) if prime_wanted else None,
        "prime_winners_mean_recent": (
            round(statistics.fmean(winners_recent), 3) if winners_recent else None
        ),
        "harvest_mean_hours_after_ready": (
            round(statistics.fmean(fresh_hours), 2) if fresh_hours else None
        ),
        "category_clashes_province": (
            category_clashes_province(inst, sessions)
            if any(p.category for p in inst.participants)
            else None
        ),
        "tentative_moved_or_dropped": len(tentative) - kept_tentative,
        "mean_km": round(statistics.fmean(km), 1) if km else None,
    }


def category_clashes_province(inst: Instance, sessions: list[Session]) -> int:
    """Pairs of overlapping same-category sessions of different participants at different bases
    of one province (the spotlight is shared: lower is better)."""
    groups: dict[tuple[str, str], list[Session]] = defaultdict(list)
    for s in sessions:
        category = inst.participant_by_id[s.participant].category
        if category:
            groups[(inst.base_by_id[s.base].province, category)].append(s)
    return sum(
        a.base != b.base and a.participant != b.participant
        for mine in groups.values()
        for a, b in overlapping_pairs(mine)
    )
