"""Candidate placements: every way one session of one request could be placed, exactly.

A naive model has one boolean per (request, studio, start slot): 11 million on the national week.
This module shrinks that in three exact steps; what is left is still too big for one model on a
national week, which is why the search re-solves one area at a time (``lns.py``, ``area=``).

1. **Kept bookings are constants, not variables.** Every locked or confirmed booking, and every
   booking that starts before ``freeze_until``, is copied into the plan as it is (rules 7 and 8);
   so are the ``fixed`` sessions of the search's incumbent outside the current area. Their slots
   leave the studios' timetables; their sessions use up the participant's daily cap, fix the
   participant's base for that day (same-day-same-base) and block overlapping times; their
   request needs fewer sessions. A candidate that could only break one of these is never created.
2. **Eligibility is decided here, not in the model.** Window (rule 4), allowed bases, ``max_km`` and
   features (rule 5; per participant over every base at once, ``reach.Reach.eligible``), consecutive slots of one studio (rule 1), "nothing new before
   ``freeze_until``" (rule 8), the harvest lot's dates (rule 10) and, with category separation, no
   kept same-category session of someone else at the base then (rule 9) are checked once per
   candidate, so the model never sees a variable that would break them. Each is one named
   function in ``placement.py`` (``inside_window``, ``allowed_base``, ``within_reach``, ``has_features``,
   ``runs_of``, ``frozen``, ``kept_by_status``, ``inside_harvest``, ``apart_from_kept_rivals``,
   and ``clear_of_kept`` / ``day_open`` for rule 6 against kept sessions). Input bookings that
   already break rule 9 or 10 are exempt while unchanged and kept (``exempt_bookings``).
3. **Identical studio-days are one machine class.** No session crosses midnight (a slot ending at
   24:00 is not consecutive with one starting at 08:00), so a studio's days are independent
   machines. Studio-days of one base with the same features and the same free slots (same start,
   end and prime flag) are identical machines; a class of ``k`` of them takes a set of sessions
   (intervals) iff no instant is covered more than ``k`` times (interval graphs are perfect), and
   assigning sessions by start time to any free studio realises it (see ``studios.py``). So a
   variable is one (request, class, start position), and capacity is a count per position.
   (On the samples most studios of a base differ in features, so this saves ~10 %; generated
   weeks with uniform studios gain more.)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from scheduler.domain import Booking, Instance, Request, Slot
from scheduler.memo import WeekMemo
from scheduler.placement import (
    apart_from_kept_rivals,
    clear_of_kept,
    day_open,
    exempt_bookings,
    frozen,
    harvest_minutes,
    has_features,
    inside_harvest,
    inside_window,
    kept_by_status,
    minute,
    runs_of,
    window_minutes,
)
from scheduler.reach import Reach

#: What makes studio-days identical machines: base, features, day and (start, end, prime) per slot.
ClassKey = tuple[str, frozenset[str], int, tuple[tuple[int, int, bool], ...]]


@dataclass(frozen=True)
class StudioClass:
    """Identical studio-days of one base: ``slots[m][j]`` is studio ``m``'s slot at position ``j``."""

    index: int
    base: str
    features: frozenset[str]
    day: int
    studios: tuple[str, ...]
    slots: tuple[tuple[str, ...], ...]
    starts: tuple[int, ...]  # minutes since the epoch, one per position
    ends: tuple[int, ...]
    prime: tuple[bool, ...]

    @property
    def size(self) -> int:
        """How many identical studios the class stands for: its capacity at every position."""
        return len(self.studios)

    @property
    def name(self) -> str:
        """A readable name for variable and constraint names (base, day, features, index)."""
        return f"{self.base}/d{self.day}/{'+'.join(sorted(self.features)) or 'plain'}#{self.index}"


@dataclass
class Candidates:
    """The placement space of one week (or one area), in parallel lists (one entry per candidate)."""

    instance: Instance
    kept: list[Booking]
    classes: list[StudioClass]
    req: list[int] = field(default_factory=list)  # index into instance.requests
    cls: list[int] = field(default_factory=list)
    pos: list[int] = field(default_factory=list)
    length: list[int] = field(default_factory=list)
    start: list[int] = field(default_factory=list)
    end: list[int] = field(default_factory=list)
    day: list[int] = field(default_factory=list)
    prime: list[bool] = field(default_factory=list)
    #: sessions each request may still get once its kept bookings are counted
    open_sessions: dict[int, int] = field(default_factory=dict)
    #: (participant, day) -> sessions already kept that day; and the base they fix
    kept_per_day: dict[tuple[str, int], int] = field(default_factory=dict)
    kept_base: dict[tuple[str, int], str] = field(default_factory=dict)
    #: where a (studio, first slot id) lies: (class index, position)
    where: dict[str, tuple[int, int]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.req)

    def key(self, i: int) -> tuple[int, int, int]:
        """What identifies a placement across models: (request, class, position)."""
        return (self.req[i], self.cls[i], self.pos[i])

    def base(self, i: int) -> str:
        """The base of candidate ``i`` (balance and same-day-same-base group by it)."""
        return self.classes[self.cls[i]].base

    def request(self, i: int) -> Request:
        """The request of candidate ``i``."""
        return self.instance.requests[self.req[i]]

    def index_of(self) -> dict[tuple[int, int, int], int]:
        """Lookup from (request, class, position) to candidate index."""
        return {self.key(i): i for i in range(len(self.req))}


