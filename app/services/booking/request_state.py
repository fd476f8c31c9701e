"""One status per request, derived from the facts: withdrawn, its sessions (proposed or kept),
whether its placement is working, whether its window has passed, whether any base published a
timetable for its week. Pages and the API show this, never the stored ``open`` alone, so a
request cannot read "awaiting placement" next to "placed 2 of 2".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum

from sqlalchemy import func, select

from app.extensions import db
from app.localtime import local_zone
from app.models import ACTIVE_STATUSES, Booking, BookingRequest, Slot, TimetableWeek, utcnow
from app.models.vocabulary import BookingStatus, RequestStatus, WeekState


class RequestState(StrEnum):
    """What a request is, as its participant reads it."""

    WITHDRAWN = "withdrawn"
    PLACED = "placed"  # every session it asked for is kept
    TO_ACCEPT = "to_accept"  # proposals wait for the participant's answer
    PLACING = "placing"  # its instant placement is working now
    NO_TIMETABLE = "no_timetable"  # no base has published its week inside its window
    ENDED = "ended"  # its window has passed short of sessions
    PARTLY_PLACED = "partly_placed"  # some sessions kept, the rest on the waiting list
    WAITING = "waiting"  # nothing yet; on the waiting list


@dataclass(frozen=True)
class RequestFacts:
    """What a request's state is derived from."""

    state: RequestState
    placed: int  # active sessions (proposed ones included)
    to_accept: int  # of which proposed, not yet accepted


def derive(
    req: BookingRequest, placed: int, to_accept: int, published: bool, now: datetime
) -> RequestState:
    """The one state of ``req`` from its facts (see ``RequestState``)."""
    if req.status == RequestStatus.WITHDRAWN:
        return RequestState.WITHDRAWN
    if req.placement in ("queued", "running"):
        return RequestState.PLACING
    if to_accept:
        return RequestState.TO_ACCEPT
    if placed >= req.sessions:
        return RequestState.PLACED
    if req.window_end <= now:
        return RequestState.ENDED
    if not published:
        return RequestState.NO_TIMETABLE
    return RequestState.PARTLY_PLACED if placed else RequestState.WAITING


def published_in_window(window_start: datetime, window_end: datetime) -> bool:
    """Whether some base has published slots starting inside the window."""
    tz = local_zone()
    first = window_start.astimezone(tz).date()
    monday = datetime.combine(first - timedelta(days=first.weekday()), time(0), tz)
    return (
        db.session.scalar(
            select(Slot.id)
            .join(TimetableWeek, TimetableWeek.id == Slot.timetable_week_id)
            .where(
                TimetableWeek.state == WeekState.PUBLISHED,
                TimetableWeek.week_start == monday.date(),
                Slot.start >= window_start,
                Slot.start < window_end,
            )
            .limit(1)
        )
        is not None
    )


def facts_of(
    reqs: Sequence[BookingRequest], *, now: datetime | None = None
) -> dict[int, RequestFacts]:
    """Each request's facts and state, in two queries plus one per distinct window."""
    now = now or utcnow()
    counts: dict[int, dict[str, int]] = {}
    for req_id, status, n in db.session.execute(
        select(Booking.request_id, Booking.status, func.count(Booking.id))
        .where(
            Booking.request_id.in_([r.id for r in reqs] or [-1]),
            Booking.status.in_(ACTIVE_STATUSES),
        )
        .group_by(Booking.request_id, Booking.status)
    ):
        counts.setdefault(req_id, {})[status] = n
    windows: dict[tuple[datetime, datetime], bool] = {}
    out = {}
    for r in reqs:
        got = counts.get(r.id, {})
        placed = sum(got.values())
        to_accept = got.get(BookingStatus.TENTATIVE, 0)
        key = (r.window_start, r.window_end)
        if key not in windows:
            windows[key] = published_in_window(*key)
        out[r.id] = RequestFacts(derive(r, placed, to_accept, windows[key], now), placed, to_accept)
    return out


def facts(req: BookingRequest, *, now: datetime | None = None) -> RequestFacts:
    """One request's facts and state."""
    return facts_of([req], now=now)[req.id]
