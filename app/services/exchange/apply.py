"""Apply a plan to a week: validate every hard rule, then replace the movable bookings at once.

``apply_plan`` is the one place a plan reaches the database (the CLI's apply-plan and the nightly
job both call it). It rebuilds the week from the database inside the caller's transaction,
validates the plan with ``scheduler.validate``, and only if nothing is broken diffs the plan
against the active bookings: a booking whose (request, slots) is in the plan is kept; a
tentative booking that is not is *moved* when the plan gives its request a new session, else
*dropped* (cancelled); the plan's remaining sessions are *added* as tentative bookings by the
optimizer. Old and new sessions of a request pair up in time order (``exchange.pairing``), as
the run report's diff pairs them. Locked, confirmed and frozen bookings cannot change: the validator refuses a plan
that loses one (rules 7 and 8). The caller commits; nothing is committed here.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import AnySession
from app.models import (
    ACTIVE_STATUSES,
    AuditEvent,
    Booking,
    BookingRequest,
    BookingSlot,
    OptimizationRun,
    Participant,
    PlanningWeek,
    RunChange,
    Slot,
    SlotHold,
    TimetableWeek,
    User,
    booking_code,
    utcnow,
)
from app.models.vocabulary import (
    ActorKind,
    BookingStatus,
    ChangeKind,
    ChangeReason,
    Origin,
    RunKind,
    RunState,
)
from app.services.bulk import copy_rows, insert_coded
from app.services.exchange.export import build_instance
from app.services.exchange.mapping import direct_request_code
from app.services.exchange.pairing import pair_sessions, same
from scheduler.domain import Instance, Plan
from scheduler.metrics import figures
from scheduler.validate import Violation, validate

#: Why a run change was made: (change kind, request, slots before, slots after) -> its code.
Reason = Callable[[str, str, tuple[str, ...], tuple[str, ...]], ChangeReason]


class PlanRejected(ValueError):
    """The plan breaks hard rules (``violations``) or names another week; nothing was written."""

    def __init__(self, message: str, violations: list[Violation] | None = None) -> None:
        super().__init__(message)
        self.violations = violations or []


@dataclass(frozen=True)
class Change:
    """One booking the plan changed: slot codes before (moved, dropped) and after (added, moved)."""

    booking: str
    request: str
    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlanDiff:
    """What applying a plan did, and the run that records it."""

    run_id: int
    added: list[Change] = field(default_factory=list)
    moved: list[Change] = field(default_factory=list)
    dropped: list[Change] = field(default_factory=list)
    kept: int = 0
    figures: dict = field(default_factory=dict)


@dataclass
class _Current:
    id: int
    code: str
    request: str
    status: str
    slots: tuple[str, ...]


def apply_plan(
    session: AnySession,
    week: PlanningWeek,
    plan: Plan,
    *,
    actor: User | None,
    freeze_until: datetime,
    timezone: str,
    kind: RunKind = RunKind.MANUAL,
    run: OptimizationRun | None = None,
    reason: Reason | None = None,
) -> PlanDiff:
    """Validate ``plan`` against ``week`` and replace its movable bookings (not committed).

    Raises PlanRejected (broken rules, another week's plan) or PlanConflict (the database
    refused a slot hold: someone booked meanwhile); the caller then rolls back. ``run`` is a
    run the caller already holds (the nightly re-optimization's); it is filled, not created.
    ``reason(change, request, before, after)`` gives each run change its reason code.
    """
    if plan.instance and plan.instance != week.name:
        raise PlanRejected(f"the plan is for {plan.instance!r}, not for {week.name!r}")
    # Serialize applies of one week (PostgreSQL row lock; SQLite locks the file on write).
    session.execute(select(PlanningWeek.id).where(PlanningWeek.id == week.id).with_for_update())
    _lock_participants(session, week)
    # Lock the week's active bookings first (PostgreSQL), then read the week: the plan is
    # checked against exactly the bookings it will replace.
    current = _current_bookings(session, week)
    inst = build_instance(session, week, freeze_until=freeze_until, timezone=timezone)
    if Counter((b.request, b.slots, b.status) for b in current) != Counter(
        (b.request, b.slots, b.status) for b in inst.bookings
    ):
        raise PlanConflict("the week's bookings changed while the plan was read; try again")
    broken = validate(inst, plan)
    if broken:
        raise PlanRejected(f"the plan breaks {len(broken)} hard rule(s)", broken)

    wanted = Counter((a.request, tuple(a.slots)) for a in plan.assignments)
    kept, loose = 0, defaultdict(list)
    for b in current:
        key = (b.request, b.slots)
        if wanted[key] > 0:
            wanted[key] -= 1
            kept += 1
        else:
            loose[b.request].append(b)
    fresh: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    for a in plan.assignments:
        key = (a.request, tuple(a.slots))
        if wanted[key] > 0:
            wanted[key] -= 1
            fresh[a.request].append(key[1])

    now = utcnow()
    if run is None:
        run = OptimizationRun(
            planning_week_id=week.id, kind=kind, actor_user_id=actor.id if actor else None
        )
        run.started_at = now
    run.state = RunState.APPLIED
    run.freeze_until = freeze_until
    run.solver_status = _str(plan.stats.get("status"))
    run.objective = _num(plan.stats.get("objective"))
    run.bound = _num(plan.stats.get("bound"))
    run.wall_s = _num(plan.stats.get("wall_s"))
    run.kpis = figures(inst, plan)
    session.add(run)
    session.flush()
    diff = PlanDiff(run_id=run.id, kept=kept, figures=run.kpis)
    try:
        _write(session, inst, week, run, loose, fresh, diff, actor, now)
        _record(session, run, diff, inst, actor, kind, now, reason)
        session.flush()
    except IntegrityError as e:  # a concurrent booking took a slot between read and write
        raise PlanConflict("a slot in the plan was booked meanwhile; export the week again") from e
    return diff


def _write(session, inst, week, run, loose, fresh, diff: PlanDiff, actor, now) -> None:
    """Release moved and dropped bookings' slots, then move, drop and add, in bulk."""
    slot_id = dict(
        session.execute(
            select(Slot.code, Slot.id)
            .join(TimetableWeek, TimetableWeek.id == Slot.timetable_week_id)
            .where(TimetableWeek.week_start == week.week_start)
        ).all()
    )
    _release(session, [b.id for bs in loose.values() for b in bs], now)
    holds: list[tuple[int, tuple[str, ...]]] = []
    moved_ids: list[int] = []
    dropped_ids: list[int] = []
    adding: list[tuple[str, tuple[str, ...]]] = []
    for request in sorted(set(loose) | set(fresh)):
        moves, drops, adds = pair_sessions(
            inst,
            loose.get(request, []),
            fresh.get(request, []),
            old_slots=lambda b: b.slots,
            new_slots=same,
        )
        for old, new in moves:
            holds.append((old.id, new))
            moved_ids.append(old.id)
            diff.moved.append(Change(old.code, request, old.slots, new))
        for old in drops:
            dropped_ids.append(old.id)
            diff.dropped.append(Change(old.code, request, old.slots, ()))
        adding.extend((request, new) for new in adds)
    if moved_ids:
        session.execute(
            update(Booking).where(Booking.id.in_(moved_ids)).values(updated_at=now, run_id=run.id)
        )
    if dropped_ids:
        session.execute(
            update(Booking)
            .where(Booking.id.in_(dropped_ids))
            .values(status=BookingStatus.CANCELLED, cancelled_at=now, updated_at=now, run_id=run.id)
        )
    for (request, new), booking_id, code in zip(
        adding, *_add_bookings(session, inst, week, adding, run.id, actor, now), strict=True
    ):
        holds.append((booking_id, new))
        diff.added.append(Change(code, request, (), new))
    copy_rows(
        session,
        BookingSlot,
        [
            {"booking_id": b, "slot_id": slot_id[c], "position": k, "assigned_at": now}
            for b, slots in holds
            for k, c in enumerate(slots)
        ],
    )
    copy_rows(
        session,
        SlotHold,
        [
            {"slot_id": slot_id[c], "booking_id": b, "held_at": now}
            for b, slots in holds
            for c in slots
        ],
    )


class PlanConflict(RuntimeError):
    """The database refused the plan's slot holds (a concurrent booking); nothing is kept."""


def _lock_participants(session: AnySession, week: PlanningWeek) -> None:
    """Lock the week's participants (PostgreSQL), in id order.

    The booking service locks its participant's row before it books, so a direct booking made
    while a plan is applied either commits first (and is read, and the plan checked against it)
    or waits and then checks its daily cap and same-day-same-base rule against the applied plan.
    """
    involved = (
        select(BookingRequest.participant_id)
        .where(BookingRequest.planning_week_id == week.id)
        .union(select(Booking.participant_id).where(Booking.planning_week_id == week.id))
    )
    session.execute(
        select(Participant.id)
        .where(Participant.id.in_(involved))
        .order_by(Participant.id)
        .with_for_update()
    ).all()


def _current_bookings(session: AnySession, week: PlanningWeek) -> list[_Current]:
    slots: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for booking_id, position, code in session.execute(
        select(BookingSlot.booking_id, BookingSlot.position, Slot.code)
        .join(Slot, Slot.id == BookingSlot.slot_id)
        .join(Booking, Booking.id == BookingSlot.booking_id)
        .where(Booking.planning_week_id == week.id, Booking.status.in_(ACTIVE_STATUSES))
        .where(BookingSlot.released_at.is_(None))
    ):
        slots[booking_id].append((position, code))
    out = []
    for booking_id, code, status, request in session.execute(
        select(Booking.id, Booking.code, Booking.status, BookingRequest.code)
        .outerjoin(BookingRequest, BookingRequest.id == Booking.request_id)
        .where(Booking.planning_week_id == week.id, Booking.status.in_(ACTIVE_STATUSES))
        .order_by(Booking.code)
        .with_for_update(of=Booking)
    ):
        held = tuple(c for _, c in sorted(slots[booking_id]))
        if held:
            out.append(
                _Current(booking_id, code, request or direct_request_code(code), status, held)
            )
    return out


def _release(session: AnySession, booking_ids: list[int], now: datetime) -> None:
    """Give up the slots of moved and dropped bookings before anything new is held."""
    if not booking_ids:
        return
    session.execute(delete(SlotHold).where(SlotHold.booking_id.in_(booking_ids)))
    session.execute(
        update(BookingSlot)
        .where(BookingSlot.booking_id.in_(booking_ids), BookingSlot.released_at.is_(None))
        .values(released_at=now)
    )


def _add_bookings(session, inst, week, adding, run_id, actor, now) -> tuple[list, list]:
    """New tentative bookings by the optimizer, in order; codes follow ids (K000123)."""
    if not adding:
        return [], []
    requests = sorted({r for r, _ in adding})
    request_id = dict(
        session.execute(
            select(BookingRequest.code, BookingRequest.id).where(
                BookingRequest.planning_week_id == week.id, BookingRequest.code.in_(requests)
            )
        ).all()
    )
    people = sorted({inst.request_by_id[r].participant for r in requests})
    participant_id = dict(
        session.execute(
            select(Participant.code, Participant.id).where(Participant.code.in_(people))
        ).all()
    )
    rows = [
        {
            # None for a direct booking's synthesized request ("RK000123").
            "request_id": request_id.get(request),
            "participant_id": participant_id[inst.request_by_id[request].participant],
            "planning_week_id": week.id,
            "status": BookingStatus.TENTATIVE,
            "origin": Origin.OPTIMIZER,
            "created_by_user_id": actor.id if actor else None,
            "run_id": run_id,
            "created_at": now,
            "updated_at": now,
        }
        for request, _ in adding
    ]
    ids = insert_coded(session, Booking, rows, booking_code)
    return ids, [booking_code(i) for i in ids]


def _record(session, run, diff: PlanDiff, inst: Instance, actor, kind, now, reason=None) -> None:
    """Run changes (with the bases they leave and go to, their participant and, given
    ``reason``, why), counts and one audit event per changed booking, in bulk."""
    run.added, run.moved, run.dropped, run.kept = (
        len(diff.added),
        len(diff.moved),
        len(diff.dropped),
        diff.kept,
    )
    run.finished_at = now
    run.message = (
        f"applied: {run.added} added, {run.moved} moved, {run.dropped} dropped, {run.kept} kept"
    )
    ids = dict(
        session.execute(
            select(Booking.code, Booking.id).where(
                Booking.code.in_([c.booking for c in diff.added + diff.moved + diff.dropped])
            )
        ).all()
    )
    actor_kind = ActorKind.OPTIMIZER if kind == RunKind.NIGHTLY or actor is None else ActorKind.USER
    changes: list[dict] = []
    events: list[dict] = []
    for change_kind, done in (
        (ChangeKind.ADDED, diff.added),
        (ChangeKind.MOVED, diff.moved),
        (ChangeKind.DROPPED, diff.dropped),
    ):
        for c in done:
            req = inst.request_by_id.get(c.request)
            changes.append(
                {
                    "run_id": run.id,
                    "booking_id": ids.get(c.booking),
                    "change": change_kind,
                    "request_code": c.request,
                    "before_slots": list(c.before),
                    "after_slots": list(c.after),
                    "before_base": inst.base_of_slot(c.before[0]) if c.before else None,
                    "after_base": inst.base_of_slot(c.after[0]) if c.after else None,
                    "participant_code": req.participant if req is not None else None,
                    "reason": reason(change_kind, c.request, c.before, c.after) if reason else None,
                }
            )
            events.append(
                {
                    "at": now,
                    "actor_kind": actor_kind,
                    "actor_user_id": actor.id if actor else None,
                    "action": f"booking.{change_kind}",
                    "booking_id": ids.get(c.booking),
                    "run_id": run.id,
                    "subject": None,
                    "detail": {
                        "request": c.request,
                        "before": list(c.before),
                        "after": list(c.after),
                    },
                }
            )
    copy_rows(session, RunChange, changes)
    copy_rows(session, AuditEvent, events)
    session.expire(run, ["changes"])  # read again with what was just written


def _num(value) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _str(value) -> str | None:
    return str(value)[:32] if value is not None else None
