"""Ranking a search: what the participant can book of the kept open slots, one offer per time at
a base, best first — without making an object per slot.

``rank`` takes the groups of ``open_slots`` (one per time at a base, studios plainest first)
in the asked window, leaves out the held slots and the studios the filters rule out, and asks
the participant's own week (``own_week``, the booking service's rule) only about times less than
a day from one of their sessions. A filtered search (or one for runs of slots) keeps a sort key
per offer; an unfiltered one counts its offers from the holds and the refusals and makes keys
only for the bases that can rank high enough. Offers are built only for what is shown
(``Ranking.page``, ``Ranking.best_by_day``): a programme week has ~33,000 of them. Scores, keys
and tie-breaks are those of ``search.group`` over ``slots.find_free_slots``, which stay the
reference (tests compare the two).
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from app.localtime import local_zone
from app.services.booking.offers import Fit, Offer, free_slot, preference_points, time_points
from app.services.booking.open_slots import Group, OpenSlot, OpenSlots
from app.services.booking.own_week import OwnWeek
from app.services.booking.rules import Session, WeekPolicy
from app.services.booking.slots import DAYPARTS, SlotFilter
from scheduler.domain import haversine_km

_A_DAY = timedelta(days=1)


#: How results may be ordered: by fit (default), by time, by distance.
SORTS = ("best", "soonest", "nearest")
#: Slack on a bound compared with a score (they are summed in a different order).
_EPS = 1e-9


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


@dataclass(frozen=True, slots=True)
class _Found:
    """An offer as ranked: its group (or, for a kept group, its position and slots ``ks``,
    made into objects only if the offer is shown)."""

    day: date
    prime: bool
    score: float
    group: Group | None = None
    studios: tuple[OpenSlot, ...] = ()
    pos: int = -1
    ks: tuple[int, ...] = ()


class _Scorer:
    """One offer's score and sort key, as ``search.group`` makes them: the same sums in the same
    order (so the same floats), and last the offer's smallest studio code — two offers of one
    base at one time (two lengths) come in the order the free-slot list gives them."""

    def __init__(self, index: OpenSlots, asked: Asked) -> None:
        self.index = index
        fit, origin = asked.fit, asked.origin
        self.fit, self.now = fit, asked.now
        self.sort = asked.sort if asked.sort in SORTS else "best"
        bases = {p.hub_id: (p.lat, p.lon) for p in index.places.values()}
        self.km = {
            hub: haversine_km(origin[0], origin[1], lat, lon) if origin else None
            for hub, (lat, lon) in bases.items()
        }
        self.km_points = {hub: (k or 0.0) / 100 for hub, k in self.km.items()}
        self.pref_points = {
            p.hub_id: preference_points(p.base_code, fit)
            for p in index.places.values()
            if p.base_code in fit.preferred
        }
        self.t_points: dict[datetime, float] = {}
        self.found: list[_Found] = []

    def time_points(self, start: datetime) -> float:
        if start not in self.t_points:
            self.t_points[start] = time_points(start, self.fit, self.now)
        return self.t_points[start]

    def key(self, g: Group, studios: tuple[OpenSlot, ...]) -> tuple:
        """The offer of ``studios`` (all of ``g`` or some) as its sort key."""
        whole = studios is g.slots
        prime = g.prime if whole else any(s.prime for s in studios)
        points = self.km_points[g.hub_id]
        points += self.time_points(g.start)
        if g.hub_id in self.pref_points:
            points -= self.pref_points[g.hub_id]
        if self.fit.prime and prime:
            points -= 3.0
        code = g.first_code if whole else min(s.place.studio_code for s in studios)
        base_code = studios[0].place.base_code
        self.found.append(_Found(g.day, prime, points, g, studios))
        return self._key(points, g.start, g.hub_id, base_code, code)

    def key_of(self, pos: int, ks: tuple[int, ...]) -> tuple:
        """``key`` for the slots ``ks`` (all or some) of kept group ``pos``, from the columns."""
        index = self.index
        whole = ks is index.members[pos]
        prime = index.prime[pos] if whole else any(index.slot_prime[k] for k in ks)
        hub_id, start = index.hub[pos], index.starts[pos]
        points = self.km_points[hub_id]
        points += self.time_points(start)
        if hub_id in self.pref_points:
            points -= self.pref_points[hub_id]
        if self.fit.prime and prime:
            points -= 3.0
        places, studio = index.places, index.studio
        code = index.first_code[pos] if whole else min(places[studio[k]].studio_code for k in ks)
        self.found.append(_Found(index.day[pos], prime, points, pos=pos, ks=ks))
        return self._key(points, start, hub_id, places[studio[ks[0]]].base_code, code)

    def _key(self, points: float, start: datetime, hub_id: int, base_code: str, code: str):
        n = len(self.found) - 1
        if self.sort == "best":
            return (points, start, base_code, code, n)
        km = self.km[hub_id] or 0.0
        if self.sort == "soonest":
            return (start, km, base_code, code, n)
        return (km, start, base_code, code, n)


class Ranking:
    """Every bookable offer of a search, ranked; offers are built only when asked for."""

    def __init__(self, scorer: _Scorer) -> None:
        self.scorer = scorer

    @property
    def total(self) -> int:
        """How many offers there are."""
        raise NotImplementedError

    def page(self, first: int, count: int) -> list[Offer]:
        """Offers ``first`` .. ``first + count - 1`` in rank order."""
        if count <= 0 or first >= self.total:
            return []
        return [self._offer(k) for k in self._best(None, first + count)[first:]]

    def all(self) -> list[Offer]:
        """Every offer, in rank order."""
        return [self._offer(k) for k in self._best(None, self.total)]

    def best_by_day(self, per_day: int) -> dict[date, tuple[list[Offer], int]]:
        """Each local day's best ``per_day`` offers (in rank order) and how many it has."""
        return {
            day: ([self._offer(k) for k in self._best(day, per_day)], n)
            for day, n in self._day_totals().items()
            if n
        }

    def _best(self, day: date | None, need: int) -> list[tuple]:
        """The ``need`` best sort keys (of one local day, or of all)."""
        raise NotImplementedError

    def _day_totals(self) -> dict[date, int]:
        raise NotImplementedError

    def _offer(self, key: tuple) -> Offer:
        f = self.scorer.found[key[-1]]
        g = f.group if f.group is not None else self.scorer.index.group(f.pos, f.ks)
        km = self.scorer.km[g.hub_id]
        studios = tuple(free_slot(s, km) for s in (f.studios if f.group is not None else g.slots))
        first = studios[0]
        return Offer(
            start=g.start,
            end=g.end,
            base_code=first.base_code,
            base_name=first.base_name,
            city=first.city,
            km=km,
            prime=f.prime,
            studios=studios,
            score=f.score,
            preferred=first.base_code in self.scorer.fit.preferred,
        )


