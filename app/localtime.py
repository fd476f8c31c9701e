"""The product's one time zone (``CHUNLEI_TIMEZONE``, Asia/Shanghai by default).

The database keeps instants in UTC; screens, exports, the booking rules' "local day" and the
weeks' Monday midnight all use :func:`local_zone`. The zone name was checked when the settings
were read, so asking for it never fails.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

from config import Settings


def local_zone(name: str | None = None) -> ZoneInfo:
    """The configured zone (or the zone ``name``); outside an app, the default zone."""
    if name is None:
        name = current_app.config["TIMEZONE"] if has_app_context() else Settings.TIMEZONE
    return ZoneInfo(name)


def to_local(value: datetime) -> datetime:
    """An aware instant as local wall-clock time."""
    return value.astimezone(local_zone())


def local_day(value: datetime) -> date:
    """The local calendar day of an aware instant."""
    return value.astimezone(local_zone()).date()
