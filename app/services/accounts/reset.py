"""Resetting a forgotten password by e-mail, through the outbox.

``request_reset`` answers the same whether or not the address belongs to an account (no
account enumeration): for each active account with that address it stores the SHA-256 of a
fresh random token (valid ``PASSWORD_RESET_TTL_MIN`` minutes, once; earlier unused links of the
account stop working) and puts an e-mail with the link in the outbox, in the account's language
first. ``reset_with_token`` sets the new password under the usual policy, then every login and
API token of the account ends (``sessions.reset_password``) and the link is spent.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import func, select, update

from app.extensions import db
from app.models import OutboxEmail, PasswordReset, User, utcnow
from app.services.accounts import audit, sessions
from app.services.errors import ServiceError
from config import settings

SUBJECT = {"zh_CN": "春雷：重置密码", "en": "Chunlei: reset your password"}
BODY = {
    "zh_CN": (
        "您好，{name}：\n\n有人为春雷账户“{username}”申请了重置密码。请在 {minutes} 分钟内打开下面的"
        "链接设置新密码（链接只能使用一次）：\n\n{link}\n\n如果不是您本人申请，请忽略本邮件，"
        "您的密码不会改变。\n"
    ),
    "en": (
        "Hello {name},\n\nsomeone asked to reset the password of the Chunlei account "
        '"{username}". Open this link within {minutes} minutes to choose a new password (it works '
        "once):\n\n{link}\n\nIf it was not you, ignore this e-mail: your password stays as it is.\n"
    ),
}


class ResetLinkInvalid(ServiceError):
    """The link is unknown, used already or expired."""

    status = 400
    code = "reset_link_invalid"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _email(user: User, link: str, minutes: int) -> OutboxEmail:
    first = "en" if user.locale == "en" else "zh_CN"
    second = "zh_CN" if first == "en" else "en"
    values = {
        "name": user.display_name or user.username,
        "username": user.username,
        "minutes": minutes,
        "link": link,
    }
    return OutboxEmail(
        to_address=user.email or "",
        subject=f"{SUBJECT[first]} / {SUBJECT[second]}",
        body=BODY[first].format(**values) + "\n——\n\n" + BODY[second].format(**values),
    )


def request_reset(email: str, link_for: Callable[[str], str]) -> int:
    """Send a reset link to every active account with address ``email`` (committed); returns
    how many, which the caller must not reveal. ``link_for(token)`` makes the page's URL."""
    address = email.strip().lower()
    users = (
        db.session.scalars(
            select(User).where(func.lower(User.email) == address, User.active.is_(True))
        ).all()
        if address
        else []
    )
    minutes = settings().PASSWORD_RESET_TTL_MIN
    now = utcnow()
    for user in users:
        db.session.execute(
            update(PasswordReset)
            .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
            .values(used_at=now)
        )
        token = secrets.token_urlsafe(32)
        db.session.add(
            PasswordReset(
                user_id=user.id,
                token_hash=_hash(token),
                created_at=now,
                expires_at=now + timedelta(minutes=minutes),
            )
        )
        db.session.add(_email(user, link_for(token), minutes))
        audit.record("auth.reset_requested", actor=user, subject=user.username[:40])
    db.session.commit()
    return len(users)


def _live(token: str) -> PasswordReset | None:
    return db.session.scalar(
        select(PasswordReset).where(
            PasswordReset.token_hash == _hash(token),
            PasswordReset.used_at.is_(None),
            PasswordReset.expires_at > utcnow(),
        )
    )


def user_for_token(token: str) -> User | None:
    """The active account a live link belongs to; None for an unknown, spent or expired one."""
    reset = _live(token) if token else None
    user = db.session.get(User, reset.user_id) if reset is not None else None
    return user if user is not None and user.active else None


def reset_with_token(token: str, new_password: str) -> User:
    """Set the new password (policy checked; ``PasswordPolicyError`` changes nothing), end every
    login and API token of the account and spend the link; not committed."""
    reset = _live(token) if token else None
    user = db.session.get(User, reset.user_id) if reset is not None else None
    if reset is None or user is None or not user.active:
        raise ResetLinkInvalid("this reset link is unknown, used or expired")
    sessions.reset_password(user, new_password, actor=user)
    reset.used_at = utcnow()
    return user
