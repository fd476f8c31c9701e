"""Ranking a search: what the participant can book of the kept open slots, one offer per time at
a base, best first — without making an object per slot.

``rank`` walks the groups of ``open_slots`` (one per time at a base, studios plainest first)
in the asked window, drops the held slots and the studios the filters rule out, asks the
participant's own week (``rules.participant_week_refusal``, as booking does) only about times
less than a day from one of their sessions, and keeps one sort key per offer. Offers are built
only for what is shown (``Ranking.page``, ``Ranking.best_by_day``): a programme week has ~33,000
of them. The keys, scores and tie-breaks are those of ``search.group`` over
``slots.find_free_slots``, which stay the reference (tests compare the two).
"""

from __future__ import annotations

import heapq
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

from app.localtime import local_zone
from app.services.booking.open_slots import Group, OpenSlot, OpenSlots
from app.services.booking.rules import Session, WeekPolicy, participant_week_refusal
from app.services.booking.slots import DAYPARTS, FreeSlot, SlotFilter
from scheduler.domain import haversine_km

_A_DAY = timedelta(days=1)
#: A base no session is at: a time's answer for every such base (rule 6 compares bases only
#: with the bases of the participant's sessions that day).
_ANOTHER_BASE = -1


@dataclass(frozen=True)
class Fit:
    """What ranks a result for one participant."""

    #: Base codes the participant prefers, best first.
    preferred: tuple[str, ...] = ()
    prime: bool = False
    #: The best-before of a harvest lot waiting to be sold: sooner is better until then.
    fresh_until: datetime | None = None


@dataclass(frozen=True)
class Offer:
    """One time at one base: the studios free then that the participant can book."""

    start: datetime
    end: datetime
    base_code: str
    base_name: str
    city: str
    km: float | None
    prime: bool
    #: The bookable studios (each a slot or a run of slots), plainest studio first.
    studios: tuple[FreeSlot, ...]
    score: float
    preferred: bool = False

    @property
    def count(self) -> int:
        return len(self.studios)

    @property
    def first(self) -> FreeSlot:
        return self.studios[0]

    @property
    def features(self) -> tuple[str, ...]:
        """Every feature one of the studios has."""
        return tuple(sorted({f for s in self.studios for f in s.features}))


def time_points(start: datetime, fit: Fit, now: datetime) -> float:
    """The time term of the fit: 0.25 point per day from now (2 a day while a harvest lot
    waits, and 10 more after its best-before)."""
    days = max(0.0, (start - now).total_seconds() / 86400)
    if fit.fresh_until is not None:
        return 2.0 * days + (10.0 if start >= fit.fresh_until else 0.0)
    return 0.25 * days


def preference_points(base_code: str, fit: Fit) -> float:
    """The preference term: 4 points for the first preferred base, 0.5 less for each next one."""
    if base_code in fit.preferred:
        return 4.0 - 0.5 * min(fit.preferred.index(base_code), 6)
    return 0.0


def score(r: FreeSlot, fit: Fit, now: datetime) -> float:
    """The fit of one result in points (lower is better; see ``search``'s docstring)."""
    points = (r.km or 0.0) / 100
    points += time_points(r.start, fit, now)
    if r.base_code in fit.preferred:
        points -= preference_points(r.base_code, fit)
    if fit.prime and r.prime:
        points -= 3.0
    return points


#: What orders the offers for each ``sort`` (``best`` for an unknown one). The last part of
#: every key is the offer's smallest studio code: two offers of one base at one time (two
#: lengths) come in the order the free-slot list gives them.
SORTS = ("best", "soonest", "nearest")


@dataclass(frozen=True, slots=True)
class _Found:
    group: Group
    studios: tuple[OpenSlot, ...]
    prime: bool
    score: float