class _Listed(Ranking):
    """A key for every offer, made at once (runs, and searches narrowed by base, studio, time
    of day or end: each slot must be looked at anyway)."""

    def __init__(self, scorer: _Scorer, keys: list[tuple]) -> None:
        super().__init__(scorer)
        self.keys = keys

    @property
    def total(self) -> int:
        return len(self.keys)

    def _best(self, day: date | None, need: int) -> list[tuple]:
        found = self.scorer.found
        keys = self.keys if day is None else [k for k in self.keys if found[k[-1]].day == day]
        return heapq.nsmallest(need, keys)

    def _day_totals(self) -> dict[date, int]:
        return Counter(self.scorer.found[k[-1]].day for k in self.keys)


class _Pruned(Ranking):
    """The whole window, unfiltered: offers are counted from the holds and the participant's
    refusals, and keys are made only for the bases (or times) that can rank high enough —
    bases in order of a bound on their offers' first key part (distance and preference, the
    window's first time term, the prime bonus), stopping when no base left can beat the last
    key wanted."""

    def __init__(
        self,
        scorer: _Scorer,
        index: OpenSlots,
        bounds: tuple[int, int],
        held: set[int],
        refused: set[int],
        trimmed: dict[int, tuple[OpenSlot, ...]],
    ) -> None:
        super().__init__(scorer)
        self.index, (self.i, self.j), self.held = index, bounds, held
        self.held_in: Counter[int] = Counter()
        for slot_id in held:
            pos = index.group_of.get(slot_id)
            if pos is not None and self.i <= pos < self.j:
                self.held_in[pos] += 1
        #: Groups with no free studio, then the groups the participant's week rules out whole.
        self.gone = {pos for pos, n in self.held_in.items() if n == len(index.members[pos])}
        self.gone |= refused
        self.trimmed = trimmed
        self.keys: dict[int, tuple | None] = {}
        self.orders: list[tuple[float, int]] | None = None

    @property
    def total(self) -> int:
        return self.j - self.i - len(self.gone)

    def _key(self, pos: int) -> tuple | None:
        if pos not in self.keys:
            if pos in self.gone:
                self.keys[pos] = None
            else:
                g = self.index.group(pos)
                studios = self.trimmed.get(pos, g.slots)
                if pos in self.held_in and pos not in self.trimmed:
                    studios = tuple(s for s in g.slots if s.id not in self.held)
                self.keys[pos] = self.scorer.key(g, studios)
        return self.keys[pos]

    def _span(self, day: date | None) -> tuple[int, int]:
        if day is None:
            return self.i, self.j
        tz = local_zone()
        lo = datetime.combine(day, time(0), tz)
        starts = self.index.starts
        return (
            bisect_left(starts, lo, self.i, self.j),
            bisect_left(starts, lo + _A_DAY, self.i, self.j),
        )

    def _best(self, day: date | None, need: int) -> list[tuple]:
        lo, hi = self._span(day)
        if need <= 0 or lo >= hi:
            return []
        keys: list[tuple] = []
        if self.scorer.sort == "soonest":  # time first: the earliest times, a time at once
            starts, pos = self.index.starts, lo
            while pos < hi and len(keys) < need:
                last = bisect_right(starts, starts[pos], pos, hi)
                keys.extend(k for k in map(self._key, range(pos, last)) if k is not None)
                pos = last
            return heapq.nsmallest(need, keys)
        sc = self.scorer
        lift = 0.0
        if sc.sort == "best":  # the time term grows with the start; the prime bonus at most 3
            lift = sc.time_points(self.index.starts[lo]) - (3.0 if sc.fit.prime else 0.0)
        worst = math.inf
        for bound, hub in self._orders():
            if len(keys) >= need and bound + lift > worst + _EPS:
                break
            positions = self.index.by_hub[hub]
            a, b = bisect_left(positions, lo), bisect_left(positions, hi)
            if a < b:
                keys.extend(k for k in map(self._key, positions[a:b]) if k is not None)
                if len(keys) >= need:
                    worst = heapq.nsmallest(need, keys)[-1][0]
        return heapq.nsmallest(need, keys)

    def _orders(self) -> list[tuple[float, int]]:
        """The bases by the lower bound of their keys' first part (before the time term)."""
        if self.orders is None:
            sc = self.scorer
            if sc.sort == "best":
                bound = {h: sc.km_points[h] - sc.pref_points.get(h, 0.0) for h in self.index.by_hub}
            else:
                bound = {h: sc.km[h] or 0.0 for h in self.index.by_hub}
            self.orders = sorted((b, h) for h, b in bound.items())
        return self.orders

    def _day_totals(self) -> dict[date, int]:
        if self.i >= self.j:
            return {}
        days = self.index.day
        gone = Counter(days[pos] for pos in self.gone)
        totals = {}
        day, last = days[self.i], days[self.j - 1]
        while day <= last:
            lo, hi = self._span(day)
            totals[day] = hi - lo - gone[day]
            day += _A_DAY
        return totals


