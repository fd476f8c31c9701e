"""Timetables: a base's weekly template becomes a week of slots, a draft until it is published.

Operators shape a template (opening hours, slot length, prime hours, days open), generate a
week's slots from it, block or unblock single slots with a reason, and publish. Participants
only ever see slots of published weeks. Every change is recorded in the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.localtime import local_zone
from app.models import (
    AuditEvent,
    Booking,
    Hub,
    PlanningWeek,
    Slot,
    SlotHold,
    Studio,
    TemplateBlock,
    TimetableTemplate,
    TimetableWeek,
    User,
    utcnow,
)
from app.models.vocabulary import SlotState, WeekState
from app.services.accounts import audit
from app.services.placement import trigger as placement
from app.services.timetable.weeks import planning_week_for
from app.services.webhooks import payloads as webhooks


class TimetableError(ValueError):
    """An operator action that cannot be done; ``code`` names why, for a translated message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class TemplateSpec:
    """What the template form asks: days open, opening hours, slot length, prime hours, and a
    daily blocked time (a break, cleaning) during which no slot is offered."""

    weekdays: tuple[int, ...]
    open_minute: int
    close_minute: int
    slot_minutes: int = 120
    prime_start: int = 18 * 60
    prime_end: int = 22 * 60
    break_start: int | None = None
    break_end: int | None = None

    def blocks(self) -> list[tuple[int, int, int, bool]]:
        """(weekday, start, end, prime) for every whole slot between opening and closing."""
        if not self.weekdays:
            raise TimetableError("no_days", "choose at least one day")
        if self.slot_minutes < 30 or self.slot_minutes > 480:
            raise TimetableError("slot_length", "slot length must be 30 to 480 minutes")
        if not 0 <= self.open_minute < self.close_minute <= 1440:
            raise TimetableError("hours", "closing must come after opening")
        bs, be = self.break_start, self.break_end  # the blocked time, if any
        if bs is not None and be is not None and not bs < be:
            raise TimetableError("break", "a blocked time must end after it starts")
        out = []
        for day in sorted(set(self.weekdays)):
            start = self.open_minute
            while start + self.slot_minutes <= self.close_minute:
                end = start + self.slot_minutes
                if bs is not None and be is not None and start < be and end > bs:
                    start = be  # the first slot after the blocked time
                    continue
                prime = start < self.prime_end and end > self.prime_start
                out.append((day, start, end, prime))
                start = end
        if not out:
            raise TimetableError("hours", "the opening hours hold no whole slot")
        return out


def add_studio(hub: Hub, name: str | None, features: list[str], actor: User) -> Studio:
    """A new studio at the base, coded after the last one ("B017-S5"); its slots come with the
    next week generated from the template."""
    numbers = [
        int(s.code.rsplit("-S", 1)[1])
        for s in hub.studios
        if "-S" in s.code and s.code.rsplit("-S", 1)[1].isdigit()
    ]
    studio = Studio(
        code=f"{hub.code}-S{max(numbers, default=0) + 1}",
        hub=hub,
        name=(name or "").strip() or None,
        features=sorted(set(features)),
        position=len(hub.studios),
    )
    db.session.add(studio)
    audit.record("studio.create", actor=actor, subject=studio.code, features=studio.features)
    db.session.commit()
    return studio


def default_template(hub: Hub) -> TimetableTemplate | None:
    """The base's default template (the first one when none is marked default)."""
    templates = sorted(hub.templates, key=lambda t: (not t.is_default, t.id))
    return templates[0] if templates else None


def describe_template(template: TimetableTemplate | None) -> TemplateSpec | None:
    """Read a template back as the form's fields (days, hours, slot length, prime hours)."""
    if template is None or not template.blocks:
        return None
    blocks = template.blocks
    primes = [b for b in blocks if b.prime]
    first_day = [b for b in blocks if b.weekday == blocks[0].weekday]
    gaps = [(a.end_minute, b.start_minute) for a, b in zip(first_day, first_day[1:], strict=False)]
    gap = next(((a, b) for a, b in gaps if b > a), (None, None))
    return TemplateSpec(
        weekdays=tuple(sorted({b.weekday for b in blocks})),
        open_minute=min(b.start_minute for b in blocks),
        close_minute=max(b.end_minute for b in blocks),
        slot_minutes=blocks[0].end_minute - blocks[0].start_minute,
        prime_start=min((b.start_minute for b in primes), default=18 * 60),
        prime_end=max((b.end_minute for b in primes), default=22 * 60),
        break_start=gap[0],
        break_end=gap[1],
    )


