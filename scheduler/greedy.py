"""First-come-first-served baseline, and the CP-SAT solver's warm start and fallback.

``greedy(instance)`` keeps every input booking (locked, confirmed, tentative, frozen) as it is,
then takes the requests in file order and gives each missing session the earliest free run of
``length`` consecutive slots at the best base it may use: its preferred bases first (in the
request's order), then the others nearest first; within a base, the first studio (in the base's
order) that has such a run. That is the reference baseline of ``shared/instances/README.md``:
it scores exactly its 746 / 3,529 / 18,140 weighted sessions on the small / medium / national
samples. A run is taken only when every hard rule still
holds: free slots in one studio with the needed features, inside the window, not before
``freeze_until``, and for the participant no overlap, the daily cap and one base per day.

It assumes the input passes ``validate.check_instance`` (its bookings are consistent); then the
plan it returns always passes ``validate.validate``. It needs no solver and runs the national
sample in about a second.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections import Counter, defaultdict
from datetime import date, datetime

from scheduler.domain import Assignment, Instance, Plan, Request, Slot, Unassigned
from scheduler.validate import KM_TOLERANCE

#: Reason written into ``Plan.unassigned`` (``explain.py`` tells the binding reason per session).
NOT_PLACED = "no free eligible run left when its turn came (first come, first served)"


class Calendar:
    """What is taken so far: used slots and each participant's sessions, days and bases."""

    def __init__(self, inst: Instance) -> None:
        self.inst = inst
        self.used: set[str] = set()
        self.count: Counter[str] = Counter()  # sessions per request
        self.busy: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
        self.per_day: Counter[tuple[str, date]] = Counter()
        self.base_of_day: dict[tuple[str, date], str] = {}
        self.day_of_slot = {s.id: inst.local_day(s.start) for s in inst.slots}

    def copy(self) -> Calendar:
        """An independent copy (to try placements without touching this one)."""
        other = Calendar.__new__(Calendar)
        other.inst, other.day_of_slot = self.inst, self.day_of_slot
        other.used = set(self.used)
        other.count = Counter(self.count)
        other.busy = defaultdict(list, {k: list(v) for k, v in self.busy.items()})
        other.per_day = Counter(self.per_day)
        other.base_of_day = dict(self.base_of_day)
        return other

    def take(self, request: Request, slots: tuple[Slot, ...]) -> None:
        pid = request.participant
        day = self.day_of_slot[slots[0].id]
        self.used.update(s.id for s in slots)
        self.count[request.id] += 1
        self.busy[pid].append((slots[0].start, slots[-1].end))
        self.per_day[pid, day] += 1
        self.base_of_day.setdefault((pid, day), self.inst.studio_by_id[slots[0].studio].base)

    def participant_can(self, pid: str, base: str, first: Slot, end: datetime) -> bool:
        """Daily cap, same day same base and no overlap for one more session of ``pid`` that
        starts with slot ``first`` and ends at ``end``."""
        policy = self.inst.policy
        day = self.day_of_slot[first.id]
        start = first.start
        cap = policy.max_sessions_per_day
        if cap is not None and self.per_day[pid, day] >= cap:
            return False
        if policy.same_day_same_base and self.base_of_day.get((pid, day), base) != base:
            return False
        return all(end <= s or e <= start for s, e in self.busy[pid])


def eligible_bases(inst: Instance, request: Request) -> list[str]:
    """Bases the request may use (allowed, within ``max_km``, a studio with every need), best
    first: preferred bases in the request's order, then the rest nearest first."""
    rank = {b: i for i, b in enumerate(request.prefer_bases)}
    out = []
    for base in inst.bases:
        if request.bases is not None and base.id not in request.bases:
            continue
        km = inst.distance_km(request.participant, base.id)
        if request.max_km is not None and km > request.max_km + KM_TOLERANCE:
            continue
        if not any(request.needs <= s.features for s in base.studios):
            continue
        out.append(((0, rank[base.id]) if base.id in rank else (1, km), base.id))
    return [b for _, b in sorted(out)]


def greedy(inst: Instance) -> Plan:
    """Keep every booking, then serve requests first come, first served (see the module doc)."""
    t0 = time.perf_counter()
    cal = Calendar(inst)
    starts = {sid: [s.start for s in slots] for sid, slots in inst.slots_by_studio.items()}
    assignments = [Assignment(b.request, b.slots) for b in inst.bookings]
    for b in inst.bookings:
        cal.take(inst.request_by_id[b.request], tuple(inst.slot_by_id[s] for s in b.slots))

    freeze = inst.policy.freeze_until
    unassigned = []
    for r in inst.requests:
        missing = r.sessions - cal.count[r.id]
        if missing <= 0:
            continue
        earliest = r.window_start if freeze is None else max(r.window_start, freeze)
        studios_by_base = {
            b: [s.id for s in inst.base_by_id[b].studios if r.needs <= s.features]
            for b in eligible_bases(inst, r)
        }
        while missing > 0:
            run = None
            for base, studios in studios_by_base.items():
                run = _earliest_run(inst, cal, r, base, studios, starts, earliest)
                if run is not None:
                    break
            if run is None:
                break
            cal.take(r, run)
            assignments.append(Assignment(r.id, tuple(s.id for s in run)))
            missing -= 1
        if missing > 0:
            unassigned.append(Unassigned(r.id, missing, NOT_PLACED))

    served = sum(inst.weight_of(a.request) for a in assignments)
    stats = {
        "status": "GREEDY",
        "objective": served,
        "weighted_served": served,
        "wall_s": round(time.perf_counter() - t0, 3),
    }
    return Plan(inst.name, tuple(assignments), tuple(unassigned), stats)


def _earliest_run(inst, cal, r, base, studios, starts, earliest) -> tuple[Slot, ...] | None:
    """The earliest free run of ``r.length`` consecutive slots that the participant may take, in
    the first of ``studios`` (in the base's order) that has one; None if none has."""
    for sid in studios:
        slots = inst.slots_by_studio[sid]
        first = bisect_left(starts[sid], earliest)
        for i in range(first, len(slots) - r.length + 1):
            run = slots[i : i + r.length]
            if run[-1].end > r.window_end:
                break  # later runs end later still
            if (
                all(s.id not in cal.used for s in run)
                and all(x.end == y.start for x, y in zip(run, run[1:], strict=False))
                and cal.participant_can(r.participant, base, run[0], run[-1].end)
            ):
                return run
    return None
