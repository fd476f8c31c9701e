"""What-if scenarios: a changed copy of a week, and how its best plan compares with the week's.

Each change is a pure function ``Instance -> Instance`` (the week itself is never touched):
``add_studio`` (a studio with features at a base, with the hours of the base's first studio),
``open_evenings`` (2-hour slots after a base's last slot of each day, until midnight; from 18:00
they are prime), ``block_day`` (a base publishes nothing new on a day), ``close_base`` (nothing
new at a base all week) and ``add_demand`` (a new county's producers beside a base, asking). Bookings that are kept anyway (locked, confirmed, before the freeze)
keep their slots; tentative ones at a closed place are dropped and the copy re-plans them.

``compare(before, before_plan, after, after_plan)`` is the side-by-side: sessions and weighted
sessions served, the worst region, utilization, and who would gain or lose sessions.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from scheduler.candidates import kept_bookings
from scheduler.domain import Base, Instance, Participant, Plan, Request, Slot, Studio
from scheduler.metrics import figures


class ScenarioError(ValueError):
    """A change that does not fit the week (an unknown base, a day outside it); one line."""


def _base(inst: Instance, base_id: str) -> Base:
    base = inst.base_by_id.get(base_id)
    if base is None:
        raise ScenarioError(f"unknown base {base_id}")
    return base


def _slot_ids(inst: Instance, n: int) -> list[str]:
    """``n`` slot ids no slot of the week has."""
    taken, k = set(inst.slot_by_id), 1
    out: list[str] = []
    while len(out) < n:
        sid = f"WI{k:06d}"
        if sid not in taken:
            out.append(sid)
        k += 1
    return out


def _with_slots(inst: Instance, bases: tuple[Base, ...], new: list[Slot]) -> Instance:
    return dataclasses.replace(inst, bases=bases, slots=(*inst.slots, *new))


def add_studio(inst: Instance, base_id: str, features: frozenset[str]) -> Instance:
    """A new studio at ``base_id`` with ``features``, open the hours of the base's first studio
    (the whole horizon, 08:00-24:00 in 2-hour slots when the base has no slot)."""
    base = _base(inst, base_id)
    k = len(base.studios) + 1
    while f"{base_id}-S{k}" in inst.studio_by_id:
        k += 1
    studio = Studio(f"{base_id}-S{k}", base_id, frozenset(features))
    pattern = inst.slots_by_studio.get(base.studios[0].id, ()) if base.studios else ()
    times = [(s.start, s.end, s.prime) for s in pattern] or _default_times(inst)
    ids = _slot_ids(inst, len(times))
    new = [Slot(sid, studio.id, a, b, p) for sid, (a, b, p) in zip(ids, times, strict=True)]
    changed = dataclasses.replace(base, studios=(*base.studios, studio))
    bases = tuple(changed if b.id == base_id else b for b in inst.bases)
    return _with_slots(inst, bases, new)


def _default_times(inst: Instance) -> list[tuple[datetime, datetime, bool]]:
    out = []
    for d in range(inst.horizon_days):
        day = inst.horizon_start + timedelta(days=d)
        for h in range(8, 24, 2):
            start = datetime.combine(day, time(h), inst.tz)
            out.append((start, start + timedelta(hours=2), 18 <= h < 22))
    return out


def open_evenings(inst: Instance, base_id: str) -> Instance:
    """2-hour slots after each studio's last slot of each day at ``base_id``, until midnight."""
    base = _base(inst, base_id)
    times: list[tuple[str, datetime, datetime, bool]] = []
    for studio in base.studios:
        last: dict[date, datetime] = {}
        for s in inst.slots_by_studio.get(studio.id, ()):
            day = inst.local_day(s.start)
            last[day] = max(last.get(day, s.end), s.end)
        for day, end in sorted(last.items()):
            midnight = datetime.combine(day + timedelta(days=1), time(0), inst.tz)
            t = end
            while t + timedelta(hours=2) <= midnight:
                hour = t.astimezone(inst.tz).hour
                times.append((studio.id, t, t + timedelta(hours=2), 18 <= hour < 22))
                t += timedelta(hours=2)
    ids = _slot_ids(inst, len(times))
    new = [Slot(sid, st, a, b, p) for sid, (st, a, b, p) in zip(ids, times, strict=True)]
    return _with_slots(inst, inst.bases, new)


