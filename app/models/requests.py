"""Booking requests: what a participant asks the scheduler for in one planning week."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Integer,
    String,
    Table,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model, db
from app.models.types import UTCDateTime, utcnow
from app.models.vocabulary import RequestStatus, enum_type

if TYPE_CHECKING:
    from app.models.harvest import HarvestLot
    from app.models.hubs import Hub
    from app.models.participants import Participant
    from app.models.timetable import PlanningWeek

#: Where a request's instant placement stands (null: filed before instant placement existed).
PLACEMENT_STATES = ("queued", "running", "done", "failed")

#: Allowed bases of a request; only consulted when ``any_base`` is false.
request_allowed_hubs = Table(
    "request_allowed_hubs",
    db.metadata,
    Column("request_id", ForeignKey("booking_requests.id", ondelete="CASCADE"), primary_key=True),
    # The requests a base may serve (an operator's list, a base's waiting line) look up by base.
    Column("hub_id", ForeignKey("hubs.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class PreferredHub(Model):
    """A soft preference: base ``hub`` at ``rank`` (0 is best) for a request."""

    __tablename__ = "request_preferred_hubs"
    __table_args__ = (CheckConstraint("rank >= 0", name="rank"),)

    request_id: Mapped[int] = mapped_column(
        ForeignKey("booking_requests.id", ondelete="CASCADE"), primary_key=True
    )
    hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id", ondelete="CASCADE"), primary_key=True)
    rank: Mapped[int] = mapped_column(Integer)

    hub: Mapped[Hub] = relationship()


class BookingRequest(Model):
    """Up to ``sessions`` sessions of ``length`` consecutive slots in one studio, inside a window.

    ``any_base`` true means the exchange format's ``"bases": null``; otherwise ``allowed_hubs``
    lists the bases that may serve it. ``max_km`` null means no distance limit.
    """

    __tablename__ = "booking_requests"
    __table_args__ = (
        CheckConstraint("sessions >= 1", name="sessions"),
        CheckConstraint("length >= 1", name="length"),
        CheckConstraint("window_end > window_start", name="window"),
        CheckConstraint("max_km IS NULL OR max_km >= 0", name="max_km"),
        CheckConstraint(
            "placement IS NULL OR placement IN ('queued', 'running', 'done', 'failed')",
            name="placement",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    planning_week_id: Mapped[int] = mapped_column(
        ForeignKey("planning_weeks.id", ondelete="CASCADE"), index=True
    )
    sessions: Mapped[int] = mapped_column(Integer)
    length: Mapped[int] = mapped_column(Integer, default=1)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime())
    window_end: Mapped[datetime] = mapped_column(UTCDateTime())
    any_base: Mapped[bool] = mapped_column(Boolean, default=True)
    max_km: Mapped[float | None] = mapped_column(Float)
    # Sorted list of studio features every session's studio must have.
    needs: Mapped[list[str]] = mapped_column(JSON, default=list)
    prefer_prime: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[RequestStatus] = mapped_column(
        enum_type(RequestStatus, "status"), default=RequestStatus.OPEN
    )
    #: lists show requests newest first: an index keeps that a walk, not a sort of the programme's
    #: 30,000 requests per page
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    #: the harvest lot the sessions sell: each lies inside its ready .. best-before
    harvest_lot_id: Mapped[int | None] = mapped_column(
        ForeignKey("harvest_lots.id", ondelete="RESTRICT"), index=True
    )
    #: instant placement: queued -> running -> done | failed (with ``placement_reason``)
    placement: Mapped[str | None] = mapped_column(String(16), index=True)
    placement_reason: Mapped[str | None] = mapped_column(String(300))
    placement_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    participant: Mapped[Participant] = relationship()
    planning_week: Mapped[PlanningWeek] = relationship()
    allowed_hubs: Mapped[list[Hub]] = relationship(
        secondary=request_allowed_hubs, order_by="Hub.code"
    )
    harvest_lot: Mapped[HarvestLot | None] = relationship()
    preferred: Mapped[list[PreferredHub]] = relationship(
        order_by="PreferredHub.rank", cascade="all, delete-orphan"
    )

    @property
    def preferred_hubs(self) -> list[Hub]:
        """Preferred bases, best first."""
        return [p.hub for p in self.preferred]

    def __repr__(self) -> str:
        return f"<BookingRequest {self.code} x{self.sessions}>"
