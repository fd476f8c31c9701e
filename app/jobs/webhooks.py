"""``webhooks.deliver``: one try of one webhook or robot message (``app.services.webhooks``).

Each try is its own job, queued after the previous one failed with the next delay of
``WEBHOOK_RETRY_DELAYS_S``; the message's tries and outcome live on the message itself. The
job's own retries only cover a worker that died mid-try.
"""

from __future__ import annotations

from app.jobs.queue import task
from app.services.webhooks import delivery
from app.services.webhooks.events import DELIVER_JOB


def release_message(job_id: int, payload: dict, retrying: bool, reason: str) -> None:
    """A try whose worker died: the job tries again, or (its attempts spent) the message is
    recorded as a failed try, so it is retried after its delay or given up, never left hanging."""
    if not retrying:
        delivery.lost_try(str(payload.get("message")), int(payload.get("attempt") or 1), reason)


@task(DELIVER_JOB, max_attempts=2, release=release_message)
def deliver_job(payload: dict) -> dict:
    """Try the payload's message for the payload's try number."""
    return delivery.attempt(str(payload["message"]), int(payload.get("attempt") or 1))