@dataclass
class Ranking:
    """Every bookable offer of a search as a sort key; offers are built when asked for."""

    keys: list[tuple] = field(default_factory=list)
    found: list[_Found] = field(default_factory=list)
    km: dict[int, float | None] = field(default_factory=dict)
    preferred: tuple[str, ...] = ()

    @property
    def total(self) -> int:
        return len(self.keys)

    def page(self, first: int, count: int) -> list[Offer]:
        """Offers ``first`` .. ``first + count - 1`` in rank order."""
        if first >= len(self.keys) or count <= 0:
            return []
        best = heapq.nsmallest(first + count, self.keys)
        return [self._offer(key[-1]) for key in best[first:]]

    def all(self) -> list[Offer]:
        return [self._offer(key[-1]) for key in sorted(self.keys)]

    def best_by_day(self, per_day: int) -> dict[date, tuple[list[Offer], int]]:
        """Each local day's best ``per_day`` offers (in rank order) and how many it has."""
        by_day: dict[date, list[tuple]] = {}
        for key in self.keys:
            by_day.setdefault(self.found[key[-1]].group.day, []).append(key)
        return {
            day: ([self._offer(k[-1]) for k in heapq.nsmallest(per_day, keys)], len(keys))
            for day, keys in by_day.items()
        }

    def _offer(self, n: int) -> Offer:
        f = self.found[n]
        km = self.km[f.group.hub_id]
        studios = tuple(free_slot(s, km) for s in f.studios)
        first = studios[0]
        return Offer(
            start=f.group.start,
            end=f.group.end,
            base_code=first.base_code,
            base_name=first.base_name,
            city=first.city,
            km=km,
            prime=f.prime,
            studios=studios,
            score=f.score,
            preferred=first.base_code in self.preferred,
        )


def free_slot(s: OpenSlot, km: float | None) -> FreeSlot:
    """A kept slot (or run) as the result list shows it."""
    p = s.place
    return FreeSlot(
        s.code, s.start, s.end, s.prime, p.studio_code, p.studio_name, p.features,
        p.base_code, p.base_name, p.city, p.province, p.region, km,
        codes=s.codes, hub_id=p.hub_id, week_start=s.week_start,
    )  # fmt: skip


@dataclass
class Asked:
    """One search's question: the filter, the window, the person and their week."""

    flt: SlotFilter
    #: Where the participant is (latitude, longitude): distances are from there.
    origin: tuple[float, float] | None
    now: datetime
    start_from: datetime | None
    start_until: datetime | None
    end_by: datetime | None
    sessions: Sequence[Session]
    policies: dict[date, WeekPolicy]
    fit: Fit
    sort: str


def rank(index: OpenSlots, held: set[int], asked: Asked, hidden: Counter[str]) -> Ranking:
    """Every offer ``asked`` finds among the kept slots that are not ``held``, as sort keys;
    the free slots the participant's own week rules out are counted in ``hidden`` by rule."""
    flt, fit, now = asked.flt, asked.fit, asked.now
    origin = asked.origin
    km = {
        p.hub_id: haversine_km(origin[0], origin[1], p.lat, p.lon) if origin else None
        for p in index.places.values()
    }
    places = _places(index, flt, km)
    start_from, start_until = asked.start_from, asked.start_until
    if flt.day:  # the day, inside any range given too
        day_from = datetime.combine(flt.day, time(0), local_zone())
        day_until = day_from + _A_DAY
        start_from = day_from if start_from is None else max(start_from, day_from)
        start_until = day_until if start_until is None else min(start_until, day_until)
    window = index.window(now, start_from, start_until)
    groups: Iterable[Group] = window
    hours = DAYPARTS.get(flt.daypart or "")
    tz = local_zone()
    in_hours: dict[datetime, bool] = {}

    def in_daypart(start: datetime) -> bool:
        if start not in in_hours:
            in_hours[start] = hours is None or hours[0] <= start.astimezone(tz).hour < hours[1]
        return in_hours[start]

    if flt.length > 1:  # every slot of a run in the window and the time of day
        groups = _run_groups(index, flt.length, window, held, places, in_daypart)
        held, places = set(), None
    session_starts = sorted(s.start for s in asked.sessions)
    session_hubs = {s.hub_id for s in asked.sessions}
    near: dict[datetime, bool] = {}
    refusals: dict[tuple, str | None] = {}
    t_points: dict[datetime, float] = {}
    km_points = {hub: (k or 0.0) / 100 for hub, k in km.items()}
    pref_points = {
        p.hub_id: preference_points(p.base_code, fit)
        for p in index.places.values()
        if p.base_code in fit.preferred
    }
    sort = asked.sort if asked.sort in SORTS else "best"
    ranking = Ranking(km=km, preferred=fit.preferred)
    keys, found = ranking.keys, ranking.found
    for g in groups:
        start = g.start
        if hours is not None and not in_daypart(start):
            continue
        if asked.end_by is not None and g.end > asked.end_by:
            continue
        studios = g.slots
        if places is not None or not g.ids.isdisjoint(held):
            studios = tuple(
                s
                for s in studios
                if s.id not in held and (places is None or s.place.studio_id in places)
            )
            if not studios:
                continue
        if session_starts:
            if start not in near:
                k = bisect_left(session_starts, start - _A_DAY)
                near[start] = k < len(session_starts) and session_starts[k] <= start + _A_DAY
            if near[start]:
                base = g.hub_id if g.hub_id in session_hubs else _ANOTHER_BASE
                kept = []
                for s in studios:
                    asks = (start, g.end, base, s.week_start)
                    if asks not in refusals:
                        refusal = participant_week_refusal(
                            asked.sessions, start, g.end, base, asked.policies[s.week_start]
                        )
                        refusals[asks] = refusal[0] if refusal is not None else None
                    rule = refusals[asks]
                    if rule is None:
                        kept.append(s)
                    else:
                        hidden[rule] += 1
                if len(kept) < len(studios):
                    studios = tuple(kept)
                    if not studios:
                        continue
        prime = g.prime if studios is g.slots else any(s.prime for s in studios)
        if start not in t_points:
            t_points[start] = time_points(start, fit, now)
        points = km_points[g.hub_id]
        points += t_points[start]
        if g.hub_id in pref_points:
            points -= pref_points[g.hub_id]
        if fit.prime and prime:
            points -= 3.0
        code = g.first_code if studios is g.slots else min(s.place.studio_code for s in studios)
        base_code = studios[0].place.base_code
        n = len(found)
        found.append(_Found(g, studios, prime, points))
        if sort == "best":
            keys.append((points, start, base_code, code, n))
        elif sort == "soonest":
            keys.append((start, km[g.hub_id] or 0.0, base_code, code, n))
        else:
            keys.append((km[g.hub_id] or 0.0, start, base_code, code, n))
    return ranking


