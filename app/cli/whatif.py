"""what-if: solve a changed copy of a week and print how it compares (nothing is written)."""

from __future__ import annotations

import click
from flask import current_app

from app.cli.params import DateParam, OneLineCommand, default_freeze_until
from app.extensions import db
from app.services.timetable.weeks import WeekError, get_week
from app.services.whatif.scenario import WhatIfError, parse_changes, run_what_if

SHOW_PEOPLE = 10


@click.command("what-if", cls=OneLineCommand)
@click.option("--week", "week_start", type=DateParam(), required=True, help="Monday of the week.")
@click.option(
    "--add-studio", multiple=True, metavar="BASE:FEATURES", help="e.g. B017:kitchen,cold_chain"
)
@click.option("--open-evenings", multiple=True, metavar="BASE", help="slots until midnight")
@click.option("--block-day", multiple=True, metavar="BASE:YYYY-MM-DD", help="nothing new that day")
@click.option("--close-base", multiple=True, metavar="BASE", help="nothing new all week")
@click.option(
    "--add-demand", multiple=True, metavar="BASE:N", help="N requests of a new county there"
)
@click.option(
    "--time-limit", type=click.FloatRange(min=1, max=3600), default=None, help="seconds per solve"
)
def what_if_command(
    week_start, add_studio, open_evenings, block_day, close_base, add_demand, time_limit
) -> None:
    """Solve the week and a changed copy; print both plans' figures side by side."""
    try:
        changes = parse_changes(
            add_studio=add_studio,
            open_evenings=open_evenings,
            block_day=block_day,
            close_base=close_base,
            add_demand=add_demand,
        )
        week = get_week(db.session, week_start)
        cfg = current_app.config
        result = run_what_if(
            db.session,
            week,
            changes,
            freeze_until=default_freeze_until(),
            timezone=cfg["TIMEZONE"],
            time_limit_s=time_limit or float(cfg["SOLVER_TIME_LIMIT_S"]),
            workers=int(cfg["SOLVER_WORKERS"]),
        )
    except (WhatIfError, WeekError) as error:
        raise click.ClickException(str(error)) from None
    finally:
        db.session.rollback()  # a what-if never writes
    c = result.comparison
    click.echo(f"what-if {week_start.isoformat()}: {'; '.join(result.changes)}")
    click.echo(f"{'figure':<34}{'as it is':>14}{'what-if':>14}")
    for name, before, after in c.table():
        click.echo(f"{name:<34}{_show(before):>14}{_show(after):>14}")
    for title, people in (("gain", c.gains), ("lose", c.losses)):
        shown = ", ".join(
            f"{p} {n:+d}" if title == "gain" else f"{p} -{n}"
            for p, n in list(people.items())[:SHOW_PEOPLE]
        )
        more = f" (and {len(people) - SHOW_PEOPLE} more)" if len(people) > SHOW_PEOPLE else ""
        click.echo(f"{len(people)} participant(s) would {title} sessions{': ' + shown if shown else ''}{more}")  # fmt: skip


def _show(value: object) -> str:
    return "-" if value is None else str(value)