def day_index(inst: Instance, t: datetime) -> int:
    """Whole days from the horizon's start to the local calendar day of ``t``."""
    return (inst.local_day(t) - inst.horizon_start).days


# ---------------------------------------------------------------------------- the placement space


def kept_bookings(inst: Instance) -> list[Booking]:
    """Bookings that must stay exactly as they are: locked, confirmed, or starting before the
    freeze; and tentative ones that already break rule 9 or 10 (:func:`exempt_bookings`)."""
    memo = _memo(inst)
    if memo.kept is None:
        exempt = exempt_bookings(inst)
        memo.kept = [
            b
            for k, b in enumerate(inst.bookings)
            if kept_by_status(b) or frozen(inst, inst.slot_by_id[b.slots[0]].start) or k in exempt
        ]
    return list(memo.kept)


@dataclass
class _Memo:
    """What the search asks of one week again for every area: its kept bookings and, per slot
    id, (start minute, end minute, day index). The week is immutable, so they never go stale."""

    kept: list[Booking] | None = None
    times: dict[str, tuple[int, int, int]] = field(default_factory=dict)

    def slot_times(self, inst: Instance, slot_id: str) -> tuple[int, int, int]:
        """(start minute, end minute, day index) of a slot of ``inst``."""
        t = self.times.get(slot_id)
        if t is None:
            s = inst.slot_by_id[slot_id]
            t = self.times[slot_id] = (minute(s.start), minute(s.end), day_index(inst, s.start))
        return t


_MEMO: WeekMemo[_Memo] = WeekMemo()


def _memo(inst: Instance) -> _Memo:
    """The memo of ``inst`` (one week at a time: the one being solved)."""
    return _MEMO.get(inst) or _MEMO.put(inst, None, _Memo())


def build_classes(
    inst: Instance, held: set[str], area: set[tuple[str, int]] | None = None
) -> tuple[list[StudioClass], dict[str, tuple[int, int]]]:
    """Group free studio-days (of ``area``'s base-days, if given) into identical machine classes;
    also map each free slot to its (class, position)."""
    bases = None if area is None else {b for b, _ in area}
    memo = _memo(inst)
    groups: dict[ClassKey, list[tuple[str, list[Slot]]]] = defaultdict(list)
    for studio_id, slots in inst.slots_by_studio.items():
        studio = inst.studio_by_id[studio_id]
        if bases is not None and studio.base not in bases:
            continue
        by_day: dict[int, list[Slot]] = defaultdict(list)
        for s in slots:
            if s.id in held or frozen(inst, s.start):
                continue
            by_day[memo.slot_times(inst, s.id)[2]].append(s)
        for d, day_slots in by_day.items():
            if area is not None and (studio.base, d) not in area:
                continue
            shape = tuple((*memo.slot_times(inst, s.id)[:2], s.prime) for s in day_slots)
            groups[(studio.base, studio.features, d, shape)].append((studio_id, day_slots))
    classes: list[StudioClass] = []
    where: dict[str, tuple[int, int]] = {}
    order = sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][2], kv[1][0][0]))
    for (base, features, d, shape), members in order:
        c = StudioClass(
            index=len(classes),
            base=base,
            features=features,
            day=d,
            studios=tuple(m[0] for m in members),
            slots=tuple(tuple(s.id for s in m[1]) for m in members),
            starts=tuple(x[0] for x in shape),
            ends=tuple(x[1] for x in shape),
            prime=tuple(x[2] for x in shape),
        )
        for row in c.slots:
            for j, sid in enumerate(row):
                where[sid] = (c.index, j)
        classes.append(c)
    return classes, where


def eligible_bases(inst: Instance, r: Request) -> list[str]:
    """Bases a request may use (rule 5: allowed list and ``max_km``); features are checked per class."""
    reach = Reach(inst)
    return reach.names(reach.eligible(r))


def eligibility(inst: Instance) -> list[list[str]]:
    """Eligible bases of every request, by request index (computed once per solve).

    Distances are measured per request for the bases it can reach, all at once (``Reach``): the
    week's requests against its bases is 33 million pairs on the programme week, too many one by
    one.
    """
    reach = Reach(inst)
    return [reach.names(reach.eligible(r)) for r in inst.requests]


