"""The hard rules decided per candidate placement, one function per rule: a placement that would
break one never becomes a variable of the model (``candidates.generate`` applies them).

Each reads as its rule and can be dropped alone (``make mutants``); the per-class filters take a
class's start positions and return those that keep the rule. Times are minutes since the epoch.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from scheduler.domain import Booking, Instance, Policy, Request, day_refusal
from scheduler.validate import KM_TOLERANCE

#: A numpy distance this close to ``max_km`` is measured again with ``Instance.distance_km``.
EXACT_BAND_KM = 1e-6

if TYPE_CHECKING:  # candidates.py imports this module; these are for annotations only
    from scheduler.candidates import Candidates, StudioClass


def minute(t: datetime) -> int:
    """Minutes since the epoch: the unit every candidate time is kept in."""
    return int(t.timestamp()) // 60


def kept_by_status(b: Booking) -> bool:
    """Rule 7: a locked or confirmed booking stays in the plan, unchanged."""
    return b.status in ("locked", "confirmed")


def frozen(inst: Instance, t: datetime) -> bool:
    """Rule 8: before ``freeze_until`` nothing new starts and every booking stays as it is."""
    fz = inst.policy.freeze_until
    return fz is not None and t < fz


def inside_window(
    window: tuple[int, int], c: StudioClass, length: int, starts: list[int]
) -> list[int]:
    """Rule 4: the start positions of ``c`` whose session of ``length`` slots lies in the
    request's window (in minutes since the epoch, see :func:`window_minutes`)."""
    w0, w1 = window
    return [j for j in starts if w0 <= c.starts[j] and c.ends[j + length - 1] <= w1]


def window_minutes(r: Request) -> tuple[int, int]:
    """A request's window in minutes since the epoch (computed once per request, not per run)."""
    return minute(r.window_start), minute(r.window_end)


def allowed_base(r: Request, base: str) -> bool:
    """Rule 5a: the request allows the base (``bases`` is None for any base)."""
    return r.bases is None or base in r.bases


def within_reach(
    inst: Instance, r: Request, bases: Sequence[str], km: npt.NDArray[np.float64]
) -> npt.NDArray[np.bool_]:
    """Rule 5b: which of ``bases`` lie within the request's ``max_km`` of its participant.

    ``km`` holds their distances from the participant as numpy measures them (the spec's
    haversine, vectorised); one within a micrometre of the limit is measured again with
    ``Instance.distance_km``, so the cut-off is exactly the spec's and the validator's.
    """
    if r.max_km is None:
        return np.ones(len(bases), dtype=bool)
    limit = r.max_km + KM_TOLERANCE
    keep: npt.NDArray[np.bool_] = km <= limit + EXACT_BAND_KM
    for i in np.flatnonzero(keep & (km > limit - EXACT_BAND_KM)):
        keep[i] = inst.distance_km(r.participant, bases[int(i)]) <= limit
    return keep


def has_features(needs: frozenset[str], features: frozenset[str]) -> bool:
    """Rule 5c: the studio has every feature the request needs."""
    return needs <= features


def runs_of(c: StudioClass, length: int) -> list[int]:
    """Rule 1: start positions of ``length`` consecutive slots in a class's timetable."""
    out = []
    for j in range(len(c.starts) - length + 1):
        if all(c.ends[j + k] == c.starts[j + k + 1] for k in range(length - 1)):
            out.append(j)
    return out


def clear_of_kept(
    busy: Sequence[tuple[int, int]], c: StudioClass, length: int, starts: list[int]
) -> list[int]:
    """Rule 6a against kept sessions: the start positions of ``c`` whose session of ``length``
    slots does not overlap one of the participant's kept sessions (``busy``, in minutes)."""
    if not busy:
        return starts
    return [
        j
        for j in starts
        if not any(c.starts[j] < b1 and b0 < c.ends[j + length - 1] for b0, b1 in busy)
    ]


def inside_harvest(
    lot: tuple[int, int] | None, c: StudioClass, length: int, starts: list[int]
) -> list[int]:
    """Rule 10: the start positions of ``c`` whose session of ``length`` slots lies inside the
    request's harvest lot, ``ready`` .. ``best_before`` (all of them without a lot; minutes since
    the epoch, see :func:`harvest_minutes`)."""
    if lot is None:
        return starts
    r0, r1 = lot
    return [j for j in starts if r0 <= c.starts[j] and c.ends[j + length - 1] <= r1]


def harvest_minutes(r: Request) -> tuple[int, int] | None:
    """A request's harvest lot in minutes since the epoch (None without a lot)."""
    if r.harvest is None:
        return None
    return minute(r.harvest.ready), minute(r.harvest.best_before)


def apart_from_kept_rivals(
    rivals: Sequence[tuple[int, int]], c: StudioClass, length: int, starts: list[int]
) -> list[int]:
    """Rule 9 against kept sessions: the start positions of ``c`` whose session does not overlap
    a kept same-category session of another participant at this base (``rivals``, in minutes;
    new ones are kept apart by the model, ``rules/category.py``)."""
    if not rivals:
        return starts
    return [
        j
        for j in starts
        if not any(c.starts[j] < b1 and b0 < c.ends[j + length - 1] for b0, b1 in rivals)
    ]


def exempt_bookings(inst: Instance) -> set[int]:
    """Input bookings (by index) that already break rule 10 (outside their lot's dates) or rule 9
    (beside a same-category booking of another participant at their base): exempt only while
    unchanged, and no candidate could put them back, so they are kept rather than lost."""
    out: set[int] = set()
    groups: dict[tuple[str, str], list[tuple[int, datetime, datetime, str]]] = defaultdict(list)
    separate = inst.policy.category_separation == "base"
    for k, b in enumerate(inst.bookings):
        r = inst.request_by_id[b.request]
        first, last = inst.slot_by_id[b.slots[0]], inst.slot_by_id[b.slots[-1]]
        lot = r.harvest
        if lot is not None and (first.start < lot.ready or last.end > lot.best_before):
            out.add(k)
        category = inst.participant_by_id[r.participant].category
        if separate and category:
            groups[(inst.base_of_slot(first.id), category)].append(
                (k, first.start, last.end, r.participant)
            )
    for members in groups.values():
        for k, s, e, p in members:
            if any(p != q and s < e2 and s2 < e for _, s2, e2, q in members):
                out.add(k)
    return out


def day_open(policy: Policy, cands: Candidates, participant: str, d: int, base: str) -> bool:
    """Rule 6b-c against kept sessions: a new session of ``participant`` may start on day ``d`` at
    ``base``: its kept sessions leave room under the daily cap, and (same-day-same-base) they are
    at this base if there are any that day."""
    done = cands.kept_per_day.get((participant, d), 0)
    fixed = cands.kept_base.get((participant, d))
    return day_refusal(policy, done, () if fixed is None else (fixed,), base) is None
