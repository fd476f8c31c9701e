"""Large-neighbourhood search: re-solve one area of the week at a time, the rest held fixed.

A national week has ~11 million placements; even pruned to 425k, one model of it took 26 s to
build and was still in presolve 20 s later (and sample-medium's 408k whole-week model reached
3,620 in 100 s, where this search reaches 3,690). The week decomposes well in space and time,
though: a session only competes with sessions at the same base on the same day, and only through
its participant with the rest of the week. So the search keeps an incumbent plan and repeatedly

1. picks an *area*, a set of (base, day) pairs: for levels 1-2 (``served_area``) around a
   request that still misses sessions (its eligible bases, its window's days, and the bases the
   sessions already there could move to); for levels 3-5 (``balance_area``) one of the busiest
   bases with the idlest bases its sessions could use, all week;
2. builds the exact model of that area (``candidates.generate(fixed=..., area=...)``): the
   incumbent's sessions elsewhere are held like kept bookings, so every hard rule still holds
   across the boundary, and the objective's constants (regional counts, base utilization, kept
   tentative bookings) include them;
3. solves it with CP-SAT from the incumbent as a complete hint (so it never returns worse), and
   takes the answer if it is at least as good on the stage's levels.

The area grows while CP-SAT closes it well inside the time given and shrinks when it cannot.
When the whole week is small enough, the first area is the whole week. Requests around which an
area brought nothing are drawn less often (their weight halves each time).
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from scheduler.candidates import day_index, eligibility, generate, kept_bookings
from scheduler.cpsat import Solutions, hint_indices, make_solver
from scheduler.domain import Assignment, Booking, Instance
from scheduler.model import STAGES, build
from scheduler.studios import assign_studios

#: Weeks with at most about this many candidates are first solved as one model.
FULL_MODEL_CANDIDATES = 40_000
#: Stage 1 hands over to stage 2 after this share of the time without a gain.
STALL_SHARE = 0.15
#: CP-SAT time per area (the area grows while it is solved faster than this, shrinks otherwise).
AREA_SECONDS = 1.5


@dataclass
class Search:
    """The incumbent (new sessions only; kept bookings are implicit) and what the search learnt."""

    instance: Instance
    sessions: list[Assignment]
    workers: int
    rng: random.Random
    eligible: list[list[str]] = field(default_factory=list)
    area_bases: int = 6
    #: bases per balance area (levels 3-5): small areas, many of them
    balance_bases: int = 3
    #: bases per spotlight area (one province, three days; level 4)
    spotlight_bases: int = 4
    #: how often an area around each request was tried without gain (such requests are drawn less)
    failures: Counter[int] = field(default_factory=Counter)
    last_request: int | None = None
    #: one line per area solved: (stage, candidates, base-days, CP-SAT status, seconds)
    log: list[tuple[int, int, int, str, float]] = field(default_factory=list)
    #: stages (0: levels 1-2, 1: levels 3-5) whose whole-week model CP-SAT proved optimal
    proved: set[int] = field(default_factory=set)
    #: level 1 (weighted served) reached the bound ``run`` was given: proved optimal
    served_proved: bool = False
    #: called from CP-SAT's solution callback with the week's weighted served (stage 1 areas)
    on_served: Callable[[int], None] | None = None
    #: a part of the week (``parts.py``): only these bases are re-solved, and only the sessions
    #: of these requests move; everything else is held as it is. None: the whole week.
    scope: frozenset[str] | None = None
    movable: frozenset[str] | None = None
    iterations: int = 0
    improvements: int = 0
    solved_optimally: int = 0

    def __post_init__(self) -> None:
        self.eligible = self.eligible or eligibility(self.instance)
        self.req_index = {r.id: k for k, r in enumerate(self.instance.requests)}
        self._places: dict[str, tuple[str, int]] = {}
        self._levels: tuple[dict[str, tuple[str, int]], Counter[str], Counter[str], int] | None
        self._levels = None
        #: every day that has slots (slots outside the horizon's days are still slots)
        self.days = sorted({day_index(self.instance, s.start) for s in self.instance.slots})
        self.kept = kept_bookings(self.instance)
        self._scope_provinces = (
            None
            if self.scope is None
            else {b.province for b in self.instance.bases if b.id in self.scope}
        )

    # ------------------------------------------------------------------ bookkeeping

    def place(self, a: Assignment) -> tuple[str, int]:
        """The (base, day) pair of a session."""
        where = self._places.get(a.slots[0])
        if where is None:
            first = self.instance.slot_by_id[a.slots[0]]
            where = (self.instance.base_of_slot(first.id), day_index(self.instance, first.start))
            self._places[a.slots[0]] = where
        return where

    def missing(self) -> dict[int, int]:
        """Requests (by index) that still miss sessions, with how many."""
        got = Counter(b.request for b in self.kept) + Counter(a.request for a in self.sessions)
        return {
            k: r.sessions - got[r.id]
            for k, r in enumerate(self.instance.requests)
            if got[r.id] < r.sessions and self.eligible[k]
        }

    def utilization(self) -> dict[str, float]:
        """Each base's used slots over its slots, kept bookings included (as the referee counts)."""
        inst = self.instance
        used: Counter[str] = Counter()
        placed: list[Booking | Assignment] = [*self.kept, *self.sessions]
        for a in placed:
            used[inst.base_of_slot(a.slots[0])] += len(a.slots)
        return {b: used[b] / n for b, n in inst.slot_count_by_base.items() if n}

    # ------------------------------------------------------------------ one neighbourhood

    def solve_area(
        self,
        area: set[tuple[str, int]],
        stage: int,
        limit: float,
        deadline: float,
        movers: set[str] | None = None,
    ) -> tuple[bool, bool]:
        """Re-solve ``area`` for one stage's levels; adopt the answer if not worse.

        Returns whether the answer was taken and whether CP-SAT proved it optimal for the area.
        CP-SAT gets ``limit`` seconds, cut so that it stops by ``deadline`` (building included).
        With ``movers`` (request ids), only their sessions in the area move; the rest stay put.
        """
        self._built_from = time.monotonic()
        if self.scope is not None:
            area = {x for x in area if x[0] in self.scope}
        if self.movable is not None:
            movers = set(self.movable) if movers is None else movers & self.movable

        def moves(a: Assignment) -> bool:
            return self.place(a) in area and (movers is None or a.request in movers)

        inside = [a for a in self.sessions if moves(a)]
        outside = [a for a in self.sessions if not moves(a)]
        fixed = tuple(Booking(a.request, a.slots, "fixed") for a in outside)
        # Stage 2 holds every request's count, so only requests already in the area can move.
        only = {self.req_index[a.request] for a in inside} if stage == 1 else None
        week = generate(self.instance, fixed=fixed, area=area, eligible=self.eligible, only=only)
        if not len(week):
            return False, True
        wm = build(week)
        hint = hint_indices(week, inside)
        if len(hint) != len(inside):  # pragma: no cover - the incumbent is always representable
            return False, False
        wm.vars.hint(wm.model, set(hint))
        if stage == 1:
            served = Counter(week.req[i] for i in hint)
            for ri, idx in wm.vars.by_request.items():
                wm.model.add(cp_model.LinearExpr.sum([wm.vars.x[i] for i in idx]) == served[ri])
        expr, weights = wm.lexicographic(STAGES[stage])
        wm.model.minimize(expr)
        # Never spend less time searching than building: on a national week building is slow.
        limit = min(max(limit, time.monotonic() - self._built_from), deadline - time.monotonic())
        if limit < 0.05:
            return False, False
        solver = make_solver(self.workers, self.rng.randrange(1 << 30), limit)
        callback = None
        if stage == 0 and self.on_served is not None:
            # The area's level 1 is its open weight minus what it serves; outside is constant.
            served_outside = self.served_key(outside)[0]
            worst, unit, report = wm.levels[0].worst, weights[0], self.on_served
            callback = Solutions(lambda obj: report(served_outside + worst - int(obj) // unit))
        # By name: OR-Tools' stubs type the returned status apart from cp_model.OPTIMAL.
        status = solver.status_name(solver.solve(wm.model, callback))
        self.iterations += 1
        self.log.append((stage, len(week), len(area), status, round(solver.wall_time, 2)))
        optimal = status == "OPTIMAL"
        self.solved_optimally += optimal
        if status not in ("OPTIMAL", "FEASIBLE"):
            return False, False
        chosen = wm.vars.extract(solver)
        if sorted(chosen) == sorted(hint):
            return False, optimal
        candidate = outside + assign_studios(week, chosen)
        if stage == 0 and self.served_key(candidate) < self.served_key(self.sessions):
            return False, False  # CP-SAT starts from the hint, so this is only a safety net
        self.sessions = candidate
        self.improvements += 1
        return True, optimal

    def served_key(self, sessions: list[Assignment]) -> tuple[int, float]:
        """Levels 1-2 of a set of new sessions: weighted served, worst region's served ratio."""
        if self._levels is None:  # what never changes: each request's region and weight, and
            inst = self.instance  # the regions' asks and the kept bookings' share
            region = {p.id: p.region for p in inst.participants}
            of = {r.id: (region[r.participant], inst.weight_of(r.id)) for r in inst.requests}
            asked: Counter[str] = Counter()
            for r in inst.requests:
                asked[region[r.participant]] += r.sessions
            kept = Counter(of[b.request][0] for b in self.kept)
            self._levels = (of, asked, kept, sum(of[b.request][1] for b in self.kept))
        of, asked, served, weighted = self._levels
        served = served.copy()
        for a in sessions:
            g, w = of[a.request]
            served[g] += 1
            weighted += w
        return weighted, min((served[g] / n for g, n in asked.items() if n), default=1.0)

    # ------------------------------------------------------------------ areas

    def served_area(self) -> set[tuple[str, int]] | None:
        """Around a request that misses sessions, heavier priorities first."""
        missing = self.missing()
        if not missing:
            return None
        inst = self.instance
        reqs = inst.requests
        ks = list(missing)
        weights = [inst.weight_of(reqs[k].id) * 0.5 ** min(self.failures[k], 20) for k in ks]
        k = self.rng.choices(ks, weights)[0]
        self.last_request = k
        r = reqs[k]
        bases = list(self.eligible[k])
        self.rng.shuffle(bases)
        bases = bases[: self.area_bases]
        d0 = day_index(inst, r.window_start) - 1
        d1 = day_index(inst, r.window_end)
        days = range(d0, d1 + 1)
        # Serving r usually means moving someone out of r's bases: add the bases those could use.
        core = {(b, d) for b in bases for d in days}
        others: Counter[str] = Counter()
        for a in self.sessions:
            if self.place(a) in core:
                others.update(self.eligible[self.req_index[a.request]])
        extra = [b for b, _ in others.most_common() if b not in bases]
        bases += extra[: max(0, self.area_bases - len(bases))]
        return {(b, d) for b in bases for d in days}

    def whole_week(self) -> set[tuple[str, int]]:
        """Every (base, day) pair: the area that is the full model."""
        bases = [b.id for b in self.instance.bases if self.scope is None or b.id in self.scope]
        return {(b, d) for b in bases for d in self.days}

    def estimated_size(self) -> int:
        """About how many candidates the full model has (studios x days x 7 starts per base)."""
        inst = self.instance
        studios = {b.id: len(b.studios) for b in inst.bases}
        total = 0
        for r, bases in zip(inst.requests, self.eligible, strict=True):
            days = max(1, (r.window_end - r.window_start).days)
            total += sum(studios[b] for b in bases) * days * 7
        return total

    def balance_area(self) -> tuple[set[tuple[str, int]], set[str]]:
        """One of the busiest bases, with the idlest bases its sessions could move to, all week;
        and the requests with sessions at that base (only they move: smaller models)."""
        util = self.utilization()
        if self.scope is not None:
            util = {b: u for b, u in util.items() if b in self.scope}
        busy = sorted(util, key=lambda b: util[b], reverse=True)[: max(2, len(util) // 4)]
        hot = self.rng.choice(busy)
        neighbours: Counter[str] = Counter()
        movers: set[str] = set()
        for a in self.sessions:
            if self.place(a)[0] == hot:
                neighbours.update(self.eligible[self.req_index[a.request]])
                movers.add(a.request)
        neighbours.pop(hot, None)
        want = max(1, self.balance_bases - 1)
        pool = sorted(neighbours, key=lambda b: util.get(b, 0.0))[: want + 1]
        chosen = [hot, *self.rng.sample(pool, min(want, len(pool)))]
        return {(b, d) for b in chosen for d in self.days}, movers

    def spotlight_area(self) -> set[tuple[str, int]]:
        """Bases of one province over three days, for level 4: drawn by how many same-category
        sessions clash there and how many harvest sessions are there (each at least once)."""
        inst = self.instance
        province_of = {b.id: b.province for b in inst.bases}
        groups: dict[tuple[str, int], list[Assignment]] = {}
        kept = [Assignment(b.request, b.slots) for b in self.kept]
        for a in [*kept, *self.sessions]:
            base, d = self.place(a)
            groups.setdefault((province_of[base], d), []).append(a)
        keys = sorted(groups)
        if self._scope_provinces is not None:
            keys = [k for k in keys if k[0] in self._scope_provinces] or keys
        weights = [1 + _clashes(inst, groups[k]) + _harvests(inst, groups[k]) for k in keys]
        province, d = self.rng.choices(keys, weights)[0]
        busy: Counter[str] = Counter(
            self.place(a)[0] for k in keys if k[0] == province for a in groups[k]
        )
        bases = [
            b.id
            for b in inst.bases
            if b.province == province and (self.scope is None or b.id in self.scope)
        ]
        self.rng.shuffle(bases)
        bases.sort(key=lambda b: -busy[b])
        days = [x for x in self.days if d - 1 <= x <= d + 1]
        return {(b, x) for b in bases[: self.spotlight_bases] for x in days}


def _clashes(inst: Instance, sessions: list[Assignment]) -> int:
    """Same-category sessions of one province-day that start while another one runs."""
    by_category: dict[str, list[tuple[float, float]]] = {}
    for a in sessions:
        category = inst.participant_by_id[inst.request_by_id[a.request].participant].category
        if category:
            first, last = inst.slot_by_id[a.slots[0]], inst.slot_by_id[a.slots[-1]]
            span = (first.start.timestamp(), last.end.timestamp())
            by_category.setdefault(category, []).append(span)
    out = 0
    for spans in by_category.values():
        spans.sort()
        running = float("-inf")  # the latest end so far
        for start, end in spans:
            out += start < running
            running = max(running, end)
    return out


def _harvests(inst: Instance, sessions: list[Assignment]) -> int:
    """Sessions of harvest lots."""
    return sum(inst.request_by_id[a.request].harvest is not None for a in sessions)


def run(
    search: Search,
    deadline: float,
    stage_split: float,
    on_step: Callable[[Search], None] | None = None,
    bound: int | None = None,
) -> None:
    """Stage 1 (levels 1-2) for ``stage_split`` of the time, then stage 2 (levels 3-5).

    A stage starts with the whole week as one area when the week is small enough
    (``FULL_MODEL_CANDIDATES``) and ends early when that is proved optimal; otherwise, and after
    that, it goes area by area. Stage 1 also hands over early when ``STALL_SHARE`` of the time
    went by without a gain: levels 3-5 then get the time stage 1 could not use.

    ``bound`` is an upper bound on weighted served (``bound.served_bound``). Once the incumbent
    reaches it, level 1 is proved optimal (``search.served_proved``) and stage 2 too ends after
    ``STALL_SHARE`` of the time without a gain, instead of running to the deadline: the solve
    returns early when it holds the optimum and the lower levels stop improving.
    """
    start = time.monotonic()
    switch = start + stage_split * (deadline - start)
    stall = STALL_SHARE * (deadline - start)
    size = search.estimated_size()
    whole = size <= FULL_MODEL_CANDIDATES
    if size > 20 * FULL_MODEL_CANDIDATES:  # a national week: start with areas CP-SAT can close
        search.area_bases = min(search.area_bases, 3)
    for stage in (0, 1):
        end = switch if stage == 0 else deadline
        if bound is not None and not search.served_proved:
            search.served_proved = search.served_key(search.sessions)[0] >= bound
        if whole:
            # With level 1 proved, the whole-week model gets the stall time, not the stage's.
            limit = end - time.monotonic()
            if search.served_proved:
                limit = min(limit, stall)
            _, optimal = search.solve_area(search.whole_week(), stage, limit, end)
            if on_step:
                on_step(search)
            if optimal:
                search.proved.add(stage)
                continue
        last_gain = time.monotonic()
        while end - time.monotonic() > 0.3:
            if bound is not None and not search.served_proved:
                search.served_proved = search.served_key(search.sessions)[0] >= bound
            if (stage == 0 or search.served_proved) and time.monotonic() - last_gain > stall:
                break
            spotlight = stage == 1 and search.iterations % 2 == 1
            if stage == 0:
                area, movers = search.served_area(), None
            elif spotlight:
                area, movers = search.spotlight_area(), None
            else:
                area, movers = search.balance_area()
            if area is None:
                break
            limit = AREA_SECONDS
            t = time.monotonic()
            gained, _ = search.solve_area(area, stage, limit, end, movers)
            took = time.monotonic() - t
            if gained:
                last_gain = time.monotonic()
            elif stage == 0 and search.last_request is not None:
                search.failures[search.last_request] += 1
            if stage == 0:
                search.area_bases = _resized(search.area_bases, took, limit, smallest=2)
            elif spotlight:
                search.spotlight_bases = _resized(search.spotlight_bases, took, limit, smallest=1)
            else:
                search.balance_bases = _resized(search.balance_bases, took, limit, smallest=1)
            if on_step:
                on_step(search)


def _resized(bases: int, took: float, limit: float, *, smallest: int) -> int:
    """The next area's bases: one more when CP-SAT closed this one in under half its time, one
    fewer (not below ``smallest``) when it used all of it."""
    if took < 0.5 * limit:
        return bases + 1
    if took >= limit * 0.95 and bases > smallest:
        return bases - 1
    return bases
