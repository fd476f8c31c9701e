"""Livestream bases ("hubs") and their studios.

The class is called ``Hub`` (table ``hubs``) so that it never clashes with SQLAlchemy's
declarative ``Base``; in the product and in the exchange format it is a *base* (id ``B017``).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.types import UTCDateTime
from app.models.vocabulary import Region, enum_type

if TYPE_CHECKING:
    from app.models.timetable import TimetableTemplate, TimetableWeek
    from app.models.users import User


class Hub(Model):
    """A livestream base: a site with studios, run by operators, in one city."""

    __tablename__ = "hubs"
    __table_args__ = (
        CheckConstraint("lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180", name="coordinates"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    city: Mapped[str] = mapped_column(String(60))
    province: Mapped[str] = mapped_column(String(60))
    region: Mapped[Region] = mapped_column(enum_type(Region, "region"), index=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    adcode: Mapped[str | None] = mapped_column(String(12))

    studios: Mapped[list[Studio]] = relationship(
        back_populates="hub", order_by="Studio.code", cascade="all, delete-orphan"
    )
    operators: Mapped[list[User]] = relationship(
        secondary="operator_hubs", back_populates="hubs", order_by="User.username"
    )
    templates: Mapped[list[TimetableTemplate]] = relationship(
        back_populates="hub", cascade="all, delete-orphan"
    )
    weeks: Mapped[list[TimetableWeek]] = relationship(
        back_populates="hub", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Hub {self.code} {self.name}>"


class Studio(Model):
    """One studio of a base; its ``features`` decide which requests it can serve."""

    __tablename__ = "studios"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(24), unique=True)
    hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id", ondelete="CASCADE"), index=True)
    name: Mapped[str | None] = mapped_column(String(120))
    # A sorted list of feature names (see FEATURES).
    features: Mapped[list[str]] = mapped_column(JSON, default=list)
    position: Mapped[int] = mapped_column(Integer, default=0)
    #: when the base retired the studio: no new slots from then on, booked sessions kept
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    hub: Mapped[Hub] = relationship(back_populates="studios")

    def __repr__(self) -> str:
        return f"<Studio {self.code} {self.features}>"
