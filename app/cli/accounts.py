"""``create-user``: make an admin, operator or participant account; ``set-password``: reset one."""

from __future__ import annotations

import click
from sqlalchemy import select

from app.cli.params import OneLineCommand
from app.extensions import db
from app.models import ROLES, User
from app.services.accounts import sessions
from app.services.accounts.passwords import PasswordPolicyError
from app.services.accounts.users import AccountError, create_user

#: A new password: given with ``--password`` or prompted for twice, never echoed.
password_option = click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Prompted for when left out.",
)


@click.command("create-user", cls=OneLineCommand)
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--base", "bases", multiple=True, help="Base id an operator runs (repeatable).")
@click.option("--participant", help="Participant id a participant account books for.")
@click.option("--name", "display_name", help="Display name.")
@password_option
def create_user_command(username, role, bases, participant, display_name, password) -> None:
    """Create an account; operators are bound to bases, participant accounts to a participant."""
    try:
        user = create_user(
            db.session,
            username,
            role=role,
            password=password,
            bases=list(bases),
            participant=participant,
            display_name=display_name,
        )
        db.session.commit()
    except AccountError as e:
        db.session.rollback()
        raise click.ClickException(str(e)) from None
    scope = ""
    if user.hubs:
        scope = " for " + ", ".join(h.code for h in user.hubs)
    elif user.participant:
        scope = f" for {user.participant.code} {user.participant.name}"
    click.echo(f"created {role} {username}{scope}")


@click.command("set-password", cls=OneLineCommand)
@click.argument("username")
@password_option
def set_password_command(username, password) -> None:
    """Reset an account's password; every login and API token of the account ends."""
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"no user {username!r}")
    try:
        sessions.reset_password(user, password)
        db.session.commit()
    except PasswordPolicyError as e:
        db.session.rollback()
        raise click.ClickException(str(e)) from None
    click.echo(f"password of {username} set; every login and API token of the account ended")
