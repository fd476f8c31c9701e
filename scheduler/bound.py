"""An upper bound on weighted served (level 1) from a linear relaxation, solved with HiGHS.

The relaxation counts sessions, not placements: ``y[r, b, d]`` is how many more sessions of
request ``r`` start at base ``b`` on local day ``d`` (a real number), with

* ``Σ_{b,d} y[r,b,d] ≤ sessions_r − kept_r`` (the sessions it still asks for);
* ``y[r,b,d] ≤ runs(r, b, d)``: the disjoint runs of ``length_r`` free consecutive slots, in one
  studio with every need, starting on ``d`` inside the request's window (after the freeze, inside
  its harvest lot), that base ``b`` has when only the kept bookings hold slots;
* per base, day and need set ``F``: ``Σ_{r needing ⊇ F} length_r · y[r,b,d] ≤`` the free slots of
  the base's studios that have ``F``, starting on ``d`` (plus the first ``L − 1`` of the next day,
  which a run starting late on ``d`` may reach; ``L`` is the longest request needing ``⊇ F`` that
  may use the base);
* per participant and day: ``Σ_{r,b} y[r,b,d] ≤`` the daily cap less the kept sessions that day;
  with one base a day, a day that holds a kept session of the participant's has columns at that
  base only, and runs that overlap a kept session of the participant's are not counted.

Every plan that keeps the hard rules gives a solution of this relaxation with the same weighted
served (count each new session at its base and start day: each line above is a rule the plan
keeps, loosened), so the relaxation's optimum, rounded down, plus the kept sessions' weight, is
an upper bound on the optimum. It ignores overlaps and exact times within a day, one base a
day and categories: where those bind, the bound is loose there.

**Column generation.** A programme week has tens of millions of (request, base, day) columns,
most of which no optimum uses. The LP starts with none and adds them in rounds: after each
solve, every column not yet in it is priced at once with numpy from the duals (a request's
weight, less its request row's dual, its participant's day row's and, per slot of its length,
the base-day rows' of every need set it covers); the most profitable few per request enter, once
their runs are counted (a column with no run never enters: the next best at the same prices takes
its place, until the round holds enough new columns to be worth a solve). Rows appear with their
first column.
When no column prices above zero the restricted LP's optimum is the whole LP's. Stopped by a
deadline before that, the duals still give a bound (Lagrangian): the LP's value plus, for every
column left out, its reduced cost times the sessions its request still asks for.
"""

from __future__ import annotations

import math
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date, datetime

import numpy as np
import numpy.typing as npt

from scheduler.candidates import kept_bookings
from scheduler.domain import Assignment, Instance, Request, Slot

#: The most columns one request gains per round (the best priced first).
COLUMNS_PER_REQUEST = 4
#: Above this many (request, base) pairs each round's LP is solved by the interior point method.
INTERIOR_POINT_PAIRS = 1_000_000
#: Reduced costs at or below this bring no column in (HiGHS's own dual tolerance is 1e-7); the
#: bound still counts them.
PRICE_TOLERANCE = 1e-6
#: A round ends once it holds one new column per this many in the LP (or no column prices above
#: zero): an LP solve costs far more than pricing again.
ROUND_GROWTH = 100
#: Days of a (pair, day) column: not yet known, in the LP, known to have no run.
_UNKNOWN, _IN_LP, _DEAD = 0, 1, 2


def served_bound(
    inst: Instance,
    eligible: list[list[str]],
    *,
    deadline: float | None = None,
    start: Iterable[Assignment] = (),
) -> int | None:
    """An upper bound on the week's weighted served sessions (see the module docstring), or None
    when HiGHS fails. ``deadline`` (``time.monotonic``) stops the column generation early: the
    bound is then the looser Lagrangian one. ``start`` (a plan's new sessions) gives the first
    columns; the bound is the same with or without, only reached sooner."""
    return _Relaxation(inst, eligible).bound(deadline, start)


