"""Delivering the outbox: each e-mail is sent by a job-queue worker, never by a web request.

A row of ``outbox_emails`` is the ledger of one e-mail's delivery. :func:`queue_due` enqueues a
``mail.send`` job for every e-mail that is due (one job per e-mail, deduplicated while queued);
it runs after the commit that wrote e-mails and, as a safety net, on the clock every
``MAIL_SWEEP_S``. :func:`deliver` is that job: it claims the row (pending -> sending), sends it
through Flask-Mailman and records the outcome. A refused or unreachable server puts the row back
to pending with the next try due after ``MAIL_RETRY_DELAYS_S`` (and queues that try); after the
last delay it is recorded failed with the server's answer.

Without a mail server (``MAIL_BACKEND=smtp`` and no ``MAIL_SERVER``) nothing is queued: the
e-mails stay pending in the database (the demo); ``MAIL_BACKEND=console`` prints them instead.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Flask, current_app
from flask_mailman import EmailMessage
from sqlalchemy import and_, event, or_, select, update
from sqlalchemy.orm import Session

from app.extensions import AnySession, db, mail, rowcount
from app.jobs.queue import enqueue, queue_of
from app.models import OutboxEmail, utcnow
from app.models.vocabulary import MailStatus
from config import settings

log = logging.getLogger("chunlei.mail")

SEND_JOB = "mail.send"
_SMTP_BACKEND = "app.services.notify.smtp.EmailBackend"


def enabled() -> bool:
    """Whether e-mails leave the outbox at all (a mail server or a non-SMTP backend is set)."""
    s = settings()
    return s.MAIL_BACKEND != "smtp" or bool(s.MAIL_SERVER)


def _lease() -> timedelta:
    """How long a claimed e-mail may stay "sending" before its worker counts as dead."""
    return timedelta(seconds=settings().MAIL_TIMEOUT * 4 + 60)


def _due_condition(now):
    return or_(
        and_(
            OutboxEmail.status == MailStatus.PENDING,
            or_(OutboxEmail.next_attempt_at.is_(None), OutboxEmail.next_attempt_at <= now),
        ),
        and_(OutboxEmail.status == MailStatus.SENDING, OutboxEmail.claimed_at < now - _lease()),
    )


def queue_due(limit: int = 1000) -> int:
    """Enqueue a send job for every e-mail due now (after a commit); returns how many.

    A failure to enqueue is logged and left to the next sweep: it never undoes the write that
    made the e-mails.
    """
    if not enabled():
        return 0
    try:
        ids = db.session.scalars(
            select(OutboxEmail.id)
            .where(_due_condition(utcnow()))
            .order_by(OutboxEmail.id)
            .limit(limit)
        ).all()
        for outbox_id in ids:
            enqueue(SEND_JOB, {"outbox_id": outbox_id}, dedupe_key=f"mail:{outbox_id}")
        return len(ids)
    except Exception:
        db.session.rollback()
        log.warning("could not queue the outbox now; the clock's sweep will", exc_info=True)
        return 0


def _claim(outbox_id: int) -> OutboxEmail | None:
    """Take the e-mail for this attempt (one conditional UPDATE), or None if not ours now."""
    now = utcnow()
    claimed = rowcount(
        db.session.execute(
            update(OutboxEmail)
            .where(OutboxEmail.id == outbox_id, _due_condition(now))
            .values(status=MailStatus.SENDING, claimed_at=now, attempts=OutboxEmail.attempts + 1)
        )
    )
    db.session.commit()
    if not claimed:
        return None
    return db.session.get(OutboxEmail, outbox_id, populate_existing=True)


def _connection():
    s = settings()
    if s.MAIL_BACKEND != "smtp":
        return mail.get_connection(backend=s.MAIL_BACKEND)
    return mail.get_connection(
        backend=_SMTP_BACKEND,
        host=s.MAIL_SERVER,
        port=s.MAIL_PORT,
        username=s.MAIL_USERNAME or "",
        password=s.MAIL_PASSWORD or "",
        use_tls=s.MAIL_USE_TLS,
        use_ssl=s.MAIL_USE_SSL,
        timeout=s.MAIL_TIMEOUT,
        ca_file=s.MAIL_CA_FILE,
    )


def _message(row: OutboxEmail, connection) -> EmailMessage:
    return EmailMessage(
        subject=row.subject,
        body=row.body,
        from_email=settings().MAIL_DEFAULT_SENDER,
        to=[row.to_address],
        connection=connection,
        headers={"Auto-Submitted": "auto-generated", "X-Chunlei-Outbox": str(row.id)},
    )


def deliver(outbox_id: int) -> dict:
    """Send one e-mail (the ``mail.send`` job) and record the outcome on its row."""
    row = _claim(outbox_id)
    if row is None:
        return {"outbox_id": outbox_id, "status": "not due"}
    try:
        with _connection() as connection:
            _message(row, connection).send()
    except Exception as e:  # SMTP refusals, network errors, TLS failures alike
        return _failed(row, f"{type(e).__name__}: {e}")
    row.status = MailStatus.SENT
    row.sent_at = utcnow()
    row.last_error = None
    row.next_attempt_at = None
    db.session.commit()
    log.info("e-mail #%s sent to %s (attempt %s)", row.id, row.to_address, row.attempts)
    return {"outbox_id": row.id, "status": "sent", "attempts": row.attempts}


def _failed(row: OutboxEmail, reason: str) -> dict:
    """Record a failed attempt: a retry after the next back-off, or failed after the last."""
    db.session.rollback()
    row = db.session.get(OutboxEmail, row.id, populate_existing=True) or row
    delays = settings().mail_retry_delays
    row.last_error = reason.strip().splitlines()[0][:500] if reason.strip() else "error"
    row.claimed_at = None
    if row.attempts > len(delays):
        row.status = MailStatus.FAILED
        db.session.commit()
        log.warning(
            "e-mail #%s failed for good after %s attempts: %s", row.id, row.attempts, reason
        )
        return {"outbox_id": row.id, "status": "failed", "attempts": row.attempts}
    delay = delays[row.attempts - 1]
    row.status = MailStatus.PENDING
    row.next_attempt_at = utcnow() + timedelta(seconds=delay)
    db.session.commit()
    log.info(
        "e-mail #%s attempt %s failed (%s); next try in %ss", row.id, row.attempts, reason, delay
    )
    if not _eager():
        enqueue(SEND_JOB, {"outbox_id": row.id}, dedupe_key=f"mail:{row.id}", delay_s=delay)
    return {"outbox_id": row.id, "status": "retrying", "attempts": row.attempts, "retry_in": delay}


def _eager() -> bool:
    """In eager mode (tests of one attempt) a retry would run inline at once: leave it queued
    for the sweep instead."""
    return bool(queue_of(current_app).eager)


# --- after the commit that wrote e-mails: queue them -------------------------------------------
# A session notes when a flush wrote outbox rows and, when that transaction commits, that
# committed e-mails wait; the end of a web request or of a job then queues them (after the
# commit, as jobs must be). A rolled-back transaction's e-mails never existed.
_WRITTEN, _COMMITTED = "chunlei.outbox_written", "chunlei.outbox_committed"


@event.listens_for(Session, "after_flush")
def _note_written(session: AnySession, _context) -> None:
    if any(isinstance(obj, OutboxEmail) for obj in session.new):
        session.info[_WRITTEN] = True


@event.listens_for(Session, "after_commit")
def _note_committed(session: AnySession) -> None:
    if session.info.pop(_WRITTEN, False):
        session.info[_COMMITTED] = True


@event.listens_for(Session, "after_rollback")
def _forget_written(session: AnySession) -> None:
    session.info.pop(_WRITTEN, None)


def queue_committed() -> int:
    """Queue the e-mails committed since the last call (none: no query at all)."""
    if not db.session.info.pop(_COMMITTED, False):
        return 0
    if db.session.info.get(_WRITTEN) or db.session.new or db.session.dirty or db.session.deleted:
        return 0  # uncommitted work in the session: leave it to the sweep, never commit it here
    return queue_due()


def init_app(app: Flask) -> None:
    """Bind Flask-Mailman and queue a request's committed e-mails when it ends."""
    mail.init_app(app)

    @app.after_request
    def queue_mail_of_request(response):
        queue_committed()
        return response
