"""Harvest lots and the prime-time history the scheduler rotates on.

A producer records a *lot* (product, quantity, when it is ready, when it must be sold by) and
files requests for it: every session of such a request lies inside ``ready_at`` ..
``best_before`` (hard rule 10 of the exchange format), the sooner after ready the fresher.

``PrimeRecent`` keeps a week's ``prime_recent`` as an imported file gave it (a site that has
the four weeks before computes it from their sessions instead, at export).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from app.models.participants import Participant


class HarvestLot(Model):
    """One perishable lot of a producer: ``code`` L000001, sold between ready and best-before."""

    __tablename__ = "harvest_lots"
    __table_args__ = (
        CheckConstraint("best_before > ready_at", name="dates"),
        CheckConstraint("quantity IS NULL OR quantity > 0", name="quantity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    product: Mapped[str] = mapped_column(String(80))
    #: None when not known (a lot that came in through an exchange file)
    quantity: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(16), default="kg")
    ready_at: Mapped[datetime] = mapped_column(UTCDateTime())
    best_before: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    participant: Mapped[Participant] = relationship()

    def __repr__(self) -> str:
        return f"<HarvestLot {self.code} {self.product}>"


class PrimeRecent(Model):
    """A participant's prime-time sessions in the four weeks before a week, as imported."""

    __tablename__ = "prime_recent"
    __table_args__ = (CheckConstraint("sessions >= 0", name="sessions"),)

    planning_week_id: Mapped[int] = mapped_column(
        ForeignKey("planning_weeks.id", ondelete="CASCADE"), primary_key=True
    )
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True
    )
    sessions: Mapped[int] = mapped_column(Integer)
