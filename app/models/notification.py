"""In-app notifications and the outgoing e-mail outbox.

A notification stores a ``kind`` and its parameters, not a rendered sentence, so it reads in
whichever language its reader chose. E-mails are rows first (a transactional outbox): each row
is the ledger of its delivery (status, attempts, last error, when the next try is due), which
the job queue's workers carry out (``app.services.notify.mailer``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model
from app.models.types import UTCDateTime, utcnow
from app.models.vocabulary import MailStatus, enum_type


class Notification(Model):
    """One message for one user (booking cancelled by the base, confirmed, ...)."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    booking_id: Mapped[int | None] = mapped_column(
        ForeignKey("bookings.id", ondelete="SET NULL"), index=True
    )
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"<Notification {self.kind} user={self.user_id}>"


class OutboxEmail(Model):
    """One e-mail and its delivery: pending (``next_attempt_at`` says when), being sent (since
    ``claimed_at``), sent (``sent_at``) or failed after its last try (``last_error`` says why)."""

    __tablename__ = "outbox_emails"

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    status: Mapped[MailStatus] = mapped_column(
        enum_type(MailStatus, "status"),
        default=MailStatus.PENDING,
        server_default=MailStatus.PENDING.value,
        index=True,
    )
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
