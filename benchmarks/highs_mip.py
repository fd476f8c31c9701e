"""An independent HiGHS MIP of every hard rule, maximizing weighted served sessions alone.

It shares nothing with the CP-SAT model but the week as data: a reference for how good the
solver's weighted served is (HiGHS's best and its proven bound), as the shared samples' README
quotes one. The formulation, in the spec's rule numbers:

* ``x[p]`` for every placement ``p`` = (request, studio, first slot) whose run of ``length``
  consecutive slots (1) lies in the window (4), at an allowed base within ``max_km`` in a studio
  with the needed features (5), not before ``freeze_until`` (8) and not on a kept booking's slots;
* kept bookings — locked, confirmed, and any starting before ``freeze_until`` (7, 8) — are fixed:
  their slots are gone, their sessions count against the request, the participant's day and
  base, and placements overlapping them are never created. Tentative bookings after the freeze
  are not kept: their request competes again;
* slot capacity (2): the placements covering a slot sum to at most 1;
* sessions (3): a request's placements sum to at most ``sessions`` minus its kept sessions;
* participant (6): at every start instant, the participant's placements running then sum to at
  most 1 (intervals: pairwise overlap is enough, Helly); per day at most the cap minus kept;
  same day same base through ``y[participant, day, base]``: ``sum x(p,d,b) <= M * y`` and
  ``sum_b y <= 1``.

The objective is the referee's ``weighted_served`` (1/2/4 per priority), kept bookings included as
a constant, so HiGHS's objective, bound and gap are in the same units as the figures.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import highspy
import numpy as np

from scheduler.domain import Assignment, Instance, Plan
from scheduler.validate import KM_TOLERANCE


class TooBig(Exception):
    """More placements than the caller allows: the week is out of HiGHS's reach."""


@dataclass
class Result:
    status: str
    best: float | None  # weighted served of the best plan found (kept bookings included)
    bound: float | None
    time_s: float  # building and solving
    placements: int
    plan: Plan | None = None
    build_s: float = 0.0
    extra: dict = field(default_factory=dict)

    @property
    def gap(self) -> float | None:
        if self.best is None or not self.bound:
            return None
        return abs(self.bound - self.best) / abs(self.bound)


def kept_bookings(inst: Instance):
    """Bookings that must stay as they are: locked, confirmed, or starting before the freeze."""
    freeze = inst.policy.freeze_until
    return [
        b
        for b in inst.bookings
        if b.status in ("locked", "confirmed")
        or (freeze is not None and inst.slot_by_id[b.slots[0]].start < freeze)
    ]


def placements(inst: Instance, max_placements: int | None = None):
    """Every placement a new session could take, as parallel lists, and the kept bookings."""
    policy = inst.policy
    kept = kept_bookings(inst)
    taken = {s for b in kept for s in b.slots}
    kept_count = Counter(b.request for b in kept)
    busy = defaultdict(list)  # participant -> kept (start, end)
    day_count = Counter()  # (participant, day) -> kept sessions
    day_base = {}  # (participant, day) -> base of its kept sessions
    for b in kept:
        pid = inst.request_by_id[b.request].participant
        first, last = inst.slot_by_id[b.slots[0]], inst.slot_by_id[b.slots[-1]]
        day = inst.local_day(first.start)
        busy[pid].append((first.start, last.end))
        day_count[pid, day] += 1
        day_base[pid, day] = inst.base_of_slot(first.id)
    day_of = {s.id: inst.local_day(s.start) for s in inst.slots}

    req, studio_of, runs = [], [], []
    for ri, r in enumerate(inst.requests):
        if r.sessions - kept_count[r.id] <= 0:
            continue
        pid = r.participant
        lo = r.window_start
        if policy.freeze_until is not None:
            lo = max(lo, policy.freeze_until)
        for base in inst.bases:
            if r.bases is not None and base.id not in r.bases:
                continue
            if r.max_km is not None and inst.distance_km(pid, base.id) > r.max_km + KM_TOLERANCE:
                continue
            for studio in base.studios:
                if not r.needs <= studio.features:
                    continue
                slots = inst.slots_by_studio[studio.id]
                for i in range(len(slots) - r.length + 1):
                    run = slots[i : i + r.length]
                    start, end = run[0].start, run[-1].end
                    if start < lo:
                        continue
                    if end > r.window_end:
                        break
                    if any(x.end != y.start for x, y in zip(run, run[1:], strict=False)):
                        continue
                    if any(s.id in taken for s in run):
                        continue
                    day = day_of[run[0].id]
                    if policy.max_sessions_per_day is not None and (
                        day_count[pid, day] >= policy.max_sessions_per_day
                    ):
                        continue
                    if policy.same_day_same_base and day_base.get((pid, day), base.id) != base.id:
                        continue
                    if any(start < e and s < end for s, e in busy[pid]):
                        continue
                    req.append(ri)
                    studio_of.append(base.id)
                    runs.append(run)
                    if max_placements is not None and len(runs) > max_placements:
                        raise TooBig(f"more than {max_placements:,} placements")
    return req, studio_of, runs, kept, kept_count, day_count


