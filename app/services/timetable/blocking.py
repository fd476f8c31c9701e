"""Blocking many slots at once: a whole day, a studio for some days, or a time range, one reason.

The rule is the one of a single slot (``service.block_slot``): a booked slot is never blocked
under its booking. So a range blocks every open slot in it that has not started yet, leaves each
booked slot booked (listed, so the operator can cancel those bookings first if they must go),
and skips slots already blocked. Everything is written in one transaction, an audit event per
slot carrying the reason, exactly as the one-slot action. ``preview`` says the same without
writing, for the confirmation step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from app.extensions import db
from app.localtime import local_zone
from app.models import Booking, Hub, Slot, User, utcnow
from app.models.vocabulary import SlotState
from app.services.accounts import audit
from app.services.timetable.service import TimetableError, bookings_holding
from app.services.webhooks import payloads as webhooks

#: The longest range one action blocks (a month of days).
MAX_DAYS = 31
#: The longest reason (as for one slot).
MAX_REASON = 300


@dataclass(frozen=True)
class BlockRange:
    """Days ``first``..``last`` (local), each from ``start`` to ``end`` (``None``: whole day),
    at the studios ``studios`` (codes; empty: every studio of the base)."""

    first: date
    last: date
    start: time | None = None
    end: time | None = None
    studios: tuple[str, ...] = ()


@dataclass
class BlockOutcome:
    """What a range blocks (or would block): slot codes, the booked ones kept, the already
    blocked ones skipped."""

    blocked: list[Slot] = field(default_factory=list)
    booked: list[tuple[Slot, Booking]] = field(default_factory=list)
    already: list[Slot] = field(default_factory=list)


def _windows(rng: BlockRange) -> list[tuple[datetime, datetime]]:
    today = utcnow().astimezone(local_zone()).date()
    if not today - timedelta(days=MAX_DAYS) <= rng.first <= today + timedelta(days=366):
        raise TimetableError("range_far", "the first day must lie within a year from today")
    if rng.last < rng.first:
        raise TimetableError("range_order", "the last day comes before the first")
    if (rng.last - rng.first).days >= MAX_DAYS:
        raise TimetableError("range_long", f"at most {MAX_DAYS} days at once")
    begin = rng.start or time(0)
    if rng.end is not None and rng.end != time(0) and rng.end <= begin:
        raise TimetableError("break", "a blocked time must end after it starts")
    tz = local_zone()
    out = []
    day = rng.first
    while day <= rng.last:
        start = datetime.combine(day, begin, tz)
        if rng.end is None or rng.end == time(0):
            end = datetime.combine(day + timedelta(days=1), time(0), tz)
        else:
            end = datetime.combine(day, rng.end, tz)
        out.append((start, end))
        day += timedelta(days=1)
    return out


def _studios(hub: Hub, codes: tuple[str, ...]) -> list[int]:
    mine = {s.code: s.id for s in hub.studios}
    unknown = [c for c in codes if c not in mine]
    if unknown:
        raise TimetableError("unknown_studio", f"no studio {', '.join(unknown)} at {hub.code}")
    return [mine[c] for c in codes] if codes else list(mine.values())


def _outcome(hub: Hub, rng: BlockRange, now: datetime, *, lock: bool) -> BlockOutcome:
    windows = _windows(rng)
    studio_ids = _studios(hub, rng.studios)
    outcome = BlockOutcome()
    if not studio_ids:
        return outcome
    first, last = windows[0][0], windows[-1][1]
    stmt = (
        select(Slot)
        .where(Slot.studio_id.in_(studio_ids), Slot.start < last, Slot.end > first)
        .where(Slot.start > now)
        .order_by(Slot.start, Slot.studio_id)
    )
    if lock:
        stmt = stmt.with_for_update()
    slots = [
        s
        for s in db.session.scalars(stmt.execution_options(populate_existing=True))
        if any(s.start < end and s.end > start for start, end in windows)
    ]
    holds = bookings_holding(slots)
    for slot in slots:
        if slot.state == SlotState.BLOCKED:
            outcome.already.append(slot)
        elif slot.id in holds:
            outcome.booked.append((slot, holds[slot.id]))
        else:
            outcome.blocked.append(slot)
    return outcome


def _reason(reason: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise TimetableError("reason", "say why the slots are blocked")
    if len(text) > MAX_REASON:
        raise TimetableError("reason_long", f"a reason has at most {MAX_REASON} characters")
    return text


def preview(hub: Hub, rng: BlockRange, *, now: datetime | None = None) -> BlockOutcome:
    """What :func:`block_range` would do, writing nothing."""
    return _outcome(hub, rng, now or utcnow(), lock=False)


def block_range(
    hub: Hub, rng: BlockRange, reason: str, actor: User, *, now: datetime | None = None
) -> BlockOutcome:
    """Block every open, not yet started slot of the range in one transaction (see module)."""
    text = _reason(reason)
    outcome = _outcome(hub, rng, now or utcnow(), lock=True)
    if not outcome.blocked:
        db.session.rollback()
        raise TimetableError("nothing_to_block", "no open slot in this range")
    for slot in outcome.blocked:
        slot.state = SlotState.BLOCKED
        audit.record("slot.block", actor=actor, subject=slot.code, reason=text, bulk=True)
        webhooks.slot_blocked(slot, text)
    audit.record(
        "slots.block_range",
        actor=actor,
        subject=hub.code,
        first=rng.first.isoformat(),
        last=rng.last.isoformat(),
        start=rng.start.isoformat() if rng.start else None,
        end=rng.end.isoformat() if rng.end else None,
        studios=list(rng.studios),
        blocked=len(outcome.blocked),
        booked_kept=[s.code for s, _b in outcome.booked],
        reason=text,
    )
    db.session.commit()
    return outcome
