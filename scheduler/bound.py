"""An upper bound on weighted served (level 1) from a linear relaxation, solved with HiGHS.

The relaxation counts sessions, not placements: ``y[r, b, d]`` is how many more sessions of
request ``r`` start at base ``b`` on local day ``d`` (a real number), with

* ``Σ_{b,d} y[r,b,d] ≤ sessions_r − kept_r`` (the sessions it still asks for);
* ``y[r,b,d] ≤ runs(r, b, d)``: the disjoint runs of ``length_r`` free consecutive slots, in one
  studio with every need, starting on ``d`` inside the request's window (after the freeze, inside
  its harvest lot), that base ``b`` has when only the kept bookings hold slots;
* per base, day and need set ``F``: ``Σ_{r needing ⊇ F} length_r · y[r,b,d] ≤`` the free slots of
  the base's studios that have ``F``, starting on ``d`` (plus the first ``length − 1`` of the next
  day, which a run starting late on ``d`` may reach);
* per participant and day: ``Σ_{r,b} y[r,b,d] ≤`` the daily cap less the kept sessions that day;
  with one base a day, a day that holds a kept session of the participant's has columns at that
  base only, and runs that overlap a kept session of the participant's are not counted.

Every plan that keeps the hard rules gives a solution of this relaxation with the same weighted
served (count each new session at its base and start day: each line above is a rule the plan
keeps, loosened), so the relaxation's optimum, rounded down, plus the kept sessions' weight, is
an upper bound on the optimum. It ignores overlaps and exact times within a day, one base a
day and categories: where those bind, the bound is loose there.

Built only for weeks up to ``MAX_COLUMNS`` columns (a medium week has tens of thousands; the
programme week would have tens of millions): ``served_bound`` returns None above it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime
from typing import Any

from scheduler.candidates import kept_bookings
from scheduler.domain import Instance, Request, Slot

#: Above this many (request, base, day) columns the relaxation is not built.
MAX_COLUMNS = 200_000


def served_bound(inst: Instance, eligible: list[list[str]]) -> int | None:
    """An upper bound on the week's weighted served sessions, or None when the week is too large
    for the relaxation (see the module docstring)."""
    import highspy

    if _estimated_columns(inst, eligible) > MAX_COLUMNS:
        return None
    kept = kept_bookings(inst)
    held = {s for b in kept for s in b.slots}
    kept_count = Counter(b.request for b in kept)
    base_total = sum(inst.weight_of(r) * n for r, n in kept_count.items())
    free = _free_runs(inst, held)
    participant_of = {r.id: r.participant for r in inst.requests}
    kept_day: Counter[tuple[str, date]] = Counter(
        (participant_of[b.request], inst.local_day(inst.slot_by_id[b.slots[0]].start)) for b in kept
    )
    # With one base a day, a participant's day that holds a kept session is that base's.
    kept_base: dict[tuple[str, date], str] = {}
    if inst.policy.same_day_same_base:
        for booking in kept:
            first = inst.slot_by_id[booking.slots[0]]
            day = inst.local_day(first.start)
            kept_base[(participant_of[booking.request], day)] = inst.base_of_slot(first.id)
    # A participant's kept sessions, as times no new session of theirs may overlap.
    kept_times: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    for booking in kept:
        slots = [inst.slot_by_id[s] for s in booking.slots]
        kept_times[participant_of[booking.request]].append((slots[0].start, slots[-1].end))

    columns: list[tuple[int, str, date, float]] = []  # (request index, base, day, upper bound)
    for k, r in enumerate(inst.requests):
        need = r.sessions - kept_count[r.id]
        if need <= 0 or not eligible[k]:
            continue
        lo, hi = _window(inst, r)
        busy = kept_times.get(r.participant, [])
        for b in eligible[k]:
            for day, runs in free.runs(b, r, lo, hi, busy).items():
                if runs and kept_base.get((r.participant, day), b) == b:
                    columns.append((k, b, day, float(min(need, runs))))
    if not columns:
        return base_total

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    inf = highspy.kHighsInf
    for *_, ub in columns:
        h.addVar(0.0, ub)
    n = len(columns)
    h.changeColsCost(
        n, list(range(n)), [-float(inst.weight_of(inst.requests[k].id)) for k, *_ in columns]
    )

    by_request: dict[int, list[int]] = defaultdict(list)
    by_base_day: dict[tuple[str, date], list[int]] = defaultdict(list)
    by_person_day: dict[tuple[str, date], list[int]] = defaultdict(list)
    for j, (k, b, day, _) in enumerate(columns):
        by_request[k].append(j)
        by_base_day[(b, day)].append(j)
        by_person_day[(inst.requests[k].participant, day)].append(j)
    for k, js in by_request.items():
        r = inst.requests[k]
        _row(h, -inf, float(r.sessions - kept_count[r.id]), js, [1.0] * len(js))
    for (b, day), js in by_base_day.items():
        for needs in {inst.requests[columns[j][0]].needs for j in js}:
            sub = [j for j in js if needs <= inst.requests[columns[j][0]].needs]
            length = [float(inst.requests[columns[j][0]].length) for j in sub]
            _row(h, -inf, float(free.capacity(b, day, needs, int(max(length)))), sub, length)
    cap = inst.policy.max_sessions_per_day
    if cap is not None:
        for (p, day), js in by_person_day.items():
            _row(h, -inf, float(max(0, cap - kept_day[(p, day)])), js, [1.0] * len(js))
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    value = -h.getInfo().objective_function_value
    return base_total + int(value + 1e-6)


def _estimated_columns(inst: Instance, eligible: list[list[str]]) -> int:
    """Eligible bases times window days, summed over the requests: at least the columns built."""
    return sum(
        len(bases) * max(1, (r.window_end - r.window_start).days + 1)
        for r, bases in zip(inst.requests, eligible, strict=True)
    )


def _row(h: Any, lo: float, hi: float, index: list[int], value: list[float]) -> None:
    h.addRow(lo, hi, len(index), index, value)


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


def _free_runs(inst: Instance, held: set[str]) -> _FreeSlots:
    return _FreeSlots(inst, held)