def _places(index: OpenSlots, flt: SlotFilter, km: dict[int, float | None]) -> set[int] | None:
    """The studios the filter keeps (None: every studio)."""
    if not (flt.region or flt.province or flt.base or flt.bases or flt.features) and (
        flt.max_km is None
    ):
        return None
    kept = set()
    for p in index.places.values():
        if flt.region and p.region != flt.region:
            continue
        if flt.province and p.province != flt.province:
            continue
        if flt.base and p.base_code != flt.base:
            continue
        if flt.bases and p.base_code not in flt.bases:
            continue
        if flt.features and not flt.features <= set(p.features):
            continue
        d = km[p.hub_id]
        if flt.max_km is not None and d is not None and d > flt.max_km:
            continue
        kept.add(p.studio_id)
    return kept


def _run_groups(
    index: OpenSlots,
    length: int,
    window: list[Group],
    held: set[int],
    places: set[int] | None,
    in_daypart: Callable[[datetime], bool],
) -> list[Group]:
    """Runs of ``length`` consecutive free slots of one studio, each slot in the window (as
    ``slots.runs_of`` makes them), grouped per time at a base like single slots."""
    if not window:
        return []
    first, last = window[0].start, window[-1].start
    by_time: dict[tuple[datetime, datetime, int], list[OpenSlot]] = {}
    for studio_id, slots in index.by_studio.items():
        if places is not None and studio_id not in places:
            continue
        free = [
            s
            for s in slots
            if first <= s.start <= last and s.id not in held and in_daypart(s.start)
        ]
        for i in range(len(free) - length + 1):
            run = free[i : i + length]
            if all(a.end == b.start for a, b in zip(run, run[1:], strict=False)):
                head = run[0]
                unit = replace(
                    head,
                    end=run[-1].end,
                    codes=tuple(s.code for s in run),
                    prime=any(s.prime for s in run),
                )
                by_time.setdefault((head.start, unit.end, head.place.hub_id), []).append(unit)
    days = {g.start: g.day for g in window}
    groups = []
    for (start, end, hub_id), units in by_time.items():
        units.sort(key=lambda s: (len(s.place.features), s.place.studio_code))
        groups.append(
            Group(
                start, end, hub_id, units[0].week_start, days[start], tuple(units),
                frozenset(), any(s.prime for s in units), min(s.place.studio_code for s in units),
            )
        )  # fmt: skip
    return groups
