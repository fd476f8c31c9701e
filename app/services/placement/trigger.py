"""Enqueue placement work after the write that motivates it has committed.

``placement_requested`` after a request is filed: a ``placement.requests`` job for the week
(deduplicated while queued; a job that claims some requests and sees more waiting enqueues the
next one, so several workers place a burst side by side).
``capacity_freed`` after a booking is cancelled or declined, a slot unblocked, a timetable
published or a proposal released: one ``placement.refill`` job for the freed bases.
A failure to enqueue never undoes the committed write: it is logged, and the next placement
or refill of the week picks the work up.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.jobs.queue import enqueue
from app.models import Slot, Studio

log = logging.getLogger("chunlei.placement")

REQUESTS_JOB = "placement.requests"
REFILL_JOB = "placement.refill"


def enabled() -> bool:
    """Whether instant placement is on (``INSTANT_PLACEMENT``); off, the nightly run places."""
    return bool(current_app.config["INSTANT_PLACEMENT"])


def placement_requested(week_id: int) -> int | None:
    """Enqueue the placement of the week's queued requests; returns the job id."""
    if not enabled():
        return None
    return _enqueue(REQUESTS_JOB, {"week_id": week_id}, dedupe_key=f"placement:{week_id}")


def capacity_freed(week_id: int, hub_ids: Iterable[int]) -> int | None:
    """Enqueue a refill of the freed bases of the week; returns the job id."""
    hubs = sorted(set(hub_ids))
    if not hubs or not enabled():
        return None
    key = f"refill:{week_id}:{','.join(map(str, hubs))}"
    return _enqueue(REFILL_JOB, {"week_id": week_id, "hubs": hubs}, dedupe_key=key)


def hubs_of_slots(slot_ids: Iterable[int]) -> set[int]:
    """The bases of some slots (what a cancellation frees)."""
    ids = list(slot_ids)
    if not ids:
        return set()
    return set(
        db.session.scalars(
            select(Studio.hub_id).join(Slot, Slot.studio_id == Studio.id).where(Slot.id.in_(ids))
        )
    )


def _enqueue(kind: str, payload: dict, *, dedupe_key: str | None) -> int | None:
    try:
        return enqueue(kind, payload, dedupe_key=dedupe_key)
    except Exception:  # the write stands; the work is picked up by the next pass
        db.session.rollback()
        log.exception("could not enqueue %s %s", kind, payload)
        return None
