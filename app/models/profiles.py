"""What a participant tells about itself beyond the exchange format: city, categories and how the
bases it uses reach it (phone, WeChat, the contact a spreadsheet import gave).

Kept in its own table so the participant row stays the exchange format's shape.
"""

from __future__ import annotations

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model

#: Product categories people pick from (free text beyond these is not offered, to keep filters clean).
CATEGORIES = (
    "fruit",
    "vegetables",
    "tea",
    "grain_oil",
    "meat_eggs",
    "seafood",
    "specialty_food",
    "apparel",
    "home_goods",
    "electronics",
    "crafts",
    "beauty",
)


class ParticipantProfile(Model):
    """A participant's prefecture-level city, product categories (sorted codes) and how to reach
    it (a phone number or WeChat id, free text)."""

    __tablename__ = "participant_profiles"

    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True
    )
    city: Mapped[str | None] = mapped_column(String(60))
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    contact: Mapped[str | None] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(20))
    wechat: Mapped[str | None] = mapped_column(String(20))
