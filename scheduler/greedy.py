"""First-come-first-served baseline, and the CP-SAT solver's warm start and fallback.

``greedy(instance)`` keeps every input booking (locked, confirmed, tentative, frozen) as it is,
then takes the requests in file order and gives each missing session the earliest free run of
``length`` consecutive slots at the best base it may use: its preferred bases first (in the
request's order), then the others nearest first; within a base, the first studio (in the base's
order) that has such a run. That is the reference baseline of ``shared/instances/README.md``:
it scores exactly its 746 / 3,529 / 18,140 weighted sessions on the small / medium / national
samples. A run is taken only when every hard rule still
holds: free slots in one studio with the needed features, inside the window, not before
``freeze_until``, and for the participant no overlap, the daily cap and one base per day; inside
the harvest lot's ``ready``..``best_before`` (rule 10) and, with category separation, not at the
same time as a same-category session of someone else at that base (rule 9).

It assumes the input passes ``validate.check_instance`` (its bookings are consistent); then the
plan it returns always passes ``validate.validate``. It needs no solver and runs the national
sample in about a second.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from datetime import time as dtime

import numpy as np
import numpy.typing as npt

from scheduler.domain import Assignment, Instance, Plan, Request, Slot, Unassigned, day_refusal
from scheduler.reach import Reach
from scheduler.validate import KM_TOLERANCE

#: Reason written into ``Plan.unassigned`` (``explain.py`` tells the binding reason per session).
NOT_PLACED = "no free eligible run left when its turn came (first come, first served)"


class Calendar:
    """What is taken so far: used slots and each participant's sessions, days and bases."""

    def __init__(self, inst: Instance) -> None:
        self.inst = inst
        self.used: set[str] = set()
        self.count: Counter[str] = Counter()  # sessions per request
        #: per participant, its sessions' (start, end) as POSIX seconds
        self.busy: dict[str, list[tuple[float, float]]] = defaultdict(list)
        self.per_day: Counter[tuple[str, date]] = Counter()
        self.base_of_day: dict[tuple[str, date], str] = {}
        #: (base, category) -> sessions there as (start, end, participant), for rule 9 (seconds)
        self.by_category: dict[tuple[str, str], list[tuple[float, float, str]]] = defaultdict(list)
        self.separate = inst.policy.category_separation == "base"
        self._midnight: dict[date, float] = {}
        self.day_of_slot = inst.day_of_slot  # shared with the validation of the plan
        # Per studio, "the next free slot at or after index i" as a union-find forest over the
        # studio's slots in time order: a scan jumps over taken slots instead of testing them.
        self.index_of = {
            s.id: i for slots in inst.slots_by_studio.values() for i, s in enumerate(slots)
        }
        self.next_free_of = {
            sid: list(range(len(slots) + 1)) for sid, slots in inst.slots_by_studio.items()
        }
        self.free_left = {sid: len(slots) for sid, slots in inst.slots_by_studio.items()}
        # Times as POSIX seconds: comparing aware datetimes costs an offset lookup each time.
        self.starts = {
            sid: [s.start.timestamp() for s in slots] for sid, slots in inst.slots_by_studio.items()
        }
        self.ends = {
            sid: [s.end.timestamp() for s in slots] for sid, slots in inst.slots_by_studio.items()
        }
        # The same forest the other way, shifted by one ("the last free slot before position p";
        # 0 when none is): each studio's latest free slot, and per needs each base's (the latest
        # of its studios with them), so that a search drops in one numpy step every base whose
        # free slots all start before the request's window.
        self.prev_free_of = {
            sid: list(range(len(slots) + 1)) for sid, slots in inst.slots_by_studio.items()
        }
        self._base_at = {b.id: i for i, b in enumerate(inst.bases)}
        self._latest: dict[frozenset[str], npt.NDArray[np.float64]] = {}
        # Per studio, for each slot index, the index of the studio's first slot of a later day:
        # a scan skips a whole day the participant cannot use (daily cap, another base).
        self.next_day_of = {}
        for sid, slots in inst.slots_by_studio.items():
            nxt, later = [0] * len(slots), len(slots)
            for i in range(len(slots) - 1, -1, -1):
                if (
                    i + 1 < len(slots)
                    and self.day_of_slot[slots[i + 1].id] != self.day_of_slot[slots[i].id]
                ):
                    later = i + 1
                nxt[i] = later
            self.next_day_of[sid] = nxt

    def next_free(self, studio: str, i: int) -> int:
        """The index of the first free slot of ``studio`` at or after ``i`` (its slot count when
        none is)."""
        return _find(self.next_free_of[studio], i)

    def copy(self) -> Calendar:
        """An independent copy (to try placements without touching this one)."""
        other = Calendar.__new__(Calendar)
        other.inst, other.day_of_slot, other.index_of = self.inst, self.day_of_slot, self.index_of
        other.next_day_of = self.next_day_of
        other.starts, other.ends, other._base_at = self.starts, self.ends, self._base_at
        other.prev_free_of = {k: list(v) for k, v in self.prev_free_of.items()}
        other._latest = {k: v.copy() for k, v in self._latest.items()}
        other.next_free_of = {k: list(v) for k, v in self.next_free_of.items()}
        other.free_left = dict(self.free_left)
        other.used = set(self.used)
        other.count = Counter(self.count)
        other.busy = defaultdict(list, {k: list(v) for k, v in self.busy.items()})
        other.per_day = Counter(self.per_day)
        other.base_of_day = dict(self.base_of_day)
        other.by_category = defaultdict(list, {k: list(v) for k, v in self.by_category.items()})
        other.separate, other._midnight = self.separate, self._midnight
        return other

    def take(self, request: Request, slots: tuple[Slot, ...]) -> None:
        pid = request.participant
        day = self.day_of_slot[slots[0].id]
        self.used.update(s.id for s in slots)
        was = self.latest_free(slots[0].studio) if self._latest else None
        for s in slots:
            i = self.index_of[s.id]
            self.next_free_of[s.studio][i] = i + 1
            self.prev_free_of[s.studio][i + 1] = i
            self.free_left[s.studio] -= 1
        if was is not None:
            self._update_latest(slots[0].studio, was)
        self.count[request.id] += 1
        start, end = slots[0].start.timestamp(), slots[-1].end.timestamp()
        self.busy[pid].append((start, end))
        self.per_day[pid, day] += 1
        base = self.inst.studio_by_id[slots[0].studio].base
        self.base_of_day.setdefault((pid, day), base)
        category = self.inst.participant_by_id[pid].category
        if self.separate and category:
            self.by_category[base, category].append((start, end, pid))

    def latest_free(self, studio: str) -> float:
        """When the studio's last free slot starts (POSIX seconds; -inf when none is free)."""
        p = _find(self.prev_free_of[studio], len(self.starts[studio]))
        return self.starts[studio][p - 1] if p else -np.inf

    def latest_free_by_base(self, needs: frozenset[str]) -> npt.NDArray[np.float64]:
        """By base index, when the last free slot of its studios with every one of ``needs``
        starts (-inf when none is); kept up to date by ``take`` once asked for."""
        table = self._latest.get(needs)
        if table is None:
            table = np.full(len(self._base_at), -np.inf)
            for b in self.inst.bases:
                for studio in b.studios:
                    if needs <= studio.features:
                        i = self._base_at[b.id]
                        table[i] = max(table[i], self.latest_free(studio.id))
            self._latest[needs] = table
        return table

    def _update_latest(self, studio: str, was: float) -> None:
        """Each table's figure for the base of ``studio``, whose last free slot started at ``was``
        before slots of it were taken."""
        now = self.latest_free(studio)
        if now == was:
            return  # a slot before its last free one: no figure changes
        inst = self.inst
        features, base = inst.studio_by_id[studio].features, inst.studio_by_id[studio].base
        b = self._base_at[base]
        for needs, table in self._latest.items():
            if needs <= features and table[b] == was:
                table[b] = max(
                    (
                        self.latest_free(s.id)
                        for s in inst.base_by_id[base].studios
                        if needs <= s.features
                    ),
                    default=-np.inf,
                )

    def day_open(self, pid: str, base: str, day: date) -> bool:
        """Whether ``pid`` may have one more session on ``day`` at ``base`` (daily cap, same day
        same base)."""
        held = self.base_of_day.get((pid, day))
        bases = () if held is None else (held,)
        return day_refusal(self.inst.policy, self.per_day[pid, day], bases, base) is None

    def first_open_days(
        self, pid: str, first: date, last: date
    ) -> tuple[date | None, dict[str, date]]:
        """Where and from when ``pid`` may start one more session on days ``first``..``last``
        (daily cap, same day same base): the first day open at every base (None when no day is),
        and the bases that hold an open day of the participant's before that one, each with its
        first such day. Nothing open anywhere is ``(None, {})``."""
        policy = self.inst.policy
        cap = policy.max_sessions_per_day
        held: dict[str, date] = {}
        for k in range((last - first).days + 1):
            day = first + timedelta(days=k)
            if cap is not None and self.per_day[pid, day] >= cap:
                continue
            bound = self.base_of_day.get((pid, day)) if policy.same_day_same_base else None
            if bound is None:
                return day, held
            held.setdefault(bound, day)
        return None, held

    def earliest_start(
        self, open_days: tuple[date | None, dict[str, date]], window: tuple[float, float]
    ) -> float:
        """The earliest a session may start at any base, given the participant's
        ``first_open_days`` and the request's window (POSIX seconds)."""
        anywhere, held = open_days
        since = min(d for d in (anywhere, *held.values()) if d is not None)
        return max(window[0], self.midnight(since))

    def midnight(self, day: date) -> float:
        """The POSIX time at which ``day`` begins in the instance's time zone."""
        t = self._midnight.get(day)
        if t is None:
            t = self._midnight[day] = datetime.combine(day, dtime(), self.inst.tz).timestamp()
        return t

    def free_of_own_sessions(self, pid: str, start: datetime, end: datetime) -> bool:
        """Rule 6: no session of ``pid`` overlaps ``start``..``end``."""
        return self.own_free(pid, start.timestamp(), end.timestamp())

    def own_free(self, pid: str, start: float, end: float) -> bool:
        """``free_of_own_sessions`` with times as POSIX seconds."""
        return all(end <= s or e <= start for s, e in self.busy[pid])

    def category_free(self, pid: str, base: str, start: datetime, end: datetime) -> bool:
        """Rule 9: no same-category session of another participant overlaps at ``base``."""
        return self.category_free_at(pid, base, start.timestamp(), end.timestamp())

    def category_free_at(self, pid: str, base: str, start: float, end: float) -> bool:
        """``category_free`` with times as POSIX seconds."""
        category = self.inst.participant_by_id[pid].category
        if not self.separate or not category:
            return True
        return all(
            end <= s or e <= start or who == pid for s, e, who in self.by_category[base, category]
        )

    def participant_can(self, pid: str, base: str, first: Slot, end: datetime) -> bool:
        """Daily cap, same day same base and no overlap for one more session of ``pid`` that
        starts with slot ``first`` and ends at ``end``."""
        return self.day_open(pid, base, self.day_of_slot[first.id]) and (
            self.free_of_own_sessions(pid, first.start, end)
        )


