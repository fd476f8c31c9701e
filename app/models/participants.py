"""Participants: agricultural producers and merchants who book livestream sessions."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model
from app.models.vocabulary import ParticipantKind, Region, enum_type


class Participant(Model):
    """A producer (farm co-op, grower) or merchant (factory, brand, export firm).

    ``priority`` is the programme priority: 1 regular, 2 small business, 3 supported.
    """

    __tablename__ = "participants"
    __table_args__ = (
        CheckConstraint("priority BETWEEN 1 AND 3", name="priority"),
        CheckConstraint("lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180", name="coordinates"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[ParticipantKind] = mapped_column(enum_type(ParticipantKind, "kind"))
    province: Mapped[str] = mapped_column(String(60))
    county: Mapped[str | None] = mapped_column(String(60))
    region: Mapped[Region] = mapped_column(enum_type(Region, "region"), index=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    priority: Mapped[int] = mapped_column(Integer, default=1)
    adcode: Mapped[str | None] = mapped_column(String(12))
    #: what it sells, a short lowercase name (tea, citrus …); None when not known. Same-category
    #: sessions are kept apart at one base when the week asks (category separation).
    category: Mapped[str | None] = mapped_column(String(40))

    def __repr__(self) -> str:
        return f"<Participant {self.code} {self.name}>"
