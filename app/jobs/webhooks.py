"""``webhooks.deliver``: one try of one webhook or robot message (``app.services.webhooks``).

Each try is its own job, queued after the previous one failed with the next delay of
``WEBHOOK_RETRY_DELAYS_S``; the message's tries and outcome live on the message itself. The
job's own retries only cover a worker that died mid-try.
"""

from __future__ import annotations

from app.jobs.queue import task
from app.services.webhooks import delivery
from app.services.webhooks.events import DELIVER_JOB


@task(DELIVER_JOB, max_attempts=2)
def deliver_job(payload: dict) -> dict:
    """Try the payload's message for the payload's try number."""
    return delivery.attempt(str(payload["message"]), int(payload.get("attempt") or 1))
