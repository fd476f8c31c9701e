"""Bookings, the slots they held over time, and the live slot holds the database keeps unique."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.types import UTCDateTime, utcnow
from app.models.vocabulary import ACTIVE_STATUSES, BookingStatus, Origin, enum_type

if TYPE_CHECKING:
    from app.models.participants import Participant
    from app.models.requests import BookingRequest
    from app.models.timetable import PlanningWeek, Slot


def booking_code(booking_id: int) -> str:
    """A booking's code follows its id: K000123."""
    return f"K{booking_id:06d}"


class Booking(Model):
    """One session: consecutive slots of one studio for a participant.

    ``request_id`` is null for a booking a participant made directly on a slot; the exchange
    format gives such a booking a request of its own (see app.services.exchange.export).
    """

    __tablename__ = "bookings"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("booking_requests.id", ondelete="RESTRICT"), index=True
    )
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="RESTRICT"), index=True
    )
    planning_week_id: Mapped[int] = mapped_column(
        ForeignKey("planning_weeks.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[BookingStatus] = mapped_column(
        enum_type(BookingStatus, "status"), default=BookingStatus.TENTATIVE, index=True
    )
    origin: Mapped[Origin] = mapped_column(enum_type(Origin, "origin"))
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("optimization_runs.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: a proposal's acceptance deadline: a tentative booking still unanswered then is released
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)

    request: Mapped[BookingRequest | None] = relationship()
    participant: Mapped[Participant] = relationship()
    planning_week: Mapped[PlanningWeek] = relationship()
    slot_history: Mapped[list[BookingSlot]] = relationship(
        back_populates="booking",
        cascade="all, delete-orphan",
        order_by="(BookingSlot.assigned_at, BookingSlot.position)",
    )
    holds: Mapped[list[SlotHold]] = relationship(
        back_populates="booking", cascade="all, delete-orphan"
    )

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def current_slots(self) -> list[Slot]:
        """The slots this booking holds now (or held last, if cancelled), in order."""
        rows = [bs for bs in self.slot_history if bs.released_at is None]
        if not rows and self.slot_history:
            last = max(bs.assigned_at for bs in self.slot_history)
            rows = [bs for bs in self.slot_history if bs.assigned_at == last]
        return [bs.slot for bs in sorted(rows, key=lambda bs: bs.position)]

    def __repr__(self) -> str:
        return f"<Booking {self.code} {self.status}>"


class BookingSlot(Model):
    """History: slot ``position`` of a booking from ``assigned_at`` until ``released_at``."""

    __tablename__ = "booking_slots"
    __table_args__ = (CheckConstraint("position >= 0", name="position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(
        ForeignKey("bookings.id", ondelete="CASCADE"), index=True
    )
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id", ondelete="RESTRICT"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    booking: Mapped[Booking] = relationship(back_populates="slot_history")
    slot: Mapped[Slot] = relationship()


class SlotHold(Model):
    """A live claim on a slot. A row exists only while its booking is active.

    ``slot_id`` is the primary key, so the database itself refuses a second active booking on
    one slot (SQLite and PostgreSQL alike). Cancelling or moving a booking deletes its holds in
    the same transaction; ``booking_slots`` keeps the history.
    """

    __tablename__ = "slot_holds"
    __table_args__ = (UniqueConstraint("booking_id", "slot_id"),)

    slot_id: Mapped[int] = mapped_column(
        ForeignKey("slots.id", ondelete="RESTRICT"), primary_key=True
    )
    # No index of its own: the unique (booking_id, slot_id) index serves lookups by booking.
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    held_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    booking: Mapped[Booking] = relationship(back_populates="holds")
    slot: Mapped[Slot] = relationship()
