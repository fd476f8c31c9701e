"""E-mail as jobs: ``mail.send`` delivers one outbox e-mail; the clock's sweep queues the due ones.

The work and its ledger (status, attempts, last error, next try) are
``app.services.notify.mailer``; a failed try is not a failed job: the e-mail's own back-off
(``MAIL_RETRY_DELAYS_S``) queues the next one.
"""

from __future__ import annotations

from flask import Flask

from app.jobs.queue import task
from app.services.notify import mailer


@task(mailer.SEND_JOB, max_attempts=3)
def send_mail_job(payload: dict) -> dict:
    """Send the outbox e-mail ``payload["outbox_id"]`` and record the outcome on its row."""
    return mailer.deliver(int(payload["outbox_id"]))


def sweep_outbox(app: Flask) -> int:
    """The clock's pass (every ``MAIL_SWEEP_S``): queue every e-mail due and not yet queued."""
    return mailer.queue_due()