def eligible_bases(inst: Instance, request: Request) -> list[str]:
    """Bases the request may use (allowed, within ``max_km``, a studio with every need), best
    first: preferred bases in the request's order, then the rest nearest first."""
    rank = {b: i for i, b in enumerate(request.prefer_bases)}
    out = []
    for base in inst.bases:
        if request.bases is not None and base.id not in request.bases:
            continue
        km = inst.distance_km(request.participant, base.id)
        if request.max_km is not None and km > request.max_km + KM_TOLERANCE:
            continue
        if not any(request.needs <= s.features for s in base.studios):
            continue
        out.append(((0, rank[base.id]) if base.id in rank else (1, km), base.id))
    return [b for _, b in sorted(out)]


def greedy(inst: Instance) -> Plan:
    """Keep every booking, then serve requests first come, first served (see the module doc)."""
    t0 = time.perf_counter()
    cal, reach = Calendar(inst), Reach(inst)
    assignments = [Assignment(b.request, b.slots) for b in inst.bookings]
    for b in inst.bookings:
        cal.take(inst.request_by_id[b.request], tuple(inst.slot_by_id[s] for s in b.slots))

    freeze = inst.policy.freeze_until
    unassigned = []
    for r in inst.requests:
        missing = r.sessions - cal.count[r.id]
        if missing <= 0:
            continue
        earliest, latest = r.window_start, r.window_end
        if freeze is not None:
            earliest = max(earliest, freeze)
        if r.harvest is not None:  # rule 10: the lot's own window
            earliest = max(earliest, r.harvest.ready)
            latest = min(latest, r.harvest.best_before)
        window = (earliest.timestamp(), latest.timestamp())
        days = (inst.local_day(earliest), inst.local_day(latest))
        preferred, rest, rest_index = reach.preferred(r), None, None
        # A base that had no run for this request's last session has none for the next one
        # either (slots only get taken, the participant's days only fill): each search goes on
        # from the base where the last one stopped.
        from_preferred = from_rest = 0
        while missing > 0:
            open_days = cal.first_open_days(r.participant, *days)
            if open_days == (None, {}):
                break  # every day of the window is full for the participant
            from_preferred, run = _first_run(
                cal, reach, r, preferred, None, from_preferred, open_days, window
            )
            if run is None:  # only now measure the far bases
                if rest is None:
                    # Only those with a free slot late enough now: a base full for this session
                    # is full for the request's next ones too.
                    since = cal.earliest_start(open_days, window)
                    rest_index = reach.rest_index(r, cal.latest_free_by_base(r.needs) >= since)
                    rest = rest_index.tolist()
                from_rest, run = _first_run(
                    cal, reach, r, rest, rest_index, from_rest, open_days, window
                )
            if run is None:
                break
            cal.take(r, run)
            assignments.append(Assignment(r.id, tuple(s.id for s in run)))
            missing -= 1
        if missing > 0:
            unassigned.append(Unassigned(r.id, missing, NOT_PLACED))

    served = sum(inst.weight_of(a.request) for a in assignments)
    stats = {
        "status": "GREEDY",
        "objective": served,
        "weighted_served": served,
        "wall_s": round(time.perf_counter() - t0, 3),
    }
    return Plan(inst.name, tuple(assignments), tuple(unassigned), stats)


