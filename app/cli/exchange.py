"""The week as files: export-week, export-plan, import-week, apply-plan (``livehub-*/1``)."""

from __future__ import annotations

import click
from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from app.cli.params import DateParam, InstantParam, OneLineCommand, default_freeze_until
from app.extensions import db
from app.models import PlanningWeek
from app.models.vocabulary import RunKind
from app.services import planner_statistics
from app.services.exchange.apply import PlanConflict, PlanRejected, apply_plan
from app.services.exchange.export import build_instance, build_plan
from app.services.exchange.importer import WeekImportError, import_week
from app.services.timetable.weeks import WeekError, get_week
from scheduler.io import FormatError, dump_instance, dump_plan, load_instance, load_plan, write_json

SHOW_VIOLATIONS = 20


def _write(doc: dict, path: str) -> None:
    try:
        write_json(doc, path)
    except OSError as e:
        raise click.ClickException(f"{path}: cannot write ({e.strerror})") from None


def _read(loader, path: str):
    """A file read by the format's loader; JSON nested past Python's recursion limit is a
    format error, not a traceback."""
    try:
        return loader(path)
    except RecursionError:
        raise FormatError(f"{path}: the JSON is nested too deeply") from None


def _week(week_start) -> PlanningWeek:
    try:
        return get_week(db.session, week_start)
    except WeekError as e:
        raise click.ClickException(str(e)) from None


@click.command("export-week", cls=OneLineCommand)
@click.option("--week", "week_start", type=DateParam(), required=True, help="Monday of the week.")
@click.option("-o", "--output", required=True, help="File to write (livehub-instance/1).")
@click.option(
    "--freeze-until",
    type=InstantParam(),
    help="policy.freeze_until (default: now + FREEZE_HOURS).",
)
def export_week_command(week_start, output, freeze_until) -> None:
    """Write the week as a livehub-instance/1 file."""
    week = _week(week_start)
    inst = build_instance(
        db.session,
        week,
        freeze_until=freeze_until or default_freeze_until(),
        timezone=current_app.config["TIMEZONE"],
    )
    _write(dump_instance(inst), output)
    click.echo(
        f"wrote {output}: {len(inst.bases)} bases, {len(inst.slots)} slots, "
        f"{len(inst.participants)} participants, {len(inst.requests)} requests, "
        f"{len(inst.bookings)} bookings"
    )


@click.command("export-plan", cls=OneLineCommand)
@click.option("--week", "week_start", type=DateParam(), required=True, help="Monday of the week.")
@click.option("-o", "--output", required=True, help="File to write (livehub-plan/1).")
def export_plan_command(week_start, output) -> None:
    """Write the week's active bookings as a livehub-plan/1 file."""
    week = _week(week_start)
    inst = build_instance(
        db.session, week, freeze_until=None, timezone=current_app.config["TIMEZONE"]
    )
    plan = build_plan(db.session, week, inst)
    _write(dump_plan(plan), output)
    click.echo(f"wrote {output}: {len(plan.assignments)} sessions, {len(plan.unassigned)} short")


@click.command("import-week", cls=OneLineCommand)
@click.argument("file")
def import_week_command(file) -> None:
    """Load a livehub-instance/1 file into an empty database."""
    try:
        inst = _read(load_instance, file)
        week = import_week(db.session, inst, timezone=current_app.config["TIMEZONE"])
        db.session.commit()
        planner_statistics.refresh(db.session)
    except (FormatError, WeekImportError) as e:
        db.session.rollback()
        raise click.ClickException(str(e)) from None
    except SQLAlchemyError as e:
        db.session.rollback()
        raise click.ClickException(f"the database refused the file: {_first_line(e)}") from None
    click.echo(
        f"imported {week.name}: {len(inst.bases)} bases, {len(inst.slots)} slots, "
        f"{len(inst.participants)} participants, {len(inst.requests)} requests, "
        f"{len(inst.bookings)} bookings"
    )


@click.command("apply-plan", cls=OneLineCommand)
@click.argument("file")
@click.option("--week", "week_start", type=DateParam(), help="Default: the plan's instance name.")
@click.option(
    "--freeze-until",
    type=InstantParam(),
    help="Nothing new may start before this (default: now + FREEZE_HOURS).",
)
def apply_plan_command(file, week_start, freeze_until) -> None:
    """Validate a livehub-plan/1 file and, if every hard rule holds, apply it in one transaction."""
    try:
        plan = _read(load_plan, file)
    except FormatError as e:
        raise click.ClickException(str(e)) from None
    if week_start is not None:
        week = _week(week_start)
    else:
        week = db.session.scalar(db.select(PlanningWeek).where(PlanningWeek.name == plan.instance))
        if week is None:
            raise click.ClickException(
                f"no planning week is named {plan.instance!r}; pass --week YYYY-MM-DD"
            )
    try:
        diff = apply_plan(
            db.session,
            week,
            plan,
            actor=None,
            freeze_until=freeze_until or default_freeze_until(),
            timezone=current_app.config["TIMEZONE"],
            kind=RunKind.IMPORT,
        )
        db.session.commit()
    except PlanRejected as e:
        db.session.rollback()
        for v in e.violations[:SHOW_VIOLATIONS]:
            click.echo(f"rule {v.rule}: {v.message}", err=True)
        if len(e.violations) > SHOW_VIOLATIONS:
            click.echo(f"... and {len(e.violations) - SHOW_VIOLATIONS} more", err=True)
        raise click.ClickException(f"{e}; nothing was changed") from None
    except PlanConflict as e:
        db.session.rollback()
        raise click.ClickException(f"{e}; nothing was changed") from None
    click.echo(
        f"applied {file} to {week.name} (run {diff.run_id}): {len(diff.added)} added, "
        f"{len(diff.moved)} moved, {len(diff.dropped)} dropped, {diff.kept} kept"
    )


def _first_line(e: Exception) -> str:
    return (
        str(getattr(e, "orig", e)).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    )