def solve_highs(
    inst: Instance,
    *,
    time_limit_s: float = 60.0,
    threads: int = 2,
    max_placements: int | None = 2_000_000,
    start: Plan | None = None,
    verbose: bool = False,
) -> Result:
    """Build and solve the MIP; the best plan found (validated by the caller) and the bound.
    ``start`` (a valid plan, e.g. greedy's) is handed to HiGHS as a MIP start."""
    t0 = time.perf_counter()
    policy = inst.policy
    req, base_of, runs, kept, kept_count, day_count = placements(inst, max_placements)
    n = len(runs)
    rows: list[tuple[list[int], list[float], float]] = []  # (columns, coefficients, upper)

    by_slot = defaultdict(list)
    for p, run in enumerate(runs):
        for s in run:
            by_slot[s.id].append(p)
    rows += [(ps, [1.0] * len(ps), 1.0) for ps in by_slot.values() if len(ps) > 1]

    by_request = defaultdict(list)
    for p, ri in enumerate(req):
        by_request[ri].append(p)
    for ri, ps in by_request.items():
        r = inst.requests[ri]
        room = r.sessions - kept_count[r.id]
        if len(ps) > room:
            rows.append((ps, [1.0] * len(ps), float(room)))

    by_participant = defaultdict(list)
    for p, ri in enumerate(req):
        by_participant[inst.requests[ri].participant].append(p)
    n_y = 0
    y_rows = []
    y_members: list[list[int]] = []  # the placements each y column switches on
    for pid, ps in by_participant.items():
        # Overlap: one row per start instant, over the placements running at that instant.
        starts = sorted({runs[p][0].start for p in ps})
        for t in starts:
            on = [p for p in ps if runs[p][0].start <= t < runs[p][-1].end]
            if len(on) > 1:
                rows.append((on, [1.0] * len(on), 1.0))
        by_day = defaultdict(list)
        for p in ps:
            by_day[inst.local_day(runs[p][0].start)].append(p)
        for day, dps in by_day.items():
            cap = policy.max_sessions_per_day
            if cap is not None and len(dps) > cap - day_count[pid, day]:
                rows.append((dps, [1.0] * len(dps), float(cap - day_count[pid, day])))
            if not policy.same_day_same_base:
                continue
            at_base = defaultdict(list)
            for p in dps:
                at_base[base_of[p]].append(p)
            if len(at_base) < 2:
                continue
            ys = []
            for bps in at_base.values():
                y = n + n_y
                n_y += 1
                ys.append(y)
                y_members.append(bps)
                big = float(min(len(bps), cap if cap is not None else len(bps)))
                y_rows.append((bps + [y], [1.0] * len(bps) + [-big], 0.0))
            y_rows.append((ys, [1.0] * len(ys), 1.0))
    rows += y_rows

    n_cols = n + n_y
    weight = np.zeros(n_cols)
    for p, ri in enumerate(req):
        weight[p] = inst.participant_by_id[inst.requests[ri].participant].weight
    kept_weight = float(sum(inst.weight_of(b.request) for b in kept))

    lp = highspy.HighsLp()
    lp.num_col_ = n_cols
    lp.num_row_ = len(rows)
    lp.col_cost_ = weight
    lp.col_lower_ = np.zeros(n_cols)
    lp.col_upper_ = np.ones(n_cols)
    lp.row_lower_ = np.full(len(rows), -highspy.kHighsInf)
    lp.row_upper_ = np.array([u for _, _, u in rows], dtype=float)
    lp.offset_ = kept_weight
    lp.sense_ = highspy.ObjSense.kMaximize
    lengths = np.fromiter((len(c) for c, _, _ in rows), dtype=np.int64, count=len(rows))
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.num_col_ = n_cols
    lp.a_matrix_.num_row_ = len(rows)
    lp.a_matrix_.start_ = np.concatenate(([0], np.cumsum(lengths))).astype(np.int32)
    lp.a_matrix_.index_ = np.fromiter(
        (c for cols, _, _ in rows for c in cols), dtype=np.int32, count=int(lengths.sum())
    )
    lp.a_matrix_.value_ = np.fromiter(
        (v for _, vals, _ in rows for v in vals), dtype=float, count=int(lengths.sum())
    )
    lp.integrality_ = [highspy.HighsVarType.kInteger] * n_cols
    del rows, y_rows

    h = highspy.Highs()
    h.setOptionValue("output_flag", verbose)
    h.setOptionValue("threads", threads)
    build_s = time.perf_counter() - t0
    h.setOptionValue("time_limit", max(1.0, time_limit_s - build_s))
    h.passModel(lp)
    if start is not None:
        h.setSolution(_mip_start(inst, start, req, runs, y_members, n))
    h.run()
    info = h.getInfo()
    status = h.modelStatusToString(h.getModelStatus())
    elapsed = time.perf_counter() - t0
    bound = float(info.mip_dual_bound)
    bound = bound if np.isfinite(bound) else None
    if info.primal_solution_status != 2:  # no feasible point, maybe a bound
        return Result(status, None, bound, elapsed, n, build_s=build_s)
    x = np.asarray(h.getSolution().col_value[:n])
    chosen = [p for p in range(n) if x[p] > 0.5]
    assignments = [Assignment(b.request, b.slots) for b in kept]
    assignments += [
        Assignment(inst.requests[req[p]].id, tuple(s.id for s in runs[p])) for p in chosen
    ]
    best = kept_weight + sum(weight[p] for p in chosen)
    plan = Plan(
        inst.name,
        tuple(assignments),
        stats={"status": status, "objective": best, "bound": bound, "wall_s": round(elapsed, 2)},
    )
    return Result(status, best, bound, elapsed, n, plan, build_s=build_s)


def _mip_start(inst: Instance, start: Plan, req, runs, y_members, n: int) -> highspy.HighsSolution:
    """Column values reproducing ``start``: its new sessions' placements, and the y of every
    (participant, day, base) they use. Sessions that are kept bookings are constants already."""
    index = {
        (inst.requests[ri].id, tuple(s.id for s in run)): p
        for p, (ri, run) in enumerate(zip(req, runs, strict=True))
    }
    kept = Counter((b.request, b.slots) for b in kept_bookings(inst))
    x = np.zeros(n + len(y_members))
    for a in start.assignments:
        if kept[(a.request, a.slots)] > 0:
            kept[(a.request, a.slots)] -= 1
            continue
        p = index.get((a.request, a.slots))
        if p is not None:
            x[p] = 1.0
    for k, members in enumerate(y_members):
        x[n + k] = float(any(x[p] for p in members))
    sol = highspy.HighsSolution()
    sol.col_value = list(x)
    sol.value_valid = True
    return sol
