"""Command-line interface: ``flask --app wsgi <command>``. Each command is a thin wrapper over a
service; bad input gets one line on stderr, a non-zero exit code, and no write."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click
from flask import Flask
from sqlalchemy.exc import InterfaceError, OperationalError


def register(app: Flask) -> None:
    """Attach every command to the app."""
    from app.cli.accounts import create_user_command, set_password_command
    from app.cli.backup import backup_command, restore_command
    from app.cli.bookings import book_command, cancel_booking_command
    from app.cli.demo import seed_demo_command
    from app.cli.exchange import (
        apply_plan_command,
        export_plan_command,
        export_week_command,
        import_week_command,
    )
    from app.cli.sheets import (
        export_bookings_command,
        import_participants_command,
        import_timetable_command,
        sheet_template_command,
    )
    from app.cli.webhooks import webhooks_group
    from app.cli.whatif import what_if_command

    for command in (
        seed_demo_command,
        create_user_command,
        set_password_command,
        export_week_command,
        export_plan_command,
        import_week_command,
        apply_plan_command,
        book_command,
        cancel_booking_command,
        what_if_command,
        webhooks_group,
        import_timetable_command,
        import_participants_command,
        export_bookings_command,
        sheet_template_command,
        backup_command,
        restore_command,
    ):
        _guard(command)
        app.cli.add_command(command)


def _guard(command: click.Command) -> None:
    """A database that cannot be reached (a wrong ``DATABASE_URL``, a server down) ends the
    command with one line naming the cause, not the driver's traceback."""
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _guard(sub)
    if command.callback is None:
        return
    callback: Callable[..., Any] = command.callback

    @functools.wraps(callback)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return callback(*args, **kwargs)
        except (OperationalError, InterfaceError) as error:
            cause = str(error.orig or error).strip().splitlines()[0]
            raise click.ClickException(f"cannot reach the database: {cause}") from None

    command.callback = guarded
