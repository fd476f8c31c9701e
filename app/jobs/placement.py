"""Instant placement as jobs: ``placement.requests``, ``placement.refill``, ``placement.expire``.

``placement.requests`` places a few requests of a week queued at that moment (one solve for a
small batch, ``PLACEMENT_BATCH``) and enqueues the next job when more wait; ``placement.refill`` offers capacity freed at some bases to the waiting list;
``placement.expire`` (every minute, from the clock) releases proposals past their acceptance
deadline and refills what they held. The work itself is ``app.services.placement.place``.
"""

from __future__ import annotations

from flask import Flask

from app.jobs.queue import current_job_id, enqueue, job, task
from app.services.placement import place, trigger


def _last_attempt() -> bool:
    job_id = current_job_id()
    row = job(job_id) if job_id is not None else None
    return row is None or row.attempts >= row.max_attempts


def release_requests(job_id: int, payload: dict, retrying: bool, reason: str) -> None:
    """A placement whose worker died: its requests are queued again, or failed with the reason."""
    week_id = payload.get("week_id")
    if isinstance(week_id, int):
        place.release_running(week_id, retrying=retrying, reason=reason)


@task(trigger.REQUESTS_JOB, max_attempts=3, release=release_requests)
def place_requests_job(payload: dict) -> dict:
    """Place a batch of the week's queued requests; returns how many were placed, added, moved."""
    return place.place_queued(int(payload["week_id"]), final=_last_attempt())


@task(trigger.REFILL_JOB, max_attempts=3)
def refill_job(payload: dict) -> dict:
    """Offer the capacity freed at the payload's bases to the week's waiting list."""
    return place.refill(int(payload["week_id"]), [int(h) for h in payload.get("hubs") or []])


@task("placement.expire", max_attempts=1)
def expire_job(payload: dict) -> dict:
    """Release overdue proposals of every week and refill the bases they held."""
    freed = place.release_all_expired()
    for week_id, hubs in freed.items():
        trigger.capacity_freed(week_id, hubs)
    return {"weeks": len(freed), "bases": sum(len(h) for h in freed.values())}


def queue_expiry(app: Flask) -> int:
    """The clock's periodic pass (every ``PROPOSAL_EXPIRY_S``): enqueue one expiry job."""
    return enqueue("placement.expire", {}, dedupe_key="placement:expire")
