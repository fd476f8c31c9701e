"""``book`` and ``cancel-booking``: the booking service from the command line.

A base's staff taking a booking on the phone, or an admin repairing one, act as themselves
(``--as``), so the audit trail names them and the same access rules hold as on the pages and
in the API. A refusal is one line on stderr (with the rule's name) and nothing is written.
"""

from __future__ import annotations

import click
from sqlalchemy import select

from app.cli.params import OneLineCommand
from app.extensions import db
from app.localtime import local_zone
from app.models import Participant, User
from app.services.accounts.access import get_booking
from app.services.booking import lifecycle
from app.services.booking import service as booking_service
from app.services.errors import ServiceError


def _account(username: str) -> User:
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        raise click.ClickException(f"no active account {username!r}")
    return user


def _refused(error: ServiceError) -> click.ClickException:
    db.session.rollback()
    return click.ClickException(f"{error.message} ({error.code}); nothing was changed")


def _when(made: booking_service.NewBooking) -> str:
    zone = local_zone()
    start, end = made.slots[0].start.astimezone(zone), made.slots[-1].end.astimezone(zone)
    return f"{start:%Y-%m-%d %H:%M}–{end:%H:%M}"


@click.command("book", cls=OneLineCommand)
@click.argument("slots", nargs=-1, required=True)
@click.option("--as", "username", required=True, help="The account that books (audited).")
@click.option(
    "--participant",
    help="Participant id to book for (staff accounts; a participant books for self).",
)
def book_command(slots, username, participant) -> None:
    """Book consecutive SLOTS (slot ids such as SL004211) directly; confirmed at once."""
    actor = _account(username)
    who = None
    if participant:
        who = db.session.scalar(select(Participant).where(Participant.code == participant))
        if who is None:
            raise click.ClickException(f"no participant {participant!r}")
    try:
        made = booking_service.book(actor, list(slots), participant=who)
    except ServiceError as e:
        raise _refused(e) from None
    first = made.slots[0]
    codes = " ".join(s.code for s in made.slots)
    click.echo(
        f"booked {made.code} ({made.status}) for {made.participant_code}: "
        f"{first.hub_code} {first.studio_code} {_when(made)}, slots {codes}"
    )


@click.command("cancel-booking", cls=OneLineCommand)
@click.argument("code")
@click.option("--as", "username", required=True, help="The account that cancels (audited).")
@click.option("--reason", help="Required when staff cancel someone's booking (sent to them).")
def cancel_booking_command(code, username, reason) -> None:
    """Cancel booking CODE (e.g. K000123) and free its slots."""
    actor = _account(username)
    try:
        found = get_booking(actor, code.strip().upper(), for_update=True)
        done = lifecycle.cancel(actor, found, reason=reason)
    except ServiceError as e:
        raise _refused(e) from None
    click.echo(f"cancelled {done.code}" + (f": {reason}" if reason else ""))
