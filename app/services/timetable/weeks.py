"""Planning weeks: which week a date belongs to, its name, and the zone screens and files use."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import AnySession, db
from app.localtime import local_zone
from app.models import Booking, BookingRequest, Hub, Participant, PlanningWeek, User


class WeekError(ValueError):
    """A week that does not exist or cannot be made; the message is one line for the user."""


#: The days any input may name: a week, a day, a request window, a frozen horizon.
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2100, 12, 31)


def day_in_range(value: date | datetime) -> bool:
    """True when a day or an instant lies between EARLIEST_DAY and LATEST_DAY (inclusive)."""
    day = value.date() if isinstance(value, datetime) else value
    return EARLIEST_DAY <= day <= LATEST_DAY


def out_of_range_message() -> str:
    """The one sentence every refusal of a far-off date uses."""
    return f"dates must lie between {EARLIEST_DAY.isoformat()} and {LATEST_DAY.isoformat()}"


def week_name(week_start: date) -> str:
    """The instance name of a week in exchange files."""
    return f"week-{week_start.isoformat()}"


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def next_week_start(now: datetime | None = None, tz: ZoneInfo | None = None) -> date:
    """The Monday after today (local time): the week seed-demo fills by default."""
    tz = tz or local_zone()
    today = (now or datetime.now(UTC)).astimezone(tz).date()
    return monday_of(today) + timedelta(days=7)


def week_bounds(week: PlanningWeek, tz: ZoneInfo | None = None) -> tuple[datetime, datetime]:
    """The week's first and last instant (local midnights), aware."""
    tz = tz or local_zone()
    start = datetime.combine(week.week_start, time(0), tz)
    end = datetime.combine(week.week_start + timedelta(days=week.days), time(0), tz)
    return start, end


def planning_week_for(week_start: date) -> PlanningWeek:
    """The planning week starting on ``week_start``, created with the configured policy.

    Two requests may create it at once: the unique week start decides, the loser uses theirs.
    """
    stmt = select(PlanningWeek).where(PlanningWeek.week_start == week_start)
    week = db.session.scalars(stmt).first()
    if week is not None:
        return week
    cfg = current_app.config
    week = PlanningWeek(
        week_start=week_start,
        days=7,
        name=week_name(week_start),
        max_sessions_per_day=cfg["MAX_SESSIONS_PER_DAY"],
        same_day_same_base=cfg["SAME_DAY_SAME_BASE"],
        target_utilization=cfg["TARGET_UTILIZATION"],
        category_separation=cfg["CATEGORY_SEPARATION"],
    )
    try:
        with db.session.begin_nested():
            db.session.add(week)
    except IntegrityError:
        week = db.session.scalars(stmt).one()
    return week


def get_week(session: AnySession, week_start: date) -> PlanningWeek:
    """The planning week starting on ``week_start``, or a WeekError naming the known ones."""
    week = session.scalar(select(PlanningWeek).where(PlanningWeek.week_start == week_start))
    if week is None:
        known = session.scalars(select(PlanningWeek.week_start).order_by(PlanningWeek.week_start))
        listed = ", ".join(d.isoformat() for d in known) or "none"
        raise WeekError(f"no planning week starts on {week_start.isoformat()} (known: {listed})")
    return week


def is_database_empty(session: AnySession) -> bool:
    """True when no base, participant, week, request, booking or account exists yet."""
    return all(
        session.scalar(select(model.id).limit(1)) is None
        for model in (Hub, Participant, PlanningWeek, BookingRequest, Booking, User)
    )