#: With more bases than this left to search, the numpy step that drops the full ones first
#: costs less than testing them one by one.
_FEW_BASES = 12


def _first_run(
    cal: Calendar,
    reach: Reach,
    r: Request,
    bases: list[int],
    index: npt.NDArray[np.intp] | None,
    first: int,
    open_days: tuple[date | None, dict[str, date]],
    window: tuple[float, float],
) -> tuple[int, tuple[Slot, ...] | None]:
    """The earliest run of ``r`` at the first of ``bases[first:]`` that has one (see
    ``_earliest_run``), with that base's position in ``bases`` (``len(bases)`` when none has);
    ``index`` is ``bases`` as an array, or None. ``open_days`` is ``cal.first_open_days`` of the
    participant: at each base the search starts on the first day the participant may use there,
    and skips a base with none."""
    studios_of, ids, free_left, length = reach.studios(r.needs), reach.ids, cal.free_left, r.length
    parents, starts, ends, w1 = cal.next_free_of, cal.starts, cal.ends, window[1]
    anywhere, held = open_days
    positions: Iterable[int] = range(first, len(bases))
    if index is not None and len(bases) - first > _FEW_BASES:
        # Only the bases with a free slot that starts on or after the earliest day the
        # participant may use at any of them: the others cannot have a run.
        latest = cal.latest_free_by_base(r.needs)[index[first:]]
        found = np.flatnonzero(latest >= cal.earliest_start(open_days, window))
        positions = (found + first).tolist()
    for position in positions:
        base = ids[bases[position]]
        day = held.get(base, anywhere) if held else anywhere
        if day is None:
            continue
        w0 = max(window[0], cal.midnight(day))
        # Only the studios whose first free slot from then on starts a run that ends inside the
        # window (the scan stops at once at the others): most bases are passed over here.
        studios = []
        for s in studios_of[bases[position]]:
            if free_left[s] < length:
                continue
            k = _find(parents[s], bisect_left(starts[s], w0)) + length - 1
            studio_ends = ends[s]
            if k < len(studio_ends) and studio_ends[k] <= w1:
                studios.append(s)
        if not studios:
            continue
        run = _earliest_run(cal, r, base, studios, (w0, w1))
        if run is not None:
            return position, run
    return len(bases), None


