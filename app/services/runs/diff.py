"""What a re-optimization changes, why, and how to fit a plan around bookings made meanwhile.

Pure functions on the week as data (``scheduler.domain``), so they are tested on tiny
hand-built weeks and shared by the run service and its report:

* :func:`diff` — the tentative sessions a plan adds, moves and drops, each with a reason code.
  Locked and confirmed bookings never appear: the validator's rule 7 keeps them identical.
* :func:`touched_participants` — whose bookings changed between two snapshots of a week.
* :func:`merge_around` — the plan, refitted to the week as it is now: every booking of a
  participant whose bookings changed during the solve is kept as it is now, and plan sessions
  that would collide with a kept booking are left out. The caller validates the result again.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from app.models.vocabulary import BookingStatus, ChangeKind, ChangeReason
from app.services.exchange.pairing import pair_sessions, same
from scheduler.domain import Assignment, Booking, Instance, Plan

#: Reason codes a change can carry; the report translates them.
REASONS = tuple(ChangeReason)


@dataclass(frozen=True)
class SessionChange:
    """One tentative session added, moved or dropped by a plan."""

    change: ChangeKind
    request: str
    participant: str
    before: tuple[str, ...]
    after: tuple[str, ...]
    reason: ChangeReason


def _sessions_by_request(items) -> dict[str, Counter]:
    out: dict[str, Counter] = defaultdict(Counter)
    for item in items:
        out[item.request][tuple(item.slots)] += 1
    return out


def _start(inst: Instance, slots: tuple[str, ...]):
    return inst.slot_by_id[slots[0]].start


def diff(
    inst: Instance, plan: Plan, *, open_requests: set[str] | None = None
) -> list[SessionChange]:
    """Tentative sessions of ``inst`` the plan moves or drops, and sessions it adds.

    Within a request, an old and a new session are paired as a *move* in time order
    (``exchange.pairing``, as applying the plan pairs them); what is left over is dropped (old)
    or added (new). ``open_requests`` (default: all) tells a
    withdrawn request's dropped session from a displaced one.
    """
    fixed = _sessions_by_request(b for b in inst.bookings if b.status != BookingStatus.TENTATIVE)
    before = _sessions_by_request(b for b in inst.bookings if b.status == BookingStatus.TENTATIVE)
    after = _sessions_by_request(plan.assignments)
    for request, kept in fixed.items():  # a locked/confirmed booking is not the plan's doing
        after[request] = after.get(request, Counter()) - kept
    changes: list[SessionChange] = []
    for request in sorted(set(before) | set(after)):
        old, new = before.get(request, Counter()), after.get(request, Counter())
        both = old & new
        moves, gone, came = pair_sessions(
            inst,
            list((old - both).elements()),
            list((new - both).elements()),
            old_slots=same,
            new_slots=same,
        )
        participant = (
            inst.request_by_id[request].participant if request in inst.request_by_id else ""
        )
        for a, b in moves:
            reason = _move_reason(inst, request, a, b)
            changes.append(SessionChange(ChangeKind.MOVED, request, participant, a, b, reason))
        for a in gone:
            withdrawn = open_requests is not None and request not in open_requests
            reason = ChangeReason.WITHDRAWN if withdrawn else ChangeReason.DISPLACED
            changes.append(SessionChange(ChangeKind.DROPPED, request, participant, a, (), reason))
        for b in came:
            changes.append(
                SessionChange(ChangeKind.ADDED, request, participant, (), b, ChangeReason.PLACED)
            )
    return changes


def reason_for(
    inst: Instance,
    change: str,
    request: str,
    before: tuple[str, ...],
    after: tuple[str, ...],
    open_requests: set[str] | None = None,
) -> ChangeReason:
    """The reason code of one change, however the caller paired old and new sessions."""
    if change == ChangeKind.ADDED:
        return ChangeReason.PLACED
    if change == ChangeKind.DROPPED:
        withdrawn = open_requests is not None and request not in open_requests
        return ChangeReason.WITHDRAWN if withdrawn else ChangeReason.DISPLACED
    if request not in inst.request_by_id or not before or not after:
        return ChangeReason.REBALANCED
    return _move_reason(inst, request, before, after)


def _move_reason(
    inst: Instance, request: str, old: tuple[str, ...], new: tuple[str, ...]
) -> ChangeReason:
    """The most telling reason a session moved, by the spec's order of what a good plan is."""
    req = inst.request_by_id[request]
    old_base, new_base = inst.base_of_slot(old[0]), inst.base_of_slot(new[0])
    prefs = req.prefer_bases

    def rank(base: str) -> int:
        return prefs.index(base) if base in prefs else len(prefs)

    if old_base != new_base and rank(new_base) < rank(old_base):
        return ChangeReason.PREFERRED_BASE
    was_prime = any(inst.slot_by_id[s].prime for s in old)
    is_prime = any(inst.slot_by_id[s].prime for s in new)
    if req.prefer_prime and is_prime and not was_prime:
        return ChangeReason.PRIME_TIME
    if old_base != new_base:
        d_old = inst.distance_km(req.participant, old_base)
        d_new = inst.distance_km(req.participant, new_base)
        if d_new < d_old - 1.0:
            return ChangeReason.CLOSER
    return ChangeReason.REBALANCED


def _participant_of(inst: Instance, request: str) -> str | None:
    req = inst.request_by_id.get(request)
    return req.participant if req is not None else None


def touched_participants(before: Instance, now: Instance) -> set[str]:
    """Participants whose bookings (request, slots, status) differ between two snapshots."""

    def by_participant(inst: Instance) -> dict[str, Counter]:
        out: dict[str, Counter] = defaultdict(Counter)
        for b in inst.bookings:
            who = _participant_of(inst, b.request)
            out[who or f"?{b.request}"][(b.request, b.slots, b.status)] += 1
        return out

    old, new = by_participant(before), by_participant(now)
    return {p for p in set(old) | set(new) if old.get(p) != new.get(p)}


def merge_around(now: Instance, plan: Plan, touched: set[str]) -> Plan:
    """The plan refitted to ``now``: kept bookings first, then the plan's other sessions.

    Kept as they are now: every locked or confirmed booking, every booking starting before the
    frozen horizon, and every booking of a ``touched`` participant. A plan session is left out
    when its request is gone, its participant is touched, or one of its slots is kept by
    someone else. Leaving sessions out never breaks a hard rule, so only a request whose own
    terms changed can make the result invalid — which the caller's validation catches.
    """
    freeze = now.policy.freeze_until

    def must_keep(b: Booking) -> bool:
        if b.status != BookingStatus.TENTATIVE or _participant_of(now, b.request) in touched:
            return True
        return freeze is not None and _start(now, b.slots) < freeze

    kept = [b for b in now.bookings if must_keep(b)]
    kept_keys = Counter((b.request, b.slots) for b in kept)
    used = {s for b in kept for s in b.slots}
    assignments = [Assignment(b.request, b.slots) for b in kept]
    for a in plan.assignments:
        key = (a.request, tuple(a.slots))
        if kept_keys[key] > 0:  # the plan keeps it too: already in
            kept_keys[key] -= 1
            continue
        who = _participant_of(now, a.request)
        if who is None or who in touched or used.intersection(a.slots):
            continue
        if not all(s in now.slot_by_id for s in a.slots):
            continue
        used.update(a.slots)
        assignments.append(a)
    stats = {**plan.stats, "merged_around": sorted(touched)}
    return Plan(now.name, tuple(assignments), plan.unassigned, stats)
