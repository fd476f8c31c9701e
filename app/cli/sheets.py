"""Spreadsheets from the command line: ``import-timetable``, ``import-participants``,
``export-bookings`` and ``sheet-template``.

The person named by ``--as`` acts (the audit trail names them; an operator only at their
bases, participants only by an admin). A refused file is one line on stderr (the first rows'
errors), exit code 1, and nothing is written.
"""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import select

from app.cli.bookings import _account
from app.cli.params import DateParam, OneLineCommand
from app.extensions import db
from app.models import Hub, User
from app.services.accounts.access import can_operate_hub
from app.services.errors import ServiceError
from app.services.participants import sheet as participants_sheet
from app.services.spreadsheet.rows import SheetInvalid
from app.services.timetable import reports
from app.services.timetable import sheet as timetable_sheet
from app.services.timetable.weeks import monday_of


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise click.ClickException(f"{path}: cannot read ({e.strerror})") from None


def _write(path: str, data: bytes) -> None:
    try:
        Path(path).write_bytes(data)
    except OSError as e:
        raise click.ClickException(f"{path}: cannot write ({e.strerror})") from None


def _refused(path: str, error: ServiceError) -> click.ClickException:
    db.session.rollback()
    if isinstance(error, SheetInvalid):
        return click.ClickException(f"{path}: nothing imported: {error.one_line()}")
    return click.ClickException(f"{path}: {error.message} ({error.code}); nothing imported")


def _hub(code: str, actor: User) -> Hub:
    hub = db.session.scalar(select(Hub).where(Hub.code == code.strip().upper()))
    if hub is None or not can_operate_hub(actor, hub):
        raise click.ClickException(f"no base {code!r} that {actor.username} operates")
    return hub


@click.command("import-timetable", cls=OneLineCommand)
@click.argument("file")
@click.option("--base", required=True, help="The base's code, e.g. B001.")
@click.option("--week", "week_start", type=DateParam(), required=True, help="Monday of the week.")
@click.option("--as", "username", required=True, help="The operator or admin who imports.")
def import_timetable_command(file, base, week_start, username) -> None:
    """Import a base's week of slots from FILE (.xlsx); every row is checked, then the week is
    published."""
    actor = _account(username)
    hub = _hub(base, actor)
    try:
        done = timetable_sheet.import_timetable(hub, week_start, file, _read(file), actor)
    except ServiceError as e:
        raise _refused(file, e) from None
    click.echo(f"imported {done.slots} slots into {hub.code} {week_start}; the week is published")


@click.command("import-participants", cls=OneLineCommand)
@click.argument("file")
@click.option("--as", "username", required=True, help="The administrator who imports.")
def import_participants_command(file, username) -> None:
    """Add and update participants from FILE (.xlsx); every row is checked first."""
    actor = _account(username)
    try:
        done = participants_sheet.import_participants(file, _read(file), actor)
    except ServiceError as e:
        raise _refused(file, e) from None
    click.echo(f"participants imported: {len(done.added)} added, {len(done.updated)} updated")


@click.command("export-bookings", cls=OneLineCommand)
@click.option("--base", required=True, help="The base's code, e.g. B001.")
@click.option("--week", "week_start", type=DateParam(), required=True, help="Any day of the week.")
@click.option("--as", "username", required=True, help="The operator or admin who exports.")
@click.option("-o", "--output", required=True, help="The .xlsx file to write.")
def export_bookings_command(base, week_start, username, output) -> None:
    """Write a base's bookings of one week as an .xlsx workbook."""
    actor = _account(username)
    hub = _hub(base, actor)
    _write(output, reports.bookings_xlsx(hub, monday_of(week_start)))
    click.echo(f"wrote {output}")


@click.command("sheet-template", cls=OneLineCommand)
@click.argument("kind", type=click.Choice(["timetable", "participants"]))
@click.option("-o", "--output", required=True, help="The .xlsx file to write.")
@click.option("--base", help="timetable: the base whose template fills the sheet.")
@click.option("--week", "week_start", type=DateParam(), help="timetable: the week's Monday.")
def sheet_template_command(kind, output, base, week_start) -> None:
    """Write an .xlsx template to fill in: a base's week (``timetable``) or ``participants``."""
    if kind == "participants":
        data = participants_sheet.template_workbook()
    else:
        if not base or not week_start:
            raise click.ClickException("timetable templates need --base and --week")
        hub = db.session.scalar(select(Hub).where(Hub.code == base.strip().upper()))
        if hub is None:
            raise click.ClickException(f"no base {base!r}")
        data = timetable_sheet.template_workbook(hub, monday_of(week_start))
    _write(output, data)
    click.echo(f"wrote {output}")
