"""Write a placement's answer: only its changes, in one transaction, or nothing.

**Why this cannot apply over anyone's changes.** Every apply of a week — the nightly run's
``apply_plan`` and this one — first takes the week's row lock (``SELECT ... FOR UPDATE`` on
``planning_weeks``; on SQLite the write lock, by a first write) and holds it until it commits.
Under that lock each checks that what it read is still so: the nightly run compares the whole
week's bookings fingerprint (``runs.guard.bookings_fingerprint``) and fits its plan around
anything changed; a placement recomputes its neighbourhood's fingerprint (the area slots' state
and holds, taken FOR SHARE, and every active booking of the participants involved, whose rows it
locks FOR UPDATE in id order, as the booking service does) and gives up when it differs. So two
applies never interleave, and neither writes on a stale read. This is finer than the run lock
(``runs.guard.claim``), which a placement does not take: a nightly solve may last a minute, and
placements must not wait for it — the solve reads, it does not write, and its apply step re-checks
under the week lock anyway. A direct booking takes no week lock: if it commits before the
check, the fingerprint differs and the placement retries with fresh data; if after, its slot
hold collides with the placement's on the unique ``slot_holds`` key (one of the two fails
cleanly and nothing is lost), and its participant checks wait for the participant row lock.
"""

from __future__ import annotations

import secrets
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import AnySession
from app.models import (
    Booking,
    BookingSlot,
    Participant,
    PlanningWeek,
    SlotHold,
    User,
    booking_code,
)
from app.services.accounts import audit
from app.services.notify.messages import notify_user
from app.services.placement.fingerprint import area_rows, digest_of, participant_rows
from app.services.placement.neighbourhood import Neighbourhood
from app.services.webhooks import payloads as webhooks
from app.services.webhooks.events import BOOKING_PROPOSED, REQUEST_PLACED, anyone_hears
from scheduler.domain import Plan


class NeighbourhoodChanged(RuntimeError):
    """Someone booked, cancelled or blocked in the neighbourhood meanwhile: read it again."""


@dataclass
class Applied:
    """What a placement wrote: new proposals and moved tentative bookings (codes)."""

    added: list[tuple[str, str]] = field(default_factory=list)  # (booking, request)
    moved: list[tuple[str, str]] = field(default_factory=list)


