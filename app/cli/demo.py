"""``seed-demo``: fill an empty database with a deterministic demo week on real geography."""

from __future__ import annotations

import click
from flask import current_app

from app.cli.params import DateParam, OneLineCommand
from app.demo.programme import (
    PROGRAMME_BASES,
    PROGRAMME_ORIGIN_BASES,
    PROGRAMME_PARTICIPANTS,
    PROGRAMME_REQUESTS,
)
from app.demo.seed import SeedError, seed_demo
from app.extensions import db
from app.localtime import local_zone
from app.services import planner_statistics
from app.services.timetable.weeks import is_database_empty, next_week_start


@click.command("seed-demo", cls=OneLineCommand)
@click.option("--seed", type=int, default=5, show_default=True, help="Random seed.")
@click.option("--week", type=DateParam(), help="Monday of the week (default: next week).")
@click.option("--bases", type=int, help="Livestream bases (default 100).")
@click.option("--requests", type=int, help="Requests (default 6000).")
@click.option("--participants", type=int, help="Default: 60 % of --requests.")
@click.option(
    "--programme",
    is_flag=True,
    help=(
        "The whole programme's week: the 100 livestream bases plus 1,000 origin bases at real "
        "county seats, 18,000 participants, 30,000 requests. It sets its own size, so it "
        "cannot be combined with --bases, --requests or --participants."
    ),
)
@click.option("--if-empty", is_flag=True, help="Do nothing (exit 0) if the database has data.")
def seed_demo_command(seed, week, bases, requests, participants, programme, if_empty) -> None:
    """Fill an empty database with demo bases, slots, participants, requests and bookings."""
    if programme:
        given = [
            name
            for name, value in (
                ("--bases", bases),
                ("--requests", requests),
                ("--participants", participants),
            )
            if value is not None
        ]
        if given:
            raise click.ClickException(
                f"--programme sets its own size; leave out {', '.join(given)}"
            )
        bases, requests, participants = (
            PROGRAMME_BASES,
            PROGRAMME_REQUESTS,
            PROGRAMME_PARTICIPANTS,
        )
    session = db.session
    if if_empty and not is_database_empty(session):
        click.echo("seed-demo: the database already has data; nothing to do.")
        return
    week = week or next_week_start(tz=local_zone())
    if week.weekday() != 0:
        raise click.ClickException(f"--week {week.isoformat()} is not a Monday")
    cfg = current_app.config
    try:
        result = seed_demo(
            session,
            seed=seed,
            week_start=week,
            bases=100 if bases is None else bases,
            requests=6000 if requests is None else requests,
            participants=participants,
            origin_bases=PROGRAMME_ORIGIN_BASES if programme else 0,
            max_sessions_per_day=cfg["MAX_SESSIONS_PER_DAY"],
            same_day_same_base=cfg["SAME_DAY_SAME_BASE"],
            target_utilization=cfg["TARGET_UTILIZATION"],
            timezone=cfg["TIMEZONE"],
        )
    except SeedError as e:
        session.rollback()
        raise click.ClickException(str(e)) from None
    planner_statistics.refresh(session)
    click.echo(f"Seeded the week of {week.isoformat()} (seed {seed}):")
    for name, n in result.counts.items():
        click.echo(f"  {name:>20}: {n:,}")
    click.echo("Demo logins (username / password):")
    for username, password, what in result.logins:
        click.echo(f"  {username:<10} / {password:<18} {what}")
    first = "op-b0001" if programme else "op-b001"
    click.echo(f"  (every base has an operator like {first}; participants p00001..p00020 log in)")
