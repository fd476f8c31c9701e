"""Requests for the optimizer: a participant files one, sees its state, may withdraw it.

Validation lives here, not in the page or the API, so both refuse the same input with the
same stable ``code``. A request lies inside one planning week (Monday 00:00 local, 7 days),
because the optimizer plans week by week.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from app.extensions import db
from app.localtime import local_zone
from app.models import (
    FEATURES,
    BookingRequest,
    Hub,
    Participant,
    PreferredHub,
    Role,
    TimetableWeek,
    User,
    utcnow,
)
from app.models.vocabulary import RequestStatus
from app.services.accounts import audit
from app.services.accounts.access import Forbidden, visible_requests
from app.services.booking.rules import BookingError
from app.services.placement import trigger
from app.services.programme.lots import lot_for_request
from app.services.timetable.weeks import (
    day_in_range,
    monday_of,
    out_of_range_message,
    planning_week_for,
)
from config import settings

MAX_SESSIONS_PER_REQUEST = 14
#: The distance limit a request may set, in km (the API schema and the page form use these).
MIN_KM, MAX_KM = 1, 5000
#: The studio features a request may need: the product's one feature vocabulary.
KNOWN_FEATURES = FEATURES
#: What a request filed for a week no base has published yet says about its placement.
NO_TIMETABLE = (
    "no base has published its timetable for this week yet; the request waits and is "
    "offered sessions as soon as one is published"
)


class RequestInvalid(BookingError):
    """The request's input is refused (422); ``code`` names the field or rule."""

    status = 422


def _hubs(codes: Sequence[str], field: str) -> list[Hub]:
    if not isinstance(codes, list | tuple) or not all(isinstance(c, str) for c in codes):
        raise RequestInvalid(f"{field} must be a list of base ids", code=field)
    if len(set(codes)) != len(codes):
        raise RequestInvalid(f"{field} lists a base twice", code=field)
    hubs = {h.code: h for h in db.session.scalars(select(Hub).where(Hub.code.in_(codes)))}
    missing = [c for c in codes if c not in hubs]
    if missing:
        raise RequestInvalid(
            f"unknown base(s): {', '.join(missing)}", code="unknown_base", detail={"bases": missing}
        )
    return [hubs[c] for c in codes]


