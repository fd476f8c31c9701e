"""Parameter types shared by the commands: a week's Monday and an instant."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import click

from app.localtime import local_zone
from app.services.timetable.weeks import day_in_range, out_of_range_message
from config import settings


class OneLineCommand(click.Command):
    """A command whose usage errors are one line on stderr (no usage dump), exit code 2."""

    def make_context(self, info_name, args, parent=None, **extra):
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as e:
            error = click.ClickException(f"{info_name}: {e.format_message()}")
            error.exit_code = 2
            raise error from None


class DateParam(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx) -> date:
        if isinstance(value, date):
            return value
        try:
            day = date.fromisoformat(value)
        except ValueError:
            self.fail(f"{value!r} is not a date like 2026-12-07", param, ctx)
        if not day_in_range(day):
            self.fail(f"{value!r}: {out_of_range_message()}", param, ctx)
        return day


class InstantParam(click.ParamType):
    """An ISO 8601 instant; without an offset it is read in the site's time zone."""

    name = "ISO-8601"

    def convert(self, value, param, ctx) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            t = datetime.fromisoformat(value)
        except ValueError:
            self.fail(f"{value!r} is not a time like 2026-12-08T00:00:00+08:00", param, ctx)
        if not day_in_range(t):
            self.fail(f"{value!r}: {out_of_range_message()}", param, ctx)
        return t if t.tzinfo else t.replace(tzinfo=local_zone())


def default_freeze_until() -> datetime:
    """Now plus FREEZE_HOURS, rounded up to the minute, in the site's zone."""
    hours = settings().FREEZE_HOURS
    t = datetime.now(UTC) + timedelta(hours=hours)
    t = t.replace(second=0, microsecond=0) + timedelta(minutes=math.ceil(t.second / 60))
    return t.astimezone(local_zone())