def save_template(hub: Hub, spec: TemplateSpec, actor: User) -> TimetableTemplate:
    """Replace the base's default template's blocks with those ``spec`` describes."""
    rows = spec.blocks()
    template = default_template(hub)
    if template is None:
        template = TimetableTemplate(hub=hub, name="default", is_default=True)
        db.session.add(template)
    template.blocks.clear()
    db.session.flush()
    for weekday, start, end, prime in rows:
        template.blocks.append(
            TemplateBlock(weekday=weekday, start_minute=start, end_minute=end, prime=prime)
        )
    audit.record("template.save", actor=actor, subject=hub.code, blocks=len(rows))
    db.session.commit()
    return template


def ensure_planning_week(week_start: date) -> PlanningWeek:
    """The planning week starting on Monday ``week_start``, made with the default policy."""
    if week_start.weekday() != 0:
        raise TimetableError("not_monday", "a week starts on a Monday")
    return planning_week_for(week_start)


def get_timetable_week(hub: Hub, week_start: date) -> TimetableWeek | None:
    """The base's timetable for the week, if one was generated."""
    return db.session.scalar(
        select(TimetableWeek).where(
            TimetableWeek.hub_id == hub.id, TimetableWeek.week_start == week_start
        )
    )


def next_slot_codes(count: int) -> list[str]:
    """Fresh slot codes ("SL004212" …) after the highest one in use."""
    codes = db.session.scalars(select(Slot.code).where(Slot.code.like("SL%"))).all()
    top = max((int(c[2:]) for c in codes if c[2:].isdigit()), default=0)
    return [f"SL{top + i:06d}" for i in range(1, count + 1)]


def generate_week(hub: Hub, week_start: date, actor: User) -> tuple[TimetableWeek, int]:
    """Create (or fill up) the base's draft week from its template; returns (week, new slots).

    Slots that already exist are kept, so running it twice adds nothing. A published week is
    left alone: its slots may already be booked. Two bases generating at the same moment may
    draw the same fresh slot codes; the unique code refuses one, which then simply retries.
    """
    hub_id = hub.id
    for attempt in range(3):
        try:
            return _generate_week(hub, week_start, actor)
        except IntegrityError:
            db.session.rollback()
            if attempt == 2:
                raise
            hub = db.session.get_one(Hub, hub_id)
    raise AssertionError("unreachable")


def _generate_week(hub: Hub, week_start: date, actor: User) -> tuple[TimetableWeek, int]:
    template = default_template(hub)
    if template is None or not template.blocks:
        raise TimetableError("no_template", "set up the weekly template first")
    if not [s for s in hub.studios if s.retired_at is None]:
        raise TimetableError("no_studios", "the base has no studios")
    ensure_planning_week(week_start)
    week = get_timetable_week(hub, week_start)
    if week is None:
        week = TimetableWeek(hub=hub, week_start=week_start, state=WeekState.DRAFT)
        db.session.add(week)
        db.session.flush()
    elif week.state == WeekState.PUBLISHED:
        raise TimetableError("published", "this week is already published")
    tz = local_zone()
    existing = {(s.studio_id, s.start) for s in week.slots}
    wanted = []
    for studio in (s for s in hub.studios if s.retired_at is None):
        for block in template.blocks:
            day = week_start + timedelta(days=block.weekday)
            start = datetime.combine(day, time(0), tz) + timedelta(minutes=block.start_minute)
            end = datetime.combine(day, time(0), tz) + timedelta(minutes=block.end_minute)
            key = (studio.id, start)
            if key not in existing:
                wanted.append((studio, start, end, block.prime))
    add_open_slots(week, wanted)
    audit.record(
        "timetable.generate",
        actor=actor,
        subject=hub.code,
        week=week_start.isoformat(),
        slots=len(wanted),
    )
    db.session.commit()
    return week, len(wanted)