def _earliest_run(
    cal: Calendar,
    r: Request,
    base: str,
    studios: list[str],
    window: tuple[float, float],
) -> tuple[Slot, ...] | None:
    """The earliest free run of ``r.length`` consecutive slots that the participant may take, in
    the first of ``studios`` (in the base's order) that has one; None if none has."""
    length, pid = r.length, r.participant
    used, day_of_slot = cal.used, cal.day_of_slot
    per_day, base_of_day = cal.per_day, cal.base_of_day
    cap = cal.inst.policy.max_sessions_per_day
    one_base = cal.inst.policy.same_day_same_base
    w0, w1 = window
    open_day: dict[date, bool] = {}
    for sid in studios:
        slots = cal.inst.slots_by_studio[sid]
        parent = cal.next_free_of[sid]
        next_day = cal.next_day_of[sid]
        studio_ends = cal.ends[sid]
        last = len(slots) - length  # the last index a run may start at
        i = _find(parent, bisect_left(cal.starts[sid], w0))
        while i <= last:
            if studio_ends[i + length - 1] > w1:
                break  # later runs end later still
            day = day_of_slot[slots[i].id]
            ok = open_day.get(day)
            if ok is None:  # cal.day_open(pid, base, day) (rule 6, as domain.day_refusal reads it)
                held = base_of_day.get((pid, day))
                ok = open_day[day] = (cap is None or per_day[pid, day] < cap) and not (
                    one_base and held is not None and held != base
                )
            if not ok:
                i = _find(parent, next_day[i])
                continue
            run = slots[i : i + length]
            if length > 1:  # slot i is free (found free); the others may not be
                taken = [k for k in range(1, length) if run[k].id in used]
                if taken:
                    i = _find(parent, i + taken[-1] + 1)
                    continue
                if not all(x.end == y.start for x, y in zip(run, run[1:], strict=False)):
                    i = _find(parent, i + 1)
                    continue
            start, end = cal.starts[sid][i], studio_ends[i + length - 1]
            if cal.own_free(pid, start, end) and cal.category_free_at(pid, base, start, end):
                return run
            i = _find(parent, i + 1)
    return None


def _find(parent: list[int], i: int) -> int:
    """``Calendar.next_free`` on one studio's forest (a function call less in the scan)."""
    root = i
    while parent[root] != root:
        root = parent[root]
    while parent[i] != root:  # path compression
        parent[i], i = root, parent[i]
    return root
