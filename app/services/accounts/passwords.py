"""Passwords: one login check for every entry point, and the policy every new password meets.

``authenticate`` runs exactly one Argon2 verification whatever the username (unknown, inactive,
wrong password or right), so the time a login takes does not tell which usernames exist.
``check_policy`` refuses passwords on a list of 30,000 common ones (shipped with the ``zxcvbn``
package, read from disk on first use), the username itself or passwords containing it, and
passwords under 10 characters for staff (admin, operator) or under 8 for participants.
"""

from __future__ import annotations

import contextlib
import functools
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from sqlalchemy import select

from app.extensions import db
from app.models import Role, User

MIN_LENGTH = {Role.ADMIN: 10, Role.OPERATOR: 10, Role.PARTICIPANT: 8}
MAX_LENGTH = 200

#: Checked against when the username is unknown: the same cost as a real account's hash.
_HASHER = PasswordHasher()
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))


class PasswordPolicyError(ValueError):
    """A password the policy refuses. ``reason`` is short, common, username or long."""

    def __init__(self, reason: str, message: str, *, minimum: int = 0) -> None:
        super().__init__(message)
        self.reason = reason
        self.minimum = minimum


def authenticate(username: str, password: str) -> User | None:
    """The active account ``username`` whose password is ``password``; ``None`` otherwise.

    Not committed: a successful check may have upgraded the stored hash.
    """
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        with contextlib.suppress(VerificationError):
            _HASHER.verify(_DUMMY_HASH, password)
        return None
    good = user.check_password(password)
    return user if good and user.active else None


@functools.cache
def common_passwords() -> frozenset[str]:
    """The common-password list (lower case), loaded once per process when first needed."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def check_policy(password: str, *, username: str, role: str) -> None:
    """Raise ``PasswordPolicyError`` unless ``password`` may be set for this account."""
    lowered, name = password.lower(), username.lower()
    if lowered == name or (len(name) >= 3 and name in lowered):
        raise PasswordPolicyError("username", "the password must not contain the username")
    if lowered in common_passwords() or lowered.strip("0123456789!.") in common_passwords():
        raise PasswordPolicyError("common", "this password is too common; choose another")
    minimum = MIN_LENGTH.get(Role(role), 10)
    if len(password) < minimum:
        raise PasswordPolicyError(
            "short", f"the password must have at least {minimum} characters", minimum=minimum
        )
    if len(password) > MAX_LENGTH:
        raise PasswordPolicyError("long", f"the password must have at most {MAX_LENGTH} characters")


def set_password(user: User, password: str) -> None:
    """Check the policy, then store an Argon2id hash (not committed)."""
    check_policy(password, username=user.username, role=user.role)
    user.set_password(password)
