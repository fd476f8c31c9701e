"""A last pass for level 4: move single sessions within their base, or swap two, where it gains.

The search's areas reach only part of a large week in its time, and level 4 (prime time in
rotation, fresh harvest sessions, few same-category sessions at once in a province) is spread
over all of it. Moving one new session to another free run *at the same base*, or swapping the
runs of two new sessions of one length at one base, changes neither which sessions are served
(levels 1 and 2) nor any base's used slots (level 3), and a session that is not an input booking
is no tentative booking kept (level 5); so a change that lowers level 4 is a strict lexicographic
gain, and only those are taken. Each change keeps every hard rule: free consecutive slots of one
studio with the needed features, inside the window and the harvest lot, after ``freeze_until``,
and for the participant no overlap, the daily cap, one base per day and, with category
separation, no same-category session of someone else at the base at the same time.

Swaps matter on full weeks: where the warm start packed a base, a session has no free run to move
to, but it can trade runs with a session of another category (on the programme week single moves
alone removed 0.1 % of the province clashes of the solver's start, swaps 10 %).

Level 4 is counted here as the model counts it (``rules/preferences.py``, ``rules/harvest.py``),
except clashes, which are counted as the referee's pairs (different participants, different bases
of one province, overlapping). Sessions are indexed by (province, category, hour), so scoring a
run looks only at the sessions of its own hours: a pass is near-linear in the week's sessions.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from scheduler.candidates import kept_bookings
from scheduler.domain import Assignment, Instance, Request, Slot
from scheduler.rules.category import CLASH_POINTS
from scheduler.rules.harvest import FRESH_POINTS_PER_HOUR
from scheduler.rules.preferences import prime_points

#: Width of one bucket of the clash index, in seconds.
BUCKET_S = 3600


@dataclass(eq=False)
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


def _buckets(start: float, end: float) -> range:
    return range(int(start // BUCKET_S), int((end - 1) // BUCKET_S) + 1)


@dataclass
class _Week:
    """The plan's sessions with the lookups a move needs."""

    inst: Instance
    sessions: list[_Session]
    #: per slot id: start and end in POSIX seconds and the local day's ordinal
    times: dict[str, tuple[float, float, int]]
    used: set[str] = field(default_factory=set)
    by_participant: dict[str, list[_Session]] = field(default_factory=lambda: defaultdict(list))
    #: per base: its sessions (the partners of a swap)
    by_base: dict[str, list[_Session]] = field(default_factory=lambda: defaultdict(list))
    #: (province, category, hour bucket): every session running in that hour
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
        self.by_base[s.base].append(s)
        if s.category:
            for b in _buckets(s.start, s.end):
                self.by_shelf[(s.province, s.category, b)].append(s)

    def remove(self, s: _Session) -> None:
        self.used.difference_update(x.id for x in s.slots)
        self.by_participant[s.participant].remove(s)
        self.by_base[s.base].remove(s)
        if s.category:
            for b in _buckets(s.start, s.end):
                self.by_shelf[(s.province, s.category, b)].remove(s)

    def overlapping(self, s: _Session, start: float, end: float) -> Iterator[_Session]:
        """Sessions of ``s``'s province and category overlapping ``start``..``end``, each once."""
        if not s.category:
            return
        first = int(start // BUCKET_S)
        for b in _buckets(start, end):
            for o in self.by_shelf.get((s.province, s.category, b), ()):
                # count ``o`` in the first bucket both share only
                if max(first, int(o.start // BUCKET_S)) == b and o.start < end and start < o.end:
                    yield o


def polish(
    inst: Instance,
    assignments: list[Assignment],
    deadline: float,
    *,
    movers: frozenset[str] | None = None,
    bases: frozenset[str] | None = None,
) -> list[Assignment]:
    """The plan with single sessions moved, or pairs swapped, within their base while level 4
    improves (by ``deadline``, a ``time.monotonic()`` instant); the input plan must be valid.

    With ``movers`` (request ids) and ``bases``, only those requests' sessions at those bases
    move (one part of a week, ``parts.py``); the rest are held where they are."""
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
            movable=(a.request, a.slots) not in booked
            and (a.request, a.slots) not in kept
            and (movers is None or a.request in movers)
            and (bases is None or base in bases),
        )
        week.place(s, tuple(inst.slot_by_id[x] for x in a.slots))
        week.sessions.append(s)
        week.add(s)
    for step in (_improve, _swap):
        improved = True
        while improved and time.monotonic() < deadline:
            improved = False
            for s in week.sessions:
                if time.monotonic() >= deadline:
                    break
                if s.movable and step(week, s):
                    improved = True
    return [Assignment(s.request.id, tuple(x.id for x in s.slots)) for s in week.sessions]


def _clashes(week: _Week, s: _Session, start: float, end: float) -> int:
    return sum(
        o.participant != s.participant and o.base != s.base for o in week.overlapping(s, start, end)
    )


def _score(week: _Week, s: _Session, slots: tuple[Slot, ...]) -> int:
    """Level-4 cost of ``s`` on ``slots`` (lower is better), with ``s`` out of the week."""
    r = s.request
    cost = 0
    start = week.times[slots[0].id][0]
    if r.prefer_prime and any(x.prime for x in slots):
        cost -= prime_points(week.inst.participant_by_id[s.participant])
    if r.harvest is not None:
        hours = int(start - r.harvest.ready.timestamp()) // 3600
        cost += FRESH_POINTS_PER_HOUR * max(0, hours)
    if s.category:
        cost += CLASH_POINTS * _clashes(week, s, start, week.times[slots[-1].id][1])
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


def _swap(week: _Week, s: _Session) -> bool:
    """Swap ``s``'s run with that of another new session of its length at its base, the best such
    swap, if that lowers level 4 (tried only for a session in a province clash)."""
    if not s.category or not _clashes(week, s, s.start, s.end):
        return False
    n = s.request.length
    partners = [
        o
        for o in week.by_base[s.base]
        if o is not s and o.movable and o.participant != s.participant and o.request.length == n
    ]
    best, best_o = 0, None
    mine = s.slots
    week.remove(s)
    here = _score(week, s, mine)
    at: dict[str, int] = {}  # the score of ``s`` per run start (partners often share times)
    for o in partners:
        # ``o`` stays in the week: it is never a province pair of ``s`` (same base) nor of
        # itself (same participant), and ``skip`` leaves it out of the rule checks
        theirs = o.slots
        key = theirs[0].id
        if key not in at:
            at[key] = _score(week, s, theirs)
        gain = at[key] - here
        if gain >= 0:  # only swaps where ``s`` itself gains (``o``'s own turn finds the others)
            continue
        delta = gain + _score(week, o, mine) - _score(week, o, theirs)
        if (
            delta < best
            and _legal(week, s, theirs, skip=o)
            and _legal(week, o, mine, skip=o)
            and _separate_ok(week, s, theirs, o, mine)
        ):
            best, best_o = delta, o
    if best_o is None:
        week.add(s)
        return False
    o, theirs = best_o, best_o.slots
    week.remove(o)
    week.place(s, theirs)
    week.place(o, mine)
    week.add(s)
    week.add(o)
    return True


def _separate_ok(
    week: _Week, s: _Session, a: tuple[Slot, ...], o: _Session, b: tuple[Slot, ...]
) -> bool:
    """Rule 9 between the two swapped sessions themselves (each was checked against the rest)."""
    if week.inst.policy.category_separation != "base" or not s.category or s.category != o.category:
        return True
    t = week.times
    return not (t[a[0].id][0] < t[b[-1].id][1] and t[b[0].id][0] < t[a[-1].id][1])


def _legal(week: _Week, s: _Session, run: tuple[Slot, ...], skip: _Session | None = None) -> bool:
    """Whether ``s`` (out of the week) may take ``run``, a run of free consecutive slots of one
    studio at its base: features, window, lot, freeze, participant and rule 9."""
    inst, r = week.inst, s.request
    if not r.needs <= inst.studio_by_id[run[0].studio].features:
        return False
    start, _, day = week.times[run[0].id]
    end = week.times[run[-1].id][1]
    t0, t1 = _window(week, s)
    return t0 <= start and end <= t1 and _fits(week, s, start, end, day, skip)


def _window(week: _Week, s: _Session) -> tuple[float, float]:
    r, policy = s.request, week.inst.policy
    lo, hi = r.window_start, r.window_end
    if policy.freeze_until is not None:
        lo = max(lo, policy.freeze_until)
    if r.harvest is not None:
        lo, hi = max(lo, r.harvest.ready), min(hi, r.harvest.best_before)
    return lo.timestamp(), hi.timestamp()


def _fits(
    week: _Week, s: _Session, start: float, end: float, day: int, skip: _Session | None = None
) -> bool:
    """Participant rules (overlap, daily cap, one base a day) and rule 9 for ``s`` at its base,
    as if ``skip`` were out of the week."""
    policy = week.inst.policy
    mine = [o for o in week.by_participant[s.participant] if o is not skip]
    cap = policy.max_sessions_per_day
    if cap is not None and sum(o.day == day for o in mine) >= cap:
        return False
    if policy.same_day_same_base and any(o.day == day and o.base != s.base for o in mine):
        return False
    if any(o.start < end and start < o.end for o in mine):
        return False
    return not (
        policy.category_separation == "base"
        and s.category is not None
        and any(
            o.base == s.base and o.participant != s.participant and o is not skip
            for o in week.overlapping(s, start, end)
        )
    )


def _runs(week: _Week, s: _Session) -> Iterator[tuple[Slot, ...]]:
    """Every legal run for ``s`` at its base (``s`` itself out of the week)."""
    inst, r, times = week.inst, s.request, week.times
    t0, t1 = _window(week, s)
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
            if _fits(week, s, start, end, day):
                yield tuple(run)