def lock_week(session: AnySession, week_id: int) -> None:
    """The week's apply lock (see the module docstring)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            select(PlanningWeek.id).where(PlanningWeek.id == week_id).with_for_update()
        ).all()
    else:  # SQLite: a first write takes the database's write lock for the transaction
        session.execute(
            update(PlanningWeek).where(PlanningWeek.id == week_id).values(name=PlanningWeek.name)
        )


def apply_placement(
    session: AnySession, nb: Neighbourhood, plan: Plan, *, now: datetime, ttl: timedelta
) -> Applied:
    """Lock, re-check the neighbourhood, then write the plan's changes (not committed).

    Raises NeighbourhoodChanged when the neighbourhood moved under the placement (the caller
    rolls back and places again with fresh data).
    """
    lock_week(session, nb.week_id)
    people = sorted(nb.participant_ids.values())
    if people:
        session.execute(
            select(Participant.id)
            .where(Participant.id.in_(people))
            .order_by(Participant.id)
            .with_for_update()
        ).all()
    seen = digest_of(
        area_rows(session, nb.area_slot_ids, lock=True),
        participant_rows(session, nb.week_id, people),
    )
    if seen != nb.digest:
        raise NeighbourhoodChanged("the neighbourhood changed while it was solved")

    inst = nb.instance
    current = {key: list(rows) for key, rows in nb.bookings.items()}
    wanted = Counter((a.request, tuple(a.slots)) for a in plan.assignments)
    loose: dict[str, list[tuple[int, str, tuple[str, ...]]]] = defaultdict(list)
    for key, rows in current.items():
        for booking_id, code, status in rows:
            if wanted[key] > 0:
                wanted[key] -= 1
                continue
            if status != "tentative" or key not in nb.movable:  # pragma: no cover - validated
                raise NeighbourhoodChanged(f"the plan would change booking {code} ({status})")
            loose[key[0]].append((booking_id, code, key[1]))
    fresh: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    for key, n in wanted.items():
        fresh[key[0]].extend([key[1]] * n)

    out = Applied()
    released = [b for rows in loose.values() for b, _, _ in rows]
    if released:
        session.execute(delete(SlotHold).where(SlotHold.booking_id.in_(released)))
        session.execute(
            update(BookingSlot)
            .where(BookingSlot.booking_id.in_(released), BookingSlot.released_at.is_(None))
            .values(released_at=now)
        )
    holds: list[tuple[int, tuple[str, ...]]] = []
    notes: list[tuple[str, int, str, str, tuple[str, ...]]] = []
    moved_ids: list[int] = []
    proposals: list[tuple[Booking, str, tuple[str, ...]]] = []
    proposed: dict[str, list[Booking]] = defaultdict(list)
    for request in sorted(set(loose) | set(fresh)):
        olds, news = loose.get(request, []), fresh.get(request, [])
        if len(olds) > len(news):  # pragma: no cover - repair never drops a session
            raise NeighbourhoodChanged(f"the plan would drop a session of {request}")
        for (booking_id, code, before), after in zip(olds, news, strict=False):
            moved_ids.append(booking_id)
            holds.append((booking_id, after))
            out.moved.append((code, request))
            audit.record(
                "booking.move",
                actor_kind="optimizer",
                subject=code,
                request=request,
                before=list(before),
                after=list(after),
            )
            notes.append(("booking_moved", booking_id, code, request, after))
        for after in news[len(olds) :]:
            booking = Booking(
                code="t" + secrets.token_hex(7),
                request_id=nb.request_ids.get(request),
                participant_id=nb.participant_ids[inst.request_by_id[request].participant],
                planning_week_id=nb.week_id,
                status="tentative",
                origin="optimizer",
                created_at=now,
                updated_at=now,
                expires_at=now + ttl,
            )
            session.add(booking)
            proposals.append((booking, request, after))
    if moved_ids:
        session.execute(update(Booking).where(Booking.id.in_(moved_ids)).values(updated_at=now))
    session.flush()  # every proposal in one batch: their ids name them
    for booking, request, after in proposals:
        booking.code = booking_code(booking.id)
        holds.append((booking.id, after))
        out.added.append((booking.code, request))
        audit.record(
            "booking.propose",
            actor_kind="optimizer",
            booking=booking,
            request=request,
            slots=list(after),
        )
        notes.append(("booking_proposed", booking.id, booking.code, request, after))
        proposed[request].append(booking)
    try:
        for booking_id, slots in holds:
            for k, code in enumerate(slots):
                sid = nb.slot_ids[code]
                session.add(
                    BookingSlot(booking_id=booking_id, slot_id=sid, position=k, assigned_at=now)
                )
                session.add(SlotHold(slot_id=sid, booking_id=booking_id, held_at=now))
        session.flush()
    except IntegrityError as e:  # a slot was booked after the check: read again
        raise NeighbourhoodChanged("a slot was booked meanwhile") from e
    _notify(session, nb, notes, now)
    # Asked once per apply, not once per proposal: most weeks have no endpoint listening.
    tell_bookings, tell_requests = anyone_hears(BOOKING_PROPOSED), anyone_hears(REQUEST_PLACED)
    for request, made in sorted(proposed.items()):
        for booking in made if tell_bookings else ():
            webhooks.booking_event(BOOKING_PROPOSED, booking)
        if tell_requests:
            webhooks.request_placed(request, inst.request_by_id[request].participant, made)
    return out


def _notify(session: AnySession, nb: Neighbourhood, notes, now: datetime) -> None:
    """Tell each participant of a proposed or moved session (in-app, and e-mail if known)."""
    if not notes:
        return
    inst = nb.instance
    tz = inst.tz
    pids = {nb.participant_ids[inst.request_by_id[r].participant] for _, _, _, r, _ in notes}
    users: dict[int | None, list[User]] = defaultdict(list)
    for user in session.scalars(
        select(User).where(User.participant_id.in_(pids), User.active.is_(True))
    ):
        users[user.participant_id].append(user)
    for kind, booking_id, code, request, slots in notes:
        first = inst.slot_by_id[slots[0]]
        base = inst.base_by_id[inst.base_of_slot(first.id)]
        params = {
            "booking": code,
            "when": first.start.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
            "base": base.name,
            "request": request,
        }
        pid = nb.participant_ids[inst.request_by_id[request].participant]
        for user in users.get(pid, []):
            note = notify_user(user, kind, params)
            note.booking_id = booking_id
