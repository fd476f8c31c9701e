"""Tell people what a run changed: each participant about their sessions, each base's operators
about their base — in the run's own transaction, so a rolled-back run notifies no one.

Participants get the booking service's kinds (``booking_proposed``, ``booking_moved``,
``booking_dropped``); operators get one ``run_base_changes`` notice per base with counts and
the run's number, which links to its report.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import (
    Booking,
    BookingSlot,
    Hub,
    OptimizationRun,
    Role,
    Slot,
    Studio,
    User,
    changes_per_base,
    operator_hubs,
)
from app.models.vocabulary import ChangeKind
from app.services.notify.messages import booking_event, notify_user
from app.services.webhooks import payloads as webhooks
from app.services.webhooks.events import BOOKING_CANCELLED, BOOKING_PROPOSED, anyone_hears

#: The participant notification kind for each change.
PARTICIPANT_KINDS = {
    ChangeKind.ADDED: "booking_proposed",
    ChangeKind.MOVED: "booking_moved",
    ChangeKind.DROPPED: "booking_dropped",
}

#: The webhook event of a run's change (a moved proposal stays proposed: no event).
WEBHOOK_EVENTS = {ChangeKind.ADDED: BOOKING_PROPOSED, ChangeKind.DROPPED: BOOKING_CANCELLED}


def _bookings_of(ids: list[int]) -> dict[int, Booking]:
    """The bookings with their slot history, slots, studios and bases, a chunk per query (a
    whole-programme run changes tens of thousands: one lazy load each took minutes)."""
    out: dict[int, Booking] = {}
    for k in range(0, len(ids), CHUNK):
        rows = db.session.scalars(
            select(Booking)
            .where(Booking.id.in_(ids[k : k + CHUNK]))
            .options(
                selectinload(Booking.slot_history)
                .joinedload(BookingSlot.slot)
                .joinedload(Slot.studio)
                .joinedload(Studio.hub)
            )
        )
        out.update((b.id, b) for b in rows)
    return out


def _owners_of(ids: list[int]) -> dict[int, int]:
    """Each booking's participant (by id), a chunk per query."""
    out: dict[int, int] = {}
    for k in range(0, len(ids), CHUNK):
        rows = db.session.execute(
            select(Booking.id, Booking.participant_id).where(Booking.id.in_(ids[k : k + CHUNK]))
        )
        out.update((booking, person) for booking, person in rows)
    return out


def _accounts_of(participant_ids: set[int]) -> dict[int, list[User]]:
    """Each participant's active accounts."""
    out: dict[int, list[User]] = defaultdict(list)
    ids = sorted(participant_ids)
    for k in range(0, len(ids), CHUNK):
        rows = db.session.scalars(
            select(User).where(User.participant_id.in_(ids[k : k + CHUNK]), User.active.is_(True))
        )
        for user in rows:
            if user.participant_id is not None:  # always: the query asked for these
                out[user.participant_id].append(user)
    return out


#: Ids per ``IN (...)`` query.
CHUNK = 1000


def notify_run(run: OptimizationRun) -> int:
    """Add the notifications (and outbox e-mails) for a run's changes; returns how many."""
    count = 0
    owner = _owners_of([rc.booking_id for rc in run.changes if rc.booking_id is not None])
    accounts = _accounts_of(set(owner.values()))
    heard = {event: anyone_hears(event) for event in set(WEBHOOK_EVENTS.values())}
    # Whole bookings (slots, studios, bases) only where someone is told: a participant with an
    # account, or a webhook listening to that change.
    bookings = _bookings_of(
        [
            rc.booking_id
            for rc in run.changes
            if rc.booking_id in owner
            and (
                accounts.get(owner[rc.booking_id])
                or (rc.change in WEBHOOK_EVENTS and heard[WEBHOOK_EVENTS[rc.change]])
            )
        ]
    )
    for rc in run.changes:
        booking = bookings.get(rc.booking_id) if rc.booking_id is not None else None
        if booking is not None:
            extra = {"run": run.id, "reason": rc.reason or ""}
            users = accounts.get(booking.participant_id, [])
            kind = PARTICIPANT_KINDS[rc.change]
            count += len(booking_event(kind, booking, users=users, **extra))
            if rc.change in WEBHOOK_EVENTS and heard[WEBHOOK_EVENTS[rc.change]]:
                webhooks.booking_event(WEBHOOK_EVENTS[rc.change], booking, run=run.id)
    per_base = changes_per_base(run.changes)
    hubs = {h.id: h for h in db.session.scalars(select(Hub).where(Hub.code.in_(per_base)))}
    per_hub = {hub_id: per_base[hub.code] for hub_id, hub in hubs.items()}
    operators: dict[int, list[User]] = defaultdict(list)
    hub_ids = sorted(per_hub)
    for k in range(0, len(hub_ids), CHUNK):
        for hub_id, user in db.session.execute(
            select(operator_hubs.c.hub_id, User)
            .join(operator_hubs, operator_hubs.c.user_id == User.id)
            .where(
                operator_hubs.c.hub_id.in_(hub_ids[k : k + CHUNK]),
                User.role == Role.OPERATOR.value,
                User.active.is_(True),
            )
            .order_by(operator_hubs.c.hub_id, User.id)
        ).tuples():
            operators[hub_id].append(user)
    for hub_id, counts in sorted(per_hub.items()):
        for user in operators[hub_id]:
            params = {
                "run": run.id,
                "base": hubs[hub_id].name,
                "added": counts[ChangeKind.ADDED],
                "moved": counts[ChangeKind.MOVED],
                "dropped": counts[ChangeKind.DROPPED],
            }
            notify_user(user, "run_base_changes", params)
            count += 1
    return count
