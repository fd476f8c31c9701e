"""Accounts and roles: admins, base operators (scoped to their bases), participant accounts."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from app.models.hubs import Hub
    from app.models.participants import Participant

_hasher = PasswordHasher()


class Role(enum.StrEnum):
    """What an account may do: everything, run its bases, or book for its participant."""

    ADMIN = "admin"
    OPERATOR = "operator"
    PARTICIPANT = "participant"


ROLES = tuple(r.value for r in Role)

#: Which bases an operator account runs.
operator_hubs = Table(
    "operator_hubs",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("hub_id", ForeignKey("hubs.id", ondelete="CASCADE"), primary_key=True),
)


class User(UserMixin, db.Model):
    """A login. Participant accounts are bound to exactly one participant."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'operator', 'participant')", name="role"),
        CheckConstraint(
            "(role = 'participant' AND participant_id IS NOT NULL)"
            " OR (role <> 'participant' AND participant_id IS NULL)",
            name="participant_binding",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    participant: Mapped[Participant | None] = relationship()
    hubs: Mapped[list[Hub]] = relationship(
        secondary=operator_hubs, back_populates="operators", order_by="Hub.code"
    )

    @property
    def is_active(self) -> bool:  # flask-login
        return self.active

    def set_password(self, password: str) -> None:
        """Store an Argon2id hash of ``password``."""
        self.password_hash = _hasher.hash(password)

    def check_password(self, password: str) -> bool:
        """True when ``password`` matches; rehashes transparently when parameters changed."""
        try:
            _hasher.verify(self.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False
        if _hasher.check_needs_rehash(self.password_hash):
            self.password_hash = _hasher.hash(password)
        return True

    def can_operate(self, hub: Hub) -> bool:
        """Admins operate every base; operators only theirs."""
        if self.role == Role.ADMIN:
            return True
        return self.role == Role.OPERATOR and any(h.id == hub.id for h in self.hubs)

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"