class _Relaxation:
    """The relaxation of one week, grown column by column (see the module docstring)."""

    def __init__(self, inst: Instance, eligible: list[list[str]]) -> None:
        self.inst = inst
        kept = kept_bookings(inst)
        held = {s for b in kept for s in b.slots}
        kept_count = Counter(b.request for b in kept)
        self.base_total = sum(inst.weight_of(r) * n for r, n in kept_count.items())
        self.free = _FreeSlots(inst, held)
        participant_of = {r.id: r.participant for r in inst.requests}
        self.kept_day: Counter[tuple[str, date]] = Counter(
            (participant_of[b.request], inst.local_day(inst.slot_by_id[b.slots[0]].start))
            for b in kept
        )
        # With one base a day, a participant's day that holds a kept session is that base's.
        self.kept_base: dict[tuple[str, date], str] = {}
        if inst.policy.same_day_same_base:
            for booking in kept:
                first = inst.slot_by_id[booking.slots[0]]
                key = (participant_of[booking.request], inst.local_day(first.start))
                self.kept_base[key] = inst.base_of_slot(first.id)
        # A participant's kept sessions, as times no new session of theirs may overlap.
        self.kept_times: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
        for booking in kept:
            slots = [inst.slot_by_id[s] for s in booking.slots]
            self.kept_times[participant_of[booking.request]].append((slots[0].start, slots[-1].end))

        self.days = sorted({inst.local_day(s.start) for s in inst.slots})
        day_index = {d: i for i, d in enumerate(self.days)}
        self.bases = [b.id for b in inst.bases]
        base_index = {b: i for i, b in enumerate(self.bases)}
        # The requests that still ask for sessions and have a base to ask at.
        self.requests = [
            k for k, r in enumerate(inst.requests) if eligible[k] and r.sessions > kept_count[r.id]
        ]
        rs = [inst.requests[k] for k in self.requests]
        n = len(rs)
        self.need = np.array([r.sessions - kept_count[r.id] for r in rs], dtype=np.float64)
        self.weight = np.array([inst.weight_of(r.id) for r in rs], dtype=np.float64)
        self.length = np.array([r.length for r in rs], dtype=np.float64)
        self.need_sets = sorted({r.needs for r in rs}, key=sorted)
        need_index = {f: i for i, f in enumerate(self.need_sets)}
        self.need_of = np.array([need_index[r.needs] for r in rs], dtype=np.int32)
        #: For a need set, the need sets that cover it (its base-day row holds their columns).
        self.covering = [
            [g for g, other in enumerate(self.need_sets) if f <= other] for f in self.need_sets
        ]
        people = sorted({r.participant for r in rs})
        person_index = {p: i for i, p in enumerate(people)}
        self.people = people
        self.person_of = np.array([person_index[r.participant] for r in rs], dtype=np.int32)
        self.windows = [_window(inst, r) for r in rs]
        first_day = np.zeros(n, dtype=np.int32)
        last_day = np.full(n, -1, dtype=np.int32)
        for i, (lo, hi) in enumerate(self.windows):
            inside = [
                j for j, d in enumerate(self.days) if inst.local_day(lo) <= d <= inst.local_day(hi)
            ]
            if inside:
                first_day[i], last_day[i] = inside[0], inside[-1]
        # Every (request, eligible base) pair, as two parallel arrays.
        sizes = [len(eligible[k]) for k in self.requests]
        self.pair_request = np.repeat(np.arange(n, dtype=np.int32), sizes)
        self.pair_base = np.fromiter(
            (base_index[b] for k in self.requests for b in eligible[k]),
            dtype=np.int32,
            count=int(sum(sizes)),
        )
        self.first_day, self.last_day = first_day, last_day
        self.pair_start = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.intp)
        self.state = np.zeros((len(self.pair_request), len(self.days)), dtype=np.int8)
        # With one base a day, a day that holds a participant's kept session is closed to them
        # at every other base: all at once, before any column is priced.
        kept_at = np.full((len(people), len(self.days)), -1, dtype=np.int32)
        for (person, day), base in self.kept_base.items():
            if person in person_index and day in day_index:
                kept_at[person_index[person], day_index[day]] = base_index[base]
        # A base's day with no free slot in a studio with every need has no run for anyone.
        has_free = np.zeros((len(self.bases), len(self.days), len(self.need_sets)), dtype=bool)
        for b, base in enumerate(self.bases):
            for features, slots in self.free.studios[base]:
                fits = [f for f, needs in enumerate(self.need_sets) if needs <= features]
                for d in {day_index[inst.local_day(x.start)] for x in slots}:
                    has_free[b, d, fits] = True
        pair_person = self.person_of[self.pair_request]
        pair_needs = self.need_of[self.pair_request]
        for d in range(len(self.days)):
            at = kept_at[pair_person, d]
            closed = (at >= 0) & (at != self.pair_base)
            self.state[closed | ~has_free[self.pair_base, d, pair_needs], d] = _DEAD
        # The longest request per (base, need set) that may use the base: a base-day row of
        # need set F counts the first L - 1 slots of the next day for the longest L covering F.
        longest = np.zeros((len(self.bases), len(self.need_sets)), dtype=np.int32)
        np.maximum.at(
            longest,
            (self.pair_base, self.need_of[self.pair_request]),
            self.length[self.pair_request].astype(np.int32),
        )
        self.longest = longest

        import highspy

        self.highs = highspy.Highs()
        self.highs.setOptionValue("output_flag", False)
        # Primal simplex: a round adds columns to an optimal basis, which stays primal feasible.
        # On a programme-size week a round adds tens of thousands and the interior point method
        # is faster than walking there. Without crossover: its duals price the columns as they
        # are (any prices >= 0 give a bound) and crossover took ten times the solve.
        self.highs.setOptionValue("simplex_strategy", 4)
        if len(self.pair_request) > INTERIOR_POINT_PAIRS:
            self.highs.setOptionValue("solver", "ipm")
            self.highs.setOptionValue("run_crossover", "off")
            self.highs.setOptionValue("presolve", "off")
        self.inf = highspy.kHighsInf
        self.columns: list[tuple[int, int, int]] = []  # (request position, base, day)
        self.rows = 0
        self.request_row: dict[int, int] = {}
        self.capacity_row: dict[tuple[int, int, int], int] = {}  # (base, day, need set)
        self.person_row: dict[tuple[int, int], int] = {}  # (person, day)
        self.at_base_day: dict[tuple[int, int], list[int]] = defaultdict(list)
        self.of_person_day: dict[tuple[int, int], list[int]] = defaultdict(list)
        self.runs: dict[int, Counter[date]] = {}  # by pair
        self.rhs: list[float] = []  # by row
        self.upper: list[float] = []  # by column
        self.value = 0.0  # the bound so far, in weighted sessions beyond the kept

    def bound(self, deadline: float | None, start: Iterable[Assignment] = ()) -> int | None:
        if not self.requests:
            return self.base_total
        y = np.zeros(0)
        pi = np.zeros(len(self.requests))
        nu = np.zeros((len(self.people), len(self.days)))
        mu = np.zeros((len(self.bases), len(self.days), len(self.need_sets)))
        best = math.inf
        self._add(*self._columns_of(start))
        if self.columns:  # the plan's columns first: their duals price the rest from round one
            self.highs.run()
            if not self.highs.getSolution().dual_valid:
                return None
            y, pi, nu, mu = self._duals()
        while True:
            pairs, days, price = self._price(pi, nu, mu)
            best = self.value = min(best, self._dual_bound(y, pi, nu, mu, pairs, price))
            # Columns with no run never enter: with the same prices, the next best take their
            # place until the round holds enough new columns to be worth a solve.
            late = deadline is not None and time.monotonic() > deadline
            wanted = max(1, len(self.columns) // ROUND_GROWTH)
            added = 0
            better = price > PRICE_TOLERANCE
            cand = pairs[better], days[better], price[better]
            while not late and len(cand[0]):
                added += self._add(*self._best(*cand))
                late = deadline is not None and time.monotonic() > deadline
                if added >= wanted:
                    break
                still = self.state[cand[0], cand[1]] == _UNKNOWN  # the next best of the same
                cand = cand[0][still], cand[1][still], cand[2][still]
            if not added:  # the columns found to have no run leave the bound too
                out = self.state[pairs, days] == _UNKNOWN
                bound = self._dual_bound(y, pi, nu, mu, pairs[out], price[out])
                best = self.value = min(best, bound)
                return self.base_total + int(math.floor(best + 1e-6))
            self.highs.run()
            if not self.highs.getSolution().dual_valid:
                return None
            y, pi, nu, mu = self._duals()

    def _dual_bound(
        self,
        y: npt.NDArray[np.float64],
        pi: npt.NDArray[np.float64],
        nu: npt.NDArray[np.float64],
        mu: npt.NDArray[np.float64],
        pairs: npt.NDArray[np.intp],
        price: npt.NDArray[np.float64],
    ) -> float:
        """The bound these prices give (``pairs``, ``price``: the columns out of the LP that price
        above zero). Any prices >= 0 bound the LP (weak duality): the rows' right-hand sides at
        their prices, plus each column's price above them for as many sessions as it may take
        (its runs in the LP; the sessions its request asks for outside it)."""
        outside = float(np.sum(price * self.need[self.pair_request[pairs]]))
        return min(
            self._priced_rows(y) + self._priced_columns(pi, nu, mu) + outside,
            self._per_request(y, nu, mu),
        )

    def _per_request(
        self, y: npt.NDArray[np.float64], nu: npt.NDArray[np.float64], mu: npt.NDArray[np.float64]
    ) -> float:
        """The same, with each request's row kept as a constraint instead of priced: the other
        rows at their prices, plus every session a request asks for at the price of its best
        column (one not known to have no run) above them. Much closer than the sum above while
        many columns are still out; at the LP's optimum, a little looser where a run limit binds.
        """
        own = np.zeros(len(y), dtype=bool)
        own[list(self.request_row.values())] = True
        shared = float(np.dot(np.asarray(self.rhs[: len(y)])[~own], y[~own])) if len(y) else 0.0
        req = self.pair_request
        best = np.full(len(self.requests), -np.inf)
        for d in range(len(self.days)):
            price = (
                self.weight[req]
                - nu[self.person_of[req], d]
                - self.length[req] * mu[self.pair_base, d, self.need_of[req]]
            )
            closed = (self.state[:, d] == _DEAD) | (self.first_day[req] > d)
            price[closed | (self.last_day[req] < d)] = -np.inf
            best = np.maximum(best, np.maximum.reduceat(price, self.pair_start))
        return shared + float(np.dot(self.need, np.maximum(best, 0.0)))

    def _priced_rows(self, y: npt.NDArray[np.float64]) -> float:
        return float(np.dot(np.asarray(self.rhs[: len(y)]), y)) if len(y) else 0.0

    def _priced_columns(
        self, pi: npt.NDArray[np.float64], nu: npt.NDArray[np.float64], mu: npt.NDArray[np.float64]
    ) -> float:
        if not self.columns:
            return 0.0
        i, b, d = (np.asarray(x) for x in zip(*self.columns, strict=True))
        price = (
            self.weight[i]
            - pi[i]
            - nu[self.person_of[i], d]
            - self.length[i] * mu[b, d, self.need_of[i]]
        )
        return float(np.dot(np.asarray(self.upper), np.maximum(price, 0.0)))

    def _columns_of(
        self, sessions: Iterable[Assignment]
    ) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
        """The (pair, day) columns of a plan's new sessions (not the kept bookings)."""
        position = {k: i for i, k in enumerate(self.requests)}
        index = {r.id: k for k, r in enumerate(self.inst.requests)}
        day_index = {d: j for j, d in enumerate(self.days)}
        base_index = {b: j for j, b in enumerate(self.bases)}
        found: set[tuple[int, int]] = set()
        for a in sessions:
            i = position.get(index.get(a.request, -1))
            first = self.inst.slot_by_id.get(a.slots[0]) if a.slots else None
            if i is None or first is None:
                continue
            b = base_index[self.inst.base_of_slot(first.id)]
            lo = int(self.pair_start[i])
            hi = int(self.pair_start[i + 1]) if i + 1 < len(self.requests) else len(self.pair_base)
            at = np.flatnonzero(self.pair_base[lo:hi] == b)
            d = day_index.get(self.inst.local_day(first.start))
            if len(at) and d is not None:
                found.add((lo + int(at[0]), d))
        pairs = np.array([p for p, _ in sorted(found)], dtype=np.intp)
        days = np.array([d for _, d in sorted(found)], dtype=np.intp)
        return pairs, days

    def _price(
        self, pi: npt.NDArray[np.float64], nu: npt.NDArray[np.float64], mu: npt.NDArray[np.float64]
    ) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.float64]]:
        """Every column not in the LP, nor known to have no run, whose reduced cost is above zero:
        (pair, day, reduced cost)."""
        margin = self.weight - pi  # a request whose row's dual is its weight gains nothing
        open_pairs = np.flatnonzero(margin[self.pair_request] > 0)
        found_pairs, found_days, found_price = [], [], []
        for d in range(len(self.days)):
            req = self.pair_request[open_pairs]
            inside = (self.first_day[req] <= d) & (d <= self.last_day[req])
            inside &= self.state[open_pairs, d] == _UNKNOWN
            at = open_pairs[inside]
            req = req[inside]
            price = (
                margin[req]
                - nu[self.person_of[req], d]
                - self.length[req] * mu[self.pair_base[at], d, self.need_of[req]]
            )
            good = price > 0
            found_pairs.append(at[good])
            found_days.append(np.full(int(good.sum()), d, dtype=np.intp))
            found_price.append(price[good])
        return (
            np.concatenate(found_pairs),
            np.concatenate(found_days),
            np.concatenate(found_price),
        )

    def _best(
        self,
        pairs: npt.NDArray[np.intp],
        days: npt.NDArray[np.intp],
        price: npt.NDArray[np.float64],
    ) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
        """The ``COLUMNS_PER_REQUEST`` best priced columns of each request."""
        req = self.pair_request[pairs]
        order = np.lexsort((-price, req))
        req = req[order]
        first = np.searchsorted(req, req, side="left")
        keep = order[(np.arange(len(req)) - first) < COLUMNS_PER_REQUEST]
        return pairs[keep], days[keep]

    def _add(self, pairs: npt.NDArray[np.intp], days: npt.NDArray[np.intp]) -> int:
        """Count the runs of these columns' pairs, then add those that have one (with any rows
        they are the first of); the rest are marked as having none. Returns how many entered."""
        new: list[tuple[int, int, int, float]] = []  # (pair, base, day, upper bound)
        for p, d in zip(pairs.tolist(), days.tolist(), strict=True):
            runs = self._runs_of(p)
            if self.state[p, d] != _UNKNOWN:
                continue
            count = runs.get(self.days[d], 0)
            i = int(self.pair_request[p])
            if not count:
                self.state[p, d] = _DEAD
                continue
            self.state[p, d] = _IN_LP
            new.append((i, int(self.pair_base[p]), d, float(min(self.need[i], count))))
        if not new:
            return 0
        # Rows first, holding the columns already in the LP that belong to them.
        lower: list[float] = []
        upper: list[float] = []
        starts: list[int] = []
        index: list[int] = []
        value: list[float] = []

        def row(hi: float, cols: list[int], coef: list[float]) -> int:
            lower.append(-self.inf)
            upper.append(hi)
            self.rhs.append(hi)
            starts.append(len(index))
            index.extend(cols)
            value.extend(coef)
            self.rows += 1
            return self.rows - 1

        policy_cap = self.inst.policy.max_sessions_per_day
        for i, b, d, _ in new:
            if i not in self.request_row:
                self.request_row[i] = row(float(self.need[i]), [], [])
            f = int(self.need_of[i])
            if (b, d, f) not in self.capacity_row:
                cols = [j for j in self.at_base_day[(b, d)] if f in self._covers(j)]
                coef = [float(self.length[self.columns[j][0]]) for j in cols]
                longest = max(int(self.longest[b, g]) for g in self.covering[f])
                slots = self.free.capacity(self.bases[b], self.days[d], self.need_sets[f], longest)
                self.capacity_row[(b, d, f)] = row(float(slots), cols, coef)
            person = int(self.person_of[i])
            if policy_cap is not None and (person, d) not in self.person_row:
                cap = max(0, policy_cap - self.kept_day[(self.people[person], self.days[d])])
                cols = self.of_person_day[(person, d)]
                self.person_row[(person, d)] = row(float(cap), list(cols), [1.0] * len(cols))
        if lower:
            self.highs.addRows(
                len(lower),
                np.array(lower),
                np.array(upper),
                len(index),
                np.array(starts, dtype=np.int32),
                np.array(index, dtype=np.int32),
                np.array(value, dtype=np.float64),
            )
        # Then the columns, in every row they belong to.
        costs: list[float] = []
        ubs: list[float] = []
        starts, index, value = [], [], []  # the rows' lists, reused
        for i, b, d, ub in new:
            j = len(self.columns)
            self.columns.append((i, b, d))
            self.at_base_day[(b, d)].append(j)
            person = int(self.person_of[i])
            self.of_person_day[(person, d)].append(j)
            costs.append(-float(self.weight[i]))
            ubs.append(ub)
            self.upper.append(ub)
            starts.append(len(index))
            index.append(self.request_row[i])
            value.append(1.0)
            length = float(self.length[i])
            for f in self._covered(i):
                r = self.capacity_row.get((b, d, f))
                if r is not None:
                    index.append(r)
                    value.append(length)
            if (person, d) in self.person_row:
                index.append(self.person_row[(person, d)])
                value.append(1.0)
        self.highs.addCols(
            len(costs),
            np.array(costs),
            np.zeros(len(costs)),
            np.array(ubs),
            len(index),
            np.array(starts, dtype=np.int32),
            np.array(index, dtype=np.int32),
            np.array(value, dtype=np.float64),
        )
        return len(new)

    def _covers(self, j: int) -> list[int]:
        """The need sets whose base-day rows hold column ``j`` (those its request's needs cover)."""
        return self._covered(self.columns[j][0])

    def _covered(self, i: int) -> list[int]:
        f = int(self.need_of[i])
        return [g for g in range(len(self.need_sets)) if f in self.covering[g]]

    def _runs_of(self, p: int) -> Counter[date]:
        """The free runs per start day of a pair's request at its base (counted once per pair);
        its days with none, or closed to the participant by a kept session elsewhere, are marked."""
        runs = self.runs.get(p)
        if runs is None:
            i = int(self.pair_request[p])
            r = self.inst.requests[self.requests[i]]
            b = self.bases[int(self.pair_base[p])]
            lo, hi = self.windows[i]
            runs = self.free.runs(b, r, lo, hi, self.kept_times.get(r.participant, []))
            for d in range(int(self.first_day[i]), int(self.last_day[i]) + 1):
                day = self.days[d]
                if not runs.get(day) or self.kept_base.get((r.participant, day), b) != b:
                    self.state[p, d] = _DEAD
            self.runs[p] = runs
        return runs

    def _duals(
        self,
    ) -> tuple[
        npt.NDArray[np.float64],
        npt.NDArray[np.float64],
        npt.NDArray[np.float64],
        npt.NDArray[np.float64],
    ]:
        """The rows' duals as prices (by row; per request, per (person, day), and per (base,
        day, need set) summed over the need sets each covers)."""
        y = -np.asarray(self.highs.getSolution().row_dual)  # >= 0: every row is an upper bound
        y = np.maximum(y, 0.0)
        pi = np.zeros(len(self.requests))
        for i, r in self.request_row.items():
            pi[i] = y[r]
        nu = np.zeros((len(self.people), len(self.days)))
        for (person, d), r in self.person_row.items():
            nu[person, d] = y[r]
        mu = np.zeros((len(self.bases), len(self.days), len(self.need_sets)))
        for (b, d, f), r in self.capacity_row.items():
            if y[r] > 0:
                for g in self.covering[f]:
                    mu[b, d, g] += y[r]
        return y, pi, nu, mu


