"""The audit trail: every write records who did what, when — one call, in the same transaction.

The event is added to the session and committed together with the change it describes, so an
audited change and its audit row stand or fall together.
"""

from __future__ import annotations

from typing import Any

from app.extensions import db
from app.models import AuditEvent, Booking, OptimizationRun, User
from app.models.vocabulary import ActorKind


def record(
    action: str,
    *,
    actor: User | None = None,
    actor_kind: str | None = None,
    booking: Booking | None = None,
    run: OptimizationRun | None = None,
    subject: str | None = None,
    **detail: Any,
) -> AuditEvent:
    """Add one audit event (not committed): a user's action, or the optimizer's / system's.

    ``actor_kind`` defaults to ``"user"`` when an actor is given and ``"system"`` otherwise;
    ``detail`` must be JSON-serialisable (codes and reasons, never whole objects).
    """
    kind = actor_kind or (ActorKind.USER if actor is not None else ActorKind.SYSTEM)
    event = AuditEvent(
        actor_kind=kind,
        actor_user_id=actor.id if actor is not None else None,
        action=action[:40],
        booking_id=booking.id if booking is not None else None,
        run_id=run.id if run is not None else None,
        subject=(subject or (booking.code if booking is not None else None)),
        detail=detail,
    )
    db.session.add(event)
    return event
