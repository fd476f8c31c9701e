"""Logins as server-side rows, so signing out really ends them.

A login's random key travels in the signed session cookie and, with "keep me signed in", the
remember cookie (``User.get_id``); the database keeps only its SHA-256. Logout ends the row of
that browser (copies of its cookies stop working, other devices stay signed in); a password
change or "log out everywhere" ends every row of the account and bumps its session epoch,
which ends its API tokens too.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, or_, select, update

from app.extensions import db, rowcount
from app.models import LoginSession, User, utcnow
from app.services.accounts import audit
from app.services.accounts.passwords import set_password
from config import settings


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _max_age() -> timedelta:
    return timedelta(days=settings().LOGIN_MAX_AGE_DAYS)


def open_login(user: User, *, remember: bool) -> None:
    """Start a login for ``user`` (not committed); ``user.get_id()`` then names it.

    The account's ended and expired logins are deleted on the way, so rows never pile up.
    """
    now = utcnow()
    db.session.execute(
        delete(LoginSession).where(
            LoginSession.user_id == user.id,
            or_(LoginSession.ended_at.is_not(None), LoginSession.created_at < now - _max_age()),
        )
    )
    key = secrets.token_urlsafe(32)
    db.session.add(
        LoginSession(user_id=user.id, key_hash=_hash(key), remember=remember, created_at=now)
    )
    user.login_key = key


def user_for_login(login_id: str) -> User | None:
    """The active account of a live login named ``<user id>:<key>``; ``None`` otherwise."""
    user_id, _, key = login_id.partition(":")
    if not user_id.isdigit() or not key:
        return None
    user = db.session.scalar(
        select(User)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(
            User.id == int(user_id),
            User.active.is_(True),
            LoginSession.key_hash == _hash(key),
            LoginSession.ended_at.is_(None),
            LoginSession.created_at >= utcnow() - _max_age(),
        )
    )
    if user is not None:
        user.login_key = key
    return user


def login_remembered(user: User) -> bool:
    """Whether the login ``user`` was loaded for is a "keep me signed in" one."""
    if not user.login_key:
        return False
    return bool(
        db.session.scalar(
            select(LoginSession.remember).where(LoginSession.key_hash == _hash(user.login_key))
        )
    )


def end_login(user: User) -> None:
    """End the login ``user`` was loaded for (logout; not committed)."""
    if user.login_key:
        db.session.execute(
            update(LoginSession)
            .where(LoginSession.key_hash == _hash(user.login_key), LoginSession.ended_at.is_(None))
            .values(ended_at=utcnow())
        )
        user.login_key = None


def end_all_logins(user: User) -> int:
    """End every login and API token of ``user`` (not committed); returns the logins ended."""
    ended = rowcount(
        db.session.execute(
            update(LoginSession)
            .where(LoginSession.user_id == user.id, LoginSession.ended_at.is_(None))
            .values(ended_at=utcnow())
        )
    )
    user.session_epoch = (user.session_epoch or 0) + 1
    user.login_key = None
    return ended


def log_out_everywhere(user: User) -> None:
    """ "Log out everywhere": every login and token of the account ends, with an audit row."""
    ended = end_all_logins(user)
    audit.record("auth.logout_all", actor=user, subject=user.username[:40], logins=ended)


class WrongPassword(ValueError):
    """The current password given to confirm a change is not the account's."""


def change_password(user: User, current: str, new: str) -> None:
    """Change ``user``'s password (not committed) and end every login and token of the account.

    Raises ``WrongPassword`` or ``PasswordPolicyError`` and changes nothing then.
    """
    if not user.check_password(current):
        raise WrongPassword("the current password is not right")
    set_password(user, new)
    ended = end_all_logins(user)
    audit.record("user.password_changed", actor=user, subject=user.username[:40], logins=ended)


def reset_password(user: User, new: str, *, actor: User | None = None) -> None:
    """Set ``user``'s password without the old one (an administrator's reset; not committed).

    Every login and token of the account ends, as after a change; ``PasswordPolicyError``
    changes nothing.
    """
    set_password(user, new)
    ended = end_all_logins(user)
    audit.record("user.password_reset", actor=actor, subject=user.username[:40], logins=ended)
