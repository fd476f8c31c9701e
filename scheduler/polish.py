"""A last pass for level 4: move single sessions within their base where the spotlight gains.

The search's areas reach only part of a large week in its time, and level 4 (prime time in
rotation, fresh harvest sessions, few same-category sessions at once in a province) is spread
over all of it. Moving one new session to another free run *at the same base* changes neither
which sessions are served (levels 1 and 2) nor any base's used slots (level 3), and a session that
is not an input booking is no tentative booking kept (level 5); so a move that lowers level 4 is a
strict lexicographic gain. Each move keeps every hard rule: free consecutive slots of one studio
with the needed features, inside the window and the harvest lot, after ``freeze_until``, and for
the participant no overlap, the daily cap, one base per day and, with category separation, no
same-category session of someone else at the base at the same time.

Level 4 is counted here as the model counts it (``rules/preferences.py``, ``rules/harvest.py``),
except clashes, which are counted as the referee's pairs (different participants, different bases
of one province, overlapping).
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from scheduler.candidates import kept_bookings
from scheduler.domain import Assignment, Instance, Request, Slot
from scheduler.rules.category import CLASH_POINTS
from scheduler.rules.harvest import FRESH_POINTS_PER_HOUR
from scheduler.rules.preferences import prime_points


@dataclass
class _Session:
    request: Request
    participant: str
    category: str | None
    base: str
    province: str
    slots: tuple[Slot, ...]
    movable: bool
    #: POSIX seconds of the first slot's start and the last one's end; the local day's ordinal
    start: float = 0.0
    end: float = 0.0
    day: int = 0


@dataclass
class _Week:
    """The plan's sessions with the lookups a move needs."""

    inst: Instance
    sessions: list[_Session]
    #: per slot id: start and end in POSIX seconds and the local day's ordinal
    times: dict[str, tuple[float, float, int]]
    used: set[str] = field(default_factory=set)
    by_participant: dict[str, list[_Session]] = field(default_factory=lambda: defaultdict(list))
    #: (province, category, day): every session, for clashes and rule 9
    by_shelf: dict[tuple[str, str, int], list[_Session]] = field(
        default_factory=lambda: defaultdict(list)
    )

    def place(self, s: _Session, slots: tuple[Slot, ...]) -> None:
        """Put ``s`` on ``slots`` (it must be out of the week)."""
        s.slots = slots
        s.start, _, s.day = self.times[slots[0].id]
        s.end = self.times[slots[-1].id][1]

    def add(self, s: _Session) -> None:
        self.used.update(x.id for x in s.slots)
        self.by_participant[s.participant].append(s)
        if s.category:
            self.by_shelf[(s.province, s.category, s.day)].append(s)

    def remove(self, s: _Session) -> None:
        self.used.difference_update(x.id for x in s.slots)
        self.by_participant[s.participant].remove(s)
        if s.category:
            self.by_shelf[(s.province, s.category, s.day)].remove(s)


def polish(inst: Instance, assignments: list[Assignment], deadline: float) -> list[Assignment]:
    """The plan with single sessions moved within their base while level 4 improves (by
    ``deadline``, a ``time.monotonic()`` instant); the input plan must be valid."""
    booked = {(b.request, b.slots) for b in inst.bookings}
    kept = {(b.request, b.slots) for b in kept_bookings(inst)}
    times = {
        x.id: (x.start.timestamp(), x.end.timestamp(), inst.local_day(x.start).toordinal())
        for x in inst.slots
    }
    week = _Week(inst, [], times)
    for a in assignments:
        r = inst.request_by_id[a.request]
        p = inst.participant_by_id[r.participant]
        base = inst.base_of_slot(a.slots[0])
        s = _Session(
            request=r,
            participant=p.id,
            category=p.category,
            base=base,
            province=inst.base_by_id[base].province,
            slots=(),
            movable=(a.request, a.slots) not in booked and (a.request, a.slots) not in kept,
        )
        week.place(s, tuple(inst.slot_by_id[x] for x in a.slots))
        week.sessions.append(s)
        week.add(s)
    improved = True
    while improved and time.monotonic() < deadline:
        improved = False
        for s in week.sessions:
            if time.monotonic() >= deadline:
                break
            if s.movable and _improve(week, s):
                improved = True
    return [Assignment(s.request.id, tuple(x.id for x in s.slots)) for s in week.sessions]


def _score(week: _Week, s: _Session, slots: tuple[Slot, ...]) -> int:
    """Level-4 cost of ``s`` on ``slots`` (lower is better), with ``s`` out of the week."""
    r = s.request
    cost = 0
    start, _, day = week.times[slots[0].id]
    if r.prefer_prime and any(x.prime for x in slots):
        cost -= prime_points(week.inst.participant_by_id[s.participant])
    if r.harvest is not None:
        hours = int(start - r.harvest.ready.timestamp()) // 3600
        cost += FRESH_POINTS_PER_HOUR * max(0, hours)
    if s.category:
        end = week.times[slots[-1].id][1]
        pairs = sum(
            o.participant != s.participant and o.base != s.base and o.start < end and start < o.end
            for o in week.by_shelf.get((s.province, s.category, day), ())
        )
        cost += CLASH_POINTS * pairs
    return cost


def _improve(week: _Week, s: _Session) -> bool:
    """Move ``s`` to the best legal run at its base if that lowers level 4."""
    week.remove(s)
    here = s.slots
    best, best_slots = _score(week, s, here), here
    for slots in _runs(week, s):
        cost = _score(week, s, slots)
        if cost < best:
            best, best_slots = cost, slots
    week.place(s, best_slots)
    week.add(s)
    return best_slots is not here


def _runs(week: _Week, s: _Session) -> Iterator[tuple[Slot, ...]]:
    """Every legal run for ``s`` at its base (``s`` itself out of the week)."""
    inst, r, times = week.inst, s.request, week.times
    policy = inst.policy
    lo, hi = r.window_start, r.window_end
    if policy.freeze_until is not None:
        lo = max(lo, policy.freeze_until)
    if r.harvest is not None:
        lo, hi = max(lo, r.harvest.ready), min(hi, r.harvest.best_before)
    t0, t1 = lo.timestamp(), hi.timestamp()
    mine = week.by_participant[s.participant]
    per_day: Counter[int] = Counter(o.day for o in mine)
    other_base = {o.day for o in mine if o.base != s.base}
    cap = policy.max_sessions_per_day
    separate = policy.category_separation == "base" and s.category is not None
    n = r.length
    for studio in inst.base_by_id[s.base].studios:
        if not r.needs <= studio.features:
            continue
        slots = inst.slots_by_studio[studio.id]
        for j in range(len(slots) - n + 1):
            start, _, day = times[slots[j].id]
            end = times[slots[j + n - 1].id][1]
            if start < t0 or end > t1:
                continue
            run = slots[j : j + n]
            if any(x.id in week.used for x in run):
                continue
            if any(x.end != y.start for x, y in zip(run, run[1:], strict=False)):
                continue
            if cap is not None and per_day[day] >= cap:
                continue
            if policy.same_day_same_base and day in other_base:
                continue
            if any(o.start < end and start < o.end for o in mine):
                continue
            if separate and any(
                o.base == s.base
                and o.participant != s.participant
                and o.start < end
                and start < o.end
                for o in week.by_shelf.get((s.province, s.category or "", day), ())
            ):
                continue
            yield tuple(run)
