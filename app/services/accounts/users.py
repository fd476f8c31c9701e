"""Accounts: create users with a role (admins, operators bound to bases, participant logins)."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import AnySession
from app.models import ROLES, AuditEvent, Hub, Participant, Role, User
from app.models.vocabulary import ActorKind
from app.services.accounts.passwords import PasswordPolicyError, check_policy

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{1,79}$")


class AccountError(ValueError):
    """An account that cannot be created as asked; one line for the user."""


def create_user(
    session: AnySession,
    username: str,
    *,
    role: str,
    password: str,
    bases: list[str] | tuple[str, ...] = (),
    participant: str | None = None,
    display_name: str | None = None,
    actor: User | None = None,
) -> User:
    """Create one account (not committed). Operators need bases; participants a participant.

    The password must pass ``passwords.check_policy`` (the demo seed alone writes its published
    demo passwords without it).
    """
    if not USERNAME.match(username):
        raise AccountError(f"username {username!r}: use 2-80 letters, digits, '.', '_', '@' or '-'")
    if role not in ROLES:
        raise AccountError(f"role {role!r} is not one of {', '.join(ROLES)}")
    try:
        check_policy(password, username=username, role=role)
    except PasswordPolicyError as e:
        raise AccountError(str(e)) from None
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AccountError(f"user {username!r} already exists")
    if bases and role != Role.OPERATOR:
        raise AccountError("--base is only for operator accounts")
    if participant and role != Role.PARTICIPANT:
        raise AccountError("--participant is only for participant accounts")
    user = User(username=username, role=role, display_name=display_name, active=True)
    user.set_password(password)
    if role == Role.OPERATOR:
        if not bases:
            raise AccountError("an operator account needs at least one --base")
        codes = sorted(set(bases))
        hubs = list(session.scalars(select(Hub).where(Hub.code.in_(codes)).order_by(Hub.code)))
        missing = sorted(set(codes) - {h.code for h in hubs})
        if missing:
            raise AccountError(f"unknown base(s): {', '.join(missing)}")
        user.hubs = hubs
    if role == Role.PARTICIPANT:
        if not participant:
            raise AccountError("a participant account needs --participant")
        person = session.scalar(select(Participant).where(Participant.code == participant))
        if person is None:
            raise AccountError(f"unknown participant {participant!r}")
        user.participant = person
        user.display_name = user.display_name or person.name
    session.add(user)
    session.flush()
    session.add(
        AuditEvent(
            actor_kind=ActorKind.USER if actor else ActorKind.SYSTEM,
            actor_user_id=actor.id if actor else None,
            action="user.created",
            subject=username,
            detail={"role": role, "bases": sorted(set(bases)), "participant": participant},
        )
    )
    return user
