"""Accounts and roles: admins, base operators (scoped to their bases), participant accounts."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, Column, ForeignKey, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model, db
from app.models.types import UTCDateTime, utcnow
from app.models.vocabulary import Role, enum_type

if TYPE_CHECKING:
    from app.models.hubs import Hub
    from app.models.participants import Participant

_hasher = PasswordHasher()


#: Which bases an operator account runs.
operator_hubs = Table(
    "operator_hubs",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("hub_id", ForeignKey("hubs.id", ondelete="CASCADE"), primary_key=True),
)


class User(UserMixin, Model):
    """A login. Participant accounts are bound to exactly one participant."""

    __tablename__ = "users"
    __table_args__ = (
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
    role: Mapped[Role] = mapped_column(enum_type(Role, "role"))
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Bumped by a password change and "log out everywhere": API tokens carry the epoch they
    # were issued in, so every token of the account dies with it (logins end by their rows).
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    participant: Mapped[Participant | None] = relationship()
    hubs: Mapped[list[Hub]] = relationship(
        secondary=operator_hubs, back_populates="operators", order_by="Hub.code"
    )

    #: The key of the login this object was loaded for (set by the accounts.sessions service).
    if TYPE_CHECKING:  # an annotation here would make SQLAlchemy map it as a column
        login_key: str | None
    login_key = None  # a plain attribute (not a column), set at login

    @property
    def is_active(self) -> bool:  # flask-login
        return self.active

    def get_id(self) -> str:  # flask-login
        """What the session and the "keep me signed in" cookie hold: the login, not the account.

        ``<user id>:<login key>`` names one server-side login row, so ending that row (logout,
        password change, log out everywhere) ends every copy of both cookies.
        """
        return f"{self.id}:{self.login_key}"

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


class LoginSession(Model):
    """One signed-in browser: its key's hash, whether it is remembered, when it began and ended.

    The key itself lives only in the person's signed session and remember cookies; a login is
    valid while ``ended_at`` is empty and it is younger than ``LOGIN_MAX_AGE_DAYS``.
    """

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    remember: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PasswordReset(Model):
    """A password-reset link sent by e-mail: only its token's SHA-256 is kept; it works once
    (``used_at``) and until ``expires_at``."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