def _int_in(value, low: int, high: int, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise RequestInvalid(f"{field} must be a whole number from {low} to {high}", code=field)
    return value


def _requester(actor: User, participant: Participant | None) -> Participant:
    if actor.role == Role.PARTICIPANT:
        own = db.session.get(Participant, actor.participant_id)
        if own is None or (participant is not None and participant.id != own.id):
            raise Forbidden("participants file requests only for themselves", code="role")
        return own
    if actor.role == Role.ADMIN and participant is not None:
        return participant
    raise Forbidden("only participants file requests", code="role_cannot_request")


def file_request(
    actor: User,
    *,
    sessions: int,
    length: int,
    window_start: datetime,
    window_end: datetime,
    bases: Sequence[str] | None = None,
    max_km: float | None = None,
    needs: Sequence[str] = (),
    prefer_bases: Sequence[str] = (),
    prefer_prime: bool = False,
    participant: Participant | None = None,
    now: datetime | None = None,
    harvest_lot: str | None = None,
) -> BookingRequest:
    """Validate and store an open request; commits and audits. ``bases=None`` means any base.
    ``harvest_lot`` names one of the participant's lots: its sessions then lie inside the lot's
    ready .. best-before, so the window must meet it."""
    now = now or utcnow()
    who = _requester(actor, participant)
    sessions = _int_in(sessions, 1, MAX_SESSIONS_PER_REQUEST, "sessions")
    length = _int_in(length, 1, settings().MAX_SLOTS_PER_BOOKING, "length")
    for value, field in ((window_start, "window_start"), (window_end, "window_end")):
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise RequestInvalid(f"{field} must be a date-time with an offset", code="window")
        if not day_in_range(value):
            raise RequestInvalid(f"{field}: {out_of_range_message()}", code="window")
    if window_end <= window_start:
        raise RequestInvalid("the window must end after it starts", code="window")
    if window_end <= now:
        raise RequestInvalid("the window has already passed", code="window")
    tz = local_zone()
    week_start = monday_of(window_start.astimezone(tz).date())
    week_end = datetime.combine(week_start + timedelta(days=7), time(0), tz)
    if window_end > week_end:
        raise RequestInvalid(
            f"the window must lie inside one week (Monday {week_start.isoformat()} + 7 days)",
            code="window",
        )
    allowed = None if bases is None else _hubs(bases, "bases")
    if allowed == []:
        raise RequestInvalid("bases must name at least one base, or be null", code="bases")
    preferred = _hubs(list(prefer_bases or []), "prefer_bases")
    if max_km is not None and (
        isinstance(max_km, bool)
        or not isinstance(max_km, int | float)
        or not MIN_KM <= max_km <= MAX_KM  # also refuses NaN
    ):
        raise RequestInvalid(f"max_km must be from {MIN_KM} to {MAX_KM} km, or null", code="max_km")
    if (
        not isinstance(needs, list | tuple)
        or len(needs) > len(KNOWN_FEATURES)
        or not all(isinstance(n, str) and n in KNOWN_FEATURES for n in needs)
    ):
        raise RequestInvalid(
            f"needs must list distinct features of: {', '.join(KNOWN_FEATURES)}", code="needs"
        )
    lot = None
    if harvest_lot is not None:
        lot = lot_for_request(who.id, harvest_lot)
        if lot.best_before <= window_start or window_end <= lot.ready_at or lot.best_before <= now:
            raise RequestInvalid(
                f"the window does not meet lot {lot.code}'s {lot.ready_at.isoformat()} .. "
                f"{lot.best_before.isoformat()}",
                code="harvest",
            )
    try:
        week = planning_week_for(week_start)
        req = BookingRequest(
            code="t" + secrets.token_hex(7),
            participant_id=who.id,
            planning_week_id=week.id,
            sessions=sessions,
            length=length,
            window_start=window_start,
            window_end=window_end,
            any_base=allowed is None,
            max_km=float(max_km) if max_km is not None else None,
            needs=sorted(set(needs)),
            prefer_prime=bool(prefer_prime),
            status=RequestStatus.OPEN,
            created_by_user_id=actor.id,
            created_at=now,
            harvest_lot_id=lot.id if lot is not None else None,
        )
        req.allowed_hubs = allowed or []
        db.session.add(req)
        db.session.flush()
        req.code = f"R{req.id:06d}"
        for rank, hub in enumerate(preferred):
            req.preferred.append(PreferredHub(hub_id=hub.id, rank=rank))
        if trigger.enabled():  # off: the nightly run places it (placement stays null)
            published = db.session.scalar(
                select(TimetableWeek.id)
                .where(TimetableWeek.week_start == week_start, TimetableWeek.state == "published")
                .limit(1)
            )
            req.placement = "queued" if published is not None else "failed"
            req.placement_reason = None if published is not None else NO_TIMETABLE
            req.placement_at = now
        audit.record("request.create", actor=actor, subject=req.code, participant=who.code)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    if req.placement == "queued":
        trigger.placement_requested(req.planning_week_id)
    return req


#: What a listed request's answer reads, loaded with the page in three more queries.
REQUEST_LOAD = (
    joinedload(BookingRequest.participant),
    selectinload(BookingRequest.allowed_hubs),
    selectinload(BookingRequest.preferred).joinedload(PreferredHub.hub),
)


def list_requests(
    actor: User, *, status: str | None = None, limit: int = 100, offset: int = 0
) -> list[BookingRequest]:
    """A page of the requests ``actor`` may see (own, at my bases, or all), newest first."""
    stmt = visible_requests(actor).order_by(
        BookingRequest.created_at.desc(), BookingRequest.id.desc()
    )
    if status is not None:
        stmt = stmt.where(BookingRequest.status == status)
    stmt = stmt.options(*REQUEST_LOAD).limit(limit).offset(offset)
    return list(db.session.scalars(stmt))


def withdraw_request(actor: User, req: BookingRequest) -> BookingRequest:
    """The participant (or an admin) withdraws an open request; its bookings stay as they are."""
    if actor.role == Role.PARTICIPANT:
        if req.participant_id != actor.participant_id:
            raise Forbidden("not your request", code="forbidden")
    elif actor.role != Role.ADMIN:
        raise Forbidden("only the participant may withdraw a request", code="forbidden")
    if req.status != RequestStatus.OPEN:
        raise RequestInvalid(f"request {req.code} is already {req.status}", code="invalid_state")
    req.status = RequestStatus.WITHDRAWN
    audit.record("request.withdraw", actor=actor, subject=req.code)
    db.session.commit()
    return req
