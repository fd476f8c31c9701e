"""Outgoing integrations: endpoints (signed webhooks, group robots), their messages and tries.

An endpoint belongs to the account that registered it and hears only the events of its bases
(its chosen bases, or every base its owner operates). A message is one event for one endpoint,
written in the transaction of the change that caused it (the outbox) and tried from the job
queue until delivered or given up; its ``msg_id`` is the ``webhook-id`` of every try. An attempt
is one try: its outcome, latency and the receiver's answer (the delivery log).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model, db
from app.models.types import UTCDateTime, utcnow
from app.models.vocabulary import EndpointKind, MessageFormat, MessageStatus, enum_type

if TYPE_CHECKING:
    from app.models.hubs import Hub
    from app.models.users import User

#: The bases an endpoint chose (unless it takes all of its owner's bases).
webhook_endpoint_hubs = Table(
    "webhook_endpoint_hubs",
    db.metadata,
    Column("endpoint_id", ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), primary_key=True),
    Column("hub_id", ForeignKey("hubs.id", ondelete="CASCADE"), primary_key=True),
)


class WebhookEndpoint(Model):
    """A receiver of events: its URL, kind, secret, events and bases, and whether it is on."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[EndpointKind] = mapped_column(enum_type(EndpointKind, "kind"))
    url: Mapped[str] = mapped_column(String(2000))
    # whsec_<base64> (webhooks), SEC... (a DingTalk robot's signing secret) or none.
    secret: Mapped[str | None] = mapped_column(String(200))
    format: Mapped[MessageFormat] = mapped_column(
        enum_type(MessageFormat, "format"), default=MessageFormat.MARKDOWN
    )
    events: Mapped[list] = mapped_column(JSON, default=list)
    # True: every base the owner operates (every base for an admin), now and later.
    all_bases: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str | None] = mapped_column(String(200))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    # The first failed try since the last delivered one (None while it delivers).
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    owner: Mapped[User] = relationship()
    hubs: Mapped[list[Hub]] = relationship(secondary=webhook_endpoint_hubs, order_by="Hub.code")

    def __repr__(self) -> str:
        return f"<WebhookEndpoint {self.code} {self.kind}>"


class WebhookMessage(Model):
    """One event for one endpoint: the exact body sent, its status and tries so far."""

    __tablename__ = "webhook_messages"
    __table_args__ = (Index("ix_webhook_messages_endpoint_id_id", "endpoint_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The webhook-id header: the same on every try, so a receiver can drop duplicates.
    msg_id: Mapped[str] = mapped_column(String(40), unique=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event_type: Mapped[str] = mapped_column(String(40))
    # The JSON body ({"type", "timestamp", "data"}) as signed and sent, byte for byte.
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[MessageStatus] = mapped_column(
        enum_type(MessageStatus, "status"), default=MessageStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)

    endpoint: Mapped[WebhookEndpoint] = relationship()


class WebhookAttempt(Model):
    """One try of a message: when, how long, the receiver's status code, or the error."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (Index("ix_webhook_attempts_endpoint_id_id", "endpoint_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_messages.id", ondelete="CASCADE"), index=True
    )
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    attempt: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    latency_ms: Mapped[int] = mapped_column(Integer, default=0)
    response_status: Mapped[int | None] = mapped_column(Integer)
    ok: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(Text)
    response_excerpt: Mapped[str | None] = mapped_column(Text)
    # Seconds until the next try (None: delivered, or no try left).
    retry_in_s: Mapped[float | None] = mapped_column()

    message: Mapped[WebhookMessage] = relationship()