def rank(index: OpenSlots, held: set[int], asked: Asked, hidden: Counter[str]) -> Ranking:
    """Every offer ``asked`` finds among the kept slots that are not ``held``; the free slots
    the participant's own week rules out are counted in ``hidden`` by rule."""
    flt = asked.flt
    scorer = _Scorer(index, asked)
    places = _places(index, flt, scorer.km)
    start_from, start_until = asked.start_from, asked.start_until
    if flt.day:  # the day, inside any range given too
        day_from = datetime.combine(flt.day, time(0), local_zone())
        day_until = day_from + _A_DAY
        start_from = day_from if start_from is None else max(start_from, day_from)
        start_until = day_until if start_until is None else min(start_until, day_until)
    i, j = index.bounds(asked.now, start_from, start_until)
    hours = DAYPARTS.get(flt.daypart or "")
    week = OwnWeek(asked.sessions, asked.policies)
    if flt.length == 1 and places is None and hours is None and asked.end_by is None:
        refused, trimmed = week.apply_to_window(index, i, j, held, hidden)
        return _Pruned(scorer, index, (i, j), held, refused, trimmed)
    tz = local_zone()
    in_hours: dict[datetime, bool] = {}

    def in_daypart(start: datetime) -> bool:
        if start not in in_hours:
            in_hours[start] = hours is None or hours[0] <= start.astimezone(tz).hour < hours[1]
        return in_hours[start]

    keys = []
    if flt.length == 1:  # from the columns: objects only for the offers shown
        for pos, ks in _kept_slots(index, (i, j), held, places):
            if hours is not None and not in_daypart(index.starts[pos]):
                continue
            if asked.end_by is not None and index.ends[pos] > asked.end_by:
                continue
            ks = week.allowed_slots(index, pos, ks, hidden)
            if ks:
                keys.append(scorer.key_of(pos, ks))
        return _Listed(scorer, keys)
    for g in _run_groups(index, flt.length, (i, j), held, places, in_daypart):
        if asked.end_by is not None and g.end > asked.end_by:
            continue
        studios = week.allowed(g, g.slots, hidden)
        if studios:
            keys.append(scorer.key(g, studios))
    return _Listed(scorer, keys)


