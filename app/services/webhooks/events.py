"""The one hook the rest of the product calls: ``emit(event_type, hubs, data)``.

It writes one message per subscribed endpoint into the caller's open transaction, together with
the job that will deliver it (``enqueue_with_commit``): the event commits with the change that
caused it and goes to the queue after that commit, or vanishes with a rollback. Only endpoints
whose bases include one of the event's bases get it, and a per-base part of the data
(``per_base``) carries only the bases the endpoint may see.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import select

from app.extensions import db
from app.jobs.queue import enqueue_with_commit
from app.models import Role, User, WebhookEndpoint, WebhookMessage, utcnow
from app.models.vocabulary import MessageStatus
from app.services.accounts.access import operated_hub_ids

BOOKING_CREATED = "booking.created"
BOOKING_CONFIRMED = "booking.confirmed"
BOOKING_CANCELLED = "booking.cancelled"
BOOKING_PROPOSED = "booking.proposed"
REQUEST_PLACED = "request.placed"
RUN_APPLIED = "run.applied"
RUN_FAILED = "run.failed"
SLOT_BLOCKED = "slot.blocked"
#: Every event an endpoint may subscribe to, in the order the pages list them.
EVENT_TYPES: tuple[str, ...] = (
    BOOKING_CREATED,
    BOOKING_CONFIRMED,
    BOOKING_CANCELLED,
    BOOKING_PROPOSED,
    REQUEST_PLACED,
    RUN_APPLIED,
    RUN_FAILED,
    SLOT_BLOCKED,
)
#: The event a "send a test" sends; no endpoint subscribes to it.
TEST_EVENT = "webhook.test"
#: The job that delivers one message.
DELIVER_JOB = "webhooks.deliver"


def new_msg_id() -> str:
    """A message id (the ``webhook-id`` header): unique, the same on every try of a message."""
    return "msg_" + secrets.token_urlsafe(18)


def body_of(event_type: str, data: dict, at: datetime) -> str:
    """The JSON body of a message: Standard Webhooks' ``{"type", "timestamp", "data"}``."""
    stamp = at.isoformat().replace("+00:00", "Z")
    return json.dumps(
        {"type": event_type, "timestamp": stamp, "data": data},
        ensure_ascii=False,
        separators=(",", ":"),
        sort_keys=True,
    )


def visible_hubs(endpoint: WebhookEndpoint, owner: User) -> set[int] | None:
    """The bases whose events ``endpoint`` may receive now; ``None``: every base.

    Always within what its owner operates today: an operator unbound from a base stops hearing
    about it even if the endpoint chose it.
    """
    if not owner.active or owner.role not in (Role.ADMIN, Role.OPERATOR):
        return set()
    mine = operated_hub_ids(owner)
    if endpoint.all_bases:
        return mine
    chosen = {h.id for h in endpoint.hubs}
    return chosen if mine is None else chosen & mine


def anyone_hears(event_type: str) -> bool:
    """Whether an enabled endpoint takes ``event_type`` (one small query: callers skip building
    an event nobody hears)."""
    rows = db.session.scalars(
        select(WebhookEndpoint.events).where(WebhookEndpoint.enabled.is_(True))
    )
    return any(event_type in (events or ()) for events in rows)


def record(endpoint: WebhookEndpoint, event_type: str, data: dict) -> WebhookMessage:
    """Add one message for ``endpoint`` and the job that delivers it (no commit)."""
    message = WebhookMessage(
        msg_id=new_msg_id(),
        endpoint_id=endpoint.id,
        event_type=event_type,
        body=body_of(event_type, data, utcnow()),
        status=MessageStatus.PENDING,
        attempts=0,
        next_attempt_at=utcnow(),
    )
    db.session.add(message)
    enqueue_with_commit(DELIVER_JOB, {"message": message.msg_id, "attempt": 1})
    return message


def emit(
    event_type: str,
    hubs: Iterable[int] | None,
    data: dict,
    *,
    per_base: Mapping[int, dict] | None = None,
) -> int:
    """Record ``event_type`` about ``hubs`` for every endpoint that hears it; returns how many.

    Call it inside the transaction of the change (before its commit). ``hubs`` None means
    every base (a run of the whole week). ``per_base`` maps a base id to its part of the data;
    each endpoint gets those of its bases only, as ``data["bases"]``.
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event {event_type!r}")
    about = None if hubs is None else {int(h) for h in hubs if h is not None}
    if about is not None and not about:
        return 0
    endpoints = db.session.scalars(
        select(WebhookEndpoint).where(WebhookEndpoint.enabled.is_(True))
    ).all()
    sent = 0
    for endpoint in endpoints:
        if event_type not in (endpoint.events or ()):
            continue
        visible = visible_hubs(endpoint, endpoint.owner)
        seen = _overlap(about, visible)
        if seen is not None and not seen:
            continue
        payload = dict(data)
        if per_base is not None:
            mine = (part for h, part in per_base.items() if seen is None or h in seen)
            payload["bases"] = sorted(mine, key=lambda part: str(part.get("base", "")))
        record(endpoint, event_type, payload)
        sent += 1
    return sent


def _overlap(about: set[int] | None, visible: set[int] | None) -> set[int] | None:
    """The bases both sets name (None: every base)."""
    if about is None:
        return visible
    return about if visible is None else about & visible