def _without(inst: Instance, drop: set[str]) -> Instance:
    """The week without the free slots ``drop`` (slots kept bookings hold stay) and without the
    tentative bookings that used any of them."""
    kept = kept_bookings(inst)
    held = {s for b in kept for s in b.slots}
    gone = drop - held
    bookings = tuple(b for b in inst.bookings if b in kept or not gone & set(b.slots))
    slots = tuple(s for s in inst.slots if s.id not in gone)
    return dataclasses.replace(inst, slots=slots, bookings=bookings)


def block_day(inst: Instance, base_id: str, day: date) -> Instance:
    """Nothing new at ``base_id`` on ``day`` (a local calendar day of the week)."""
    _base(inst, base_id)
    if not 0 <= (day - inst.horizon_start).days < inst.horizon_days:
        raise ScenarioError(f"{day.isoformat()} is not a day of the week")
    drop = {
        s.id
        for s in inst.slots
        if inst.base_of_slot(s.id) == base_id and inst.local_day(s.start) == day
    }
    return _without(inst, drop)


def close_base(inst: Instance, base_id: str) -> Instance:
    """Nothing new at ``base_id`` all week."""
    _base(inst, base_id)
    return _without(inst, {s.id for s in inst.slots if inst.base_of_slot(s.id) == base_id})


#: The requests a new county's producers file in ``add_demand``: one 2-hour session each, any
#: base within this distance, any day of the week.
DEMAND_MAX_KM = 300.0


def add_demand(inst: Instance, base_id: str, count: int) -> Instance:
    """The demand of a new county next to ``base_id``: ``count`` producers (priority 3, the
    programme's) at the base's place, each asking for one session within ``DEMAND_MAX_KM``."""
    base = _base(inst, base_id)
    if not 1 <= count <= 10_000:
        raise ScenarioError("the added demand must be 1 to 10000 requests")
    start = datetime.combine(inst.horizon_start, time(0), inst.tz)
    end = start + timedelta(days=inst.horizon_days)
    people, requests = [], []
    for k in range(1, count + 1):
        pid, rid = f"PW{base_id}-{k:04d}", f"RW{base_id}-{k:04d}"
        people.append(
            Participant(pid, f"{base.city or base.name} {k}", "producer", base.province,
                        base.region, base.lat, base.lon, 3)
        )  # fmt: skip
        requests.append(Request(rid, pid, 1, 1, start, end, None, DEMAND_MAX_KM, frozenset()))
    return dataclasses.replace(
        inst,
        participants=(*inst.participants, *people),
        requests=(*inst.requests, *requests),
    )


@dataclass(frozen=True)
class Comparison:
    """The two plans' figures (the referee's keys) and who gains or loses sessions."""

    before: dict[str, Any]
    after: dict[str, Any]
    gains: dict[str, int]
    losses: dict[str, int]

    ROWS = (
        "sessions_served",
        "weighted_served",
        "min_region_ratio",
        "utilization_stdev",
        "bases_over_target",
        "prime_winners_mean_recent",
        "harvest_mean_hours_after_ready",
        "category_clashes_province",
    )

    def table(self) -> list[tuple[str, Any, Any]]:
        """(figure, before, after) rows."""
        return [(k, self.before.get(k), self.after.get(k)) for k in self.ROWS]


def compare(before: Instance, before_plan: Plan, after: Instance, after_plan: Plan) -> Comparison:
    """Figures of both plans and, per participant, sessions gained or lost in the copy."""
    got_before = _sessions_by_participant(before, before_plan)
    got_after = _sessions_by_participant(after, after_plan)
    people = set(got_before) | set(got_after)
    delta = {p: got_after[p] - got_before[p] for p in people}
    return Comparison(
        before=figures(before, before_plan),
        after=figures(after, after_plan),
        gains={p: n for p, n in sorted(delta.items()) if n > 0},
        losses={p: -n for p, n in sorted(delta.items()) if n < 0},
    )


def _sessions_by_participant(inst: Instance, plan: Plan) -> Counter[str]:
    return Counter(
        inst.request_by_id[a.request].participant
        for a in plan.assignments
        if a.request in inst.request_by_id
    )