def _kept_slots(
    index: OpenSlots, bounds: tuple[int, int], held: set[int], places: set[int] | None
) -> Iterator[tuple[int, tuple[int, ...]]]:
    """Each group of positions ``bounds`` with its free slots (their k) of the studios
    ``places``; the group's own tuple when that is all of it."""
    ids, studio = index.slot_id, index.studio
    for pos in range(*bounds):
        ks = index.members[pos]
        if places is not None and any(studio[k] not in places for k in ks):
            ks = tuple(k for k in ks if studio[k] in places)
        if any(ids[k] in held for k in ks):
            ks = tuple(k for k in ks if ids[k] not in held)
        if ks:
            yield pos, ks


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
    bounds: tuple[int, int],
    held: set[int],
    places: set[int] | None,
    in_daypart: Callable[[datetime], bool],
) -> list[Group]:
    """Runs of ``length`` consecutive free slots of one studio, each slot in the window (as
    ``slots.runs_of`` makes them), grouped per time at a base like single slots."""
    i, j = bounds
    if i >= j:
        return []
    first, last = index.starts[i], index.starts[j - 1]
    starts, ends, ids = index.slot_start, index.slot_end, index.slot_id
    by_time: dict[tuple[datetime, datetime, int], list[OpenSlot]] = {}
    for studio_id, ks in index.by_studio.items():
        if places is not None and studio_id not in places:
            continue
        free = [
            k
            for k in ks
            if first <= starts[k] <= last and ids[k] not in held and in_daypart(starts[k])
        ]
        for n in range(len(free) - length + 1):
            run = free[n : n + length]
            if all(ends[a] == starts[b] for a, b in zip(run, run[1:], strict=False)):
                unit = index.slot(run[0])._replace(
                    end=ends[run[-1]],
                    codes=tuple(index.code[k] for k in run),
                    prime=any(index.slot_prime[k] for k in run),
                )
                by_time.setdefault((unit.start, unit.end, unit.place.hub_id), []).append(unit)
    days = {index.starts[pos]: index.day[pos] for pos in range(i, j)}
    groups = []
    for (start, end, hub_id), units in by_time.items():
        units.sort(key=lambda s: (len(s.place.features), s.place.studio_code))
        groups.append(
            Group(
                start, end, hub_id, units[0].week_start, days[start], tuple(units),
                any(s.prime for s in units), min(s.place.studio_code for s in units),
                len({s.week_start for s in units}) == 1,
            )
        )  # fmt: skip
    return groups