def generate(
    inst: Instance,
    *,
    fixed: tuple[Booking, ...] = (),
    area: set[tuple[str, int]] | None = None,
    eligible: list[list[str]] | None = None,
    only: set[int] | None = None,
) -> Candidates:
    """Every eligible placement of every open session (of ``area``, if given).

    ``fixed`` sessions are held like kept bookings and only ``area``'s (base, day) pairs get
    candidates: that is one neighbourhood of the large-neighbourhood search (``lns.py``).
    ``only`` restricts the candidates to those requests (by index), e.g. when the search moves the
    sessions an area already holds and nobody else may enter it.
    """
    kept = kept_bookings(inst) + list(fixed)
    held = {s for b in kept for s in b.slots}
    classes, where = build_classes(inst, held, area)
    eligible = eligibility(inst) if eligible is None else eligible
    area_bases = None if area is None else {b for b, _ in area}
    cands = Candidates(instance=inst, kept=kept, classes=classes, where=where)
    policy = inst.policy

    # Requests that may get a candidate: every one, or those that may use a base of the area.
    involved: Iterable[int]
    if area_bases is None:
        involved = range(len(inst.requests))
    else:
        at = _requests_at(inst, eligible)
        involved = sorted({ri for b in area_bases for ri in at.get(b, ())})
    if only is not None:
        involved = [ri for ri in involved if ri in only]
    # In an area, a kept or fixed session matters only to a participant who may get a candidate
    # there, or (rule 9) as a rival at a base of the area; the others are skipped, not measured.
    relevant = None if area_bases is None else {inst.requests[ri].participant for ri in involved}

    kept_count: dict[str, int] = defaultdict(int)
    busy: dict[str, list[tuple[int, int]]] = defaultdict(list)
    # Rule 9: kept sessions per (base, category), which new ones of others may not overlap.
    separate = policy.category_separation == "base"
    rivals: dict[tuple[str, str], list[tuple[int, int, str]]] = defaultdict(list)
    memo = _memo(inst)
    for b in kept:
        pid = inst.request_by_id[b.request].participant
        base = inst.base_of_slot(b.slots[0])
        mine = relevant is None or pid in relevant
        category = inst.participant_by_id[pid].category if separate else None
        rival = bool(category) and (area_bases is None or base in area_bases)
        if not (mine or rival):
            continue
        start, _, d = memo.slot_times(inst, b.slots[0])
        end = memo.slot_times(inst, b.slots[-1])[1]
        if mine:
            kept_count[b.request] += 1
            cands.kept_per_day[(pid, d)] = cands.kept_per_day.get((pid, d), 0) + 1
            cands.kept_base[(pid, d)] = base
            busy[pid].append((start, end))
        if rival:
            rivals[(base, category or "")].append((start, end, pid))

    by_base_day: dict[tuple[str, int], list[StudioClass]] = defaultdict(list)
    for c in classes:
        by_base_day[(c.base, c.day)].append(c)
    run_cache: dict[tuple[int, int], list[int]] = {}

    def runs(c: StudioClass, length: int) -> list[int]:
        key = (c.index, length)
        if key not in run_cache:
            run_cache[key] = runs_of(c, length)
        return run_cache[key]

    # Per open request: its eligible bases and the days its window touches.
    open_reqs = []
    for ri in involved:
        r = inst.requests[ri]
        n_open = r.sessions - kept_count[r.id]
        if n_open <= 0:
            continue
        bases = eligible[ri]
        if area_bases is not None:
            bases = [b for b in bases if b in area_bases]
            if not bases:
                continue
        cands.open_sessions[ri] = n_open
        d0 = day_index(inst, r.window_start)
        d1 = day_index(inst, r.window_end)
        days = range(d0, d1 + 1)  # days without classes simply have no candidates
        open_reqs.append((ri, r, bases, days))

    for ri, r, bases, days in open_reqs:
        p = r.participant
        window, lot = window_minutes(r), harvest_minutes(r)
        blocked = busy.get(p, ())
        category = inst.participant_by_id[p].category if separate else None
        for base in bases:
            shelf = [(s0, s1) for s0, s1, q in rivals.get((base, category or ""), ()) if q != p]
            for d in days:
                if not day_open(policy, cands, p, d, base):
                    continue
                for c in by_base_day.get((base, d), ()):
                    if not has_features(r.needs, c.features):
                        continue
                    starts = inside_window(window, c, r.length, runs(c, r.length))
                    starts = inside_harvest(lot, c, r.length, starts)
                    starts = apart_from_kept_rivals(shelf, c, r.length, starts)
                    for j in clear_of_kept(blocked, c, r.length, starts):
                        cands.req.append(ri)
                        cands.cls.append(c.index)
                        cands.pos.append(j)
                        cands.length.append(r.length)
                        cands.start.append(c.starts[j])
                        cands.end.append(c.ends[j + r.length - 1])
                        cands.day.append(c.day)
                        cands.prime.append(any(c.prime[j : j + r.length]))
    return cands


_REQUESTS_AT: WeekMemo[dict[str, list[int]]] = WeekMemo()


def _requests_at(inst: Instance, eligible: list[list[str]]) -> dict[str, list[int]]:
    """Requests (by index) that may use each base; kept per eligibility table of the week."""
    at = _REQUESTS_AT.get(inst, eligible)
    if at is None:
        out: dict[str, list[int]] = defaultdict(list)
        for ri, bases in enumerate(eligible):
            for b in bases:
                out[b].append(ri)
        at = _REQUESTS_AT.put(inst, eligible, out)
    return at