def add_open_slots(
    week: TimetableWeek, blocks: list[tuple[Studio, datetime, datetime, bool]]
) -> None:
    """Add open slots (studio, start, end, prime) to ``week`` with the next slot codes."""
    for code, (studio, start, end, prime) in zip(next_slot_codes(len(blocks)), blocks, strict=True):
        db.session.add(
            Slot(
                code=code,
                studio=studio,
                timetable_week=week,
                start=start,
                end=end,
                prime=prime,
                state=SlotState.OPEN,
            )
        )


def publish_week(week: TimetableWeek, actor: User) -> None:
    """Make a draft week visible to participants."""
    if week.state == WeekState.PUBLISHED:
        raise TimetableError("published", "this week is already published")
    if not week.slots:
        raise TimetableError("empty", "a week without slots cannot be published")
    week.state = WeekState.PUBLISHED
    week.published_at = utcnow()
    audit.record(
        "timetable.publish",
        actor=actor,
        subject=week.hub.code,
        week=week.week_start.isoformat(),
        slots=len(week.slots),
    )
    db.session.commit()
    _capacity_freed(week.week_start, week.hub_id)


def block_slot(slot: Slot, reason: str, actor: User) -> None:
    """Close one slot (maintenance, a private event); a booked slot must be cancelled first."""
    reason = reason.strip()
    if not reason:
        raise TimetableError("reason", "say why the slot is blocked")
    # Lock the slot row before looking for a hold: a booking in flight holds it FOR SHARE, so
    # either it commits first (and the hold is seen here) or it sees the slot blocked.
    db.session.refresh(slot, with_for_update=True)
    if slot.state == SlotState.BLOCKED:
        raise TimetableError("already_blocked", "the slot is already blocked")
    if db.session.get(SlotHold, slot.id, populate_existing=True) is not None:
        raise TimetableError("booked", "the slot is booked; cancel the booking first")
    slot.state = SlotState.BLOCKED
    audit.record("slot.block", actor=actor, subject=slot.code, reason=reason[:300])
    webhooks.slot_blocked(slot, reason[:300])
    db.session.commit()


def unblock_slot(slot: Slot, actor: User, reason: str = "") -> None:
    """Open a blocked slot again."""
    if slot.state != SlotState.BLOCKED:
        raise TimetableError("not_blocked", "the slot is not blocked")
    slot.state = SlotState.OPEN
    audit.record("slot.unblock", actor=actor, subject=slot.code, reason=reason.strip()[:300])
    db.session.commit()
    _capacity_freed(slot.timetable_week.week_start, slot.studio.hub_id)


def _capacity_freed(week_start: date, hub_id: int) -> None:
    """Offer what was just opened at a base to the week's waiting list (after the commit)."""
    week_id = db.session.scalar(
        select(PlanningWeek.id).where(PlanningWeek.week_start == week_start)
    )
    if week_id is not None:
        placement.capacity_freed(week_id, {hub_id})


def bookings_holding(slots: list[Slot]) -> dict[int, Booking]:
    """slot id -> the booking that holds it, for those of ``slots`` a booking holds."""
    return dict(
        db.session.execute(
            select(SlotHold.slot_id, Booking)
            .join(Booking, Booking.id == SlotHold.booking_id)
            .where(SlotHold.slot_id.in_([s.id for s in slots] or [-1]))
        )
        .tuples()
        .all()
    )


def block_reasons(slots: list[Slot]) -> dict[str, str]:
    """The latest block reason of each blocked slot, read from the audit trail."""
    codes = [s.code for s in slots if s.state == SlotState.BLOCKED]
    if not codes:
        return {}
    latest = (
        select(AuditEvent.subject, func.max(AuditEvent.id).label("last"))
        .where(AuditEvent.action == "slot.block", AuditEvent.subject.in_(codes))
        .group_by(AuditEvent.subject)
        .subquery()
    )
    rows = db.session.execute(
        select(AuditEvent.subject, AuditEvent.detail).join(latest, AuditEvent.id == latest.c.last)
    )
    return {subject: (detail or {}).get("reason", "") for subject, detail in rows}