def _window(inst: Instance, r: Request) -> tuple[datetime, datetime]:
    lo, hi = r.window_start, r.window_end
    if inst.policy.freeze_until is not None:
        lo = max(lo, inst.policy.freeze_until)
    if r.harvest is not None:
        lo, hi = max(lo, r.harvest.ready), min(hi, r.harvest.best_before)
    return lo, hi


class _FreeSlots:
    """The slots no kept booking holds, per base and studio in time order."""

    def __init__(self, inst: Instance, held: set[str]) -> None:
        self.inst = inst
        self.studios: dict[str, list[tuple[frozenset[str], list[Slot]]]] = defaultdict(list)
        for base in inst.bases:
            for st in base.studios:
                slots = [s for s in inst.slots_by_studio.get(st.id, ()) if s.id not in held]
                self.studios[base.id].append((st.features, slots))

    def runs(
        self,
        base: str,
        r: Request,
        lo: datetime,
        hi: datetime,
        busy: list[tuple[datetime, datetime]] = [],  # noqa: B006 (read only)
    ) -> Counter[date]:
        """Per start day, the most disjoint runs of ``r.length`` consecutive free slots inside
        [lo, hi) that start on that day and overlap none of the ``busy`` times, summed over the
        base's studios with every need (each day packed on its own, earliest end first: a run
        may reach into the next day)."""
        out: Counter[date] = Counter()
        day_of = self.inst.local_day
        for features, slots in self.studios[base]:
            if not r.needs <= features:
                continue
            k, n, day, last_end = 0, len(slots), None, None
            while k + r.length <= n:
                first = slots[k]
                d = day_of(first.start)
                if d != day:  # a new day: its runs are packed afresh
                    day, last_end = d, None
                if first.start < lo or (last_end is not None and first.start < last_end):
                    k += 1
                    continue
                run = slots[k : k + r.length]
                if run[-1].end > hi:
                    break
                if all(x.end == y.start for x, y in zip(run, run[1:], strict=False)) and not any(
                    first.start < e and b < run[-1].end for b, e in busy
                ):
                    out[d] += 1
                    last_end = run[-1].end
                k += 1
        return out

    def capacity(self, base: str, day: date, needs: frozenset[str], longest: int) -> int:
        """Free slots starting on ``day`` in the base's studios with ``needs``, plus the first
        ``longest - 1`` of the next day in each (a late run may reach them)."""
        total = 0
        for features, slots in self.studios[base]:
            if not needs <= features:
                continue
            days = [self.inst.local_day(s.start) for s in slots]
            total += sum(1 for d in days if d == day)
            later = [d for d in days if d > day]
            if later and longest > 1:
                first = min(later)
                total += min(longest - 1, sum(1 for d in later if d == first))
        return total
