"""The /api/v1 endpoints. Thin: parse, ask ``access`` and the services, present."""

from __future__ import annotations

import functools
from datetime import datetime, time, timedelta

from apiflask import abort
from flask import current_app, jsonify, request
from sqlalchemy import Integer, bindparam, select
from sqlalchemy.orm import selectinload

from app.api import bp
from app.api import schemas as s
from app.api.auth import auth, current_account, issue_token
from app.api.paging import page_of
from app.api.present import (
    BOOKING_LOAD,
    base_dict,
    booking_dict,
    load_booking,
    request_dict,
    request_dicts,
)
from app.extensions import db
from app.localtime import local_zone
from app.models import (
    Booking,
    BookingSlot,
    Hub,
    Slot,
    SlotHold,
    Studio,
    TimetableWeek,
    utcnow,
)
from app.models.vocabulary import Role, SlotState, WeekState
from app.services.accounts import access
from app.services.accounts.access import NotFound
from app.services.accounts.login_limit import allow_login_attempt
from app.services.accounts.passwords import authenticate
from app.services.booking import lifecycle, requests
from app.services.booking import service as booking
from app.services.booking.slots import select_slots

ERRORS = {401: "Missing or invalid token", 404: "Not found"}


def _json(data, status: int = 200):
    """A JSON response built here: the hot endpoints skip the schema's dump (the schema still
    documents the body; the dictionaries are built to match it, and the tests check both)."""
    response = jsonify(data)
    response.status_code = status
    return response


@bp.post("/tokens")
@bp.input(s.TokenIn, arg_name="body")
@bp.output(s.TokenOut, status_code=201)
@bp.doc(summary="Get a bearer token", responses={401: "Wrong username or password"})
def create_token(body: dict):
    """Exchange a username and password for a signed bearer token."""
    if not allow_login_attempt(body["username"], request.remote_addr):
        abort(429, "too many login attempts; wait a minute", extra_data={"reason": "rate_limited"})
    # One Argon2 verification whoever asks, so response times do not tell which users exist.
    user = authenticate(body["username"], body["password"])
    if user is None:
        db.session.rollback()
        abort(401, "wrong username or password", extra_data={"reason": "bad_credentials"})
    db.session.commit()  # check_password may have upgraded the hash
    return {
        "token": issue_token(user),
        "expires_in": current_app.config["API_TOKEN_MAX_AGE_S"],
        "user": user.username,
        "role": user.role,
    }


@bp.get("/bases")
@bp.auth_required(auth)
@bp.input(s.BaseQuery, location="query", arg_name="q")
@bp.output(s.BaseOut(many=True))
@bp.doc(summary="List the livestream bases and their studios", responses=ERRORS)
def list_bases(q: dict):
    """The bases with their studios and their features, by code."""
    stmt = select(Hub).options(selectinload(Hub.studios)).order_by(Hub.code)
    hubs = db.session.scalars(stmt.limit(q["limit"] + 1).offset(q["offset"])).all()
    hubs, headers = page_of(list(hubs), q)
    return [base_dict(h) for h in hubs], 200, headers


def _hub_or_404(code: str) -> Hub:
    hub = db.session.scalar(select(Hub).where(Hub.code == code))
    if hub is None:
        raise NotFound(f"no base {code}")
    return hub


@functools.cache
def _slot_list(base: bool, day: bool, features: bool, free: bool):
    """The slot-list query for one combination of filters, built once (the hot GET: a built
    statement keeps its cache key, so each call only binds values)."""
    stmt = select_slots(
        Slot.code,
        Studio.code,
        Hub.code,
        Slot.start,
        Slot.end,
        Slot.prime,
        Studio.features,
        Slot.state,
        SlotHold.booking_id,
    ).where(TimetableWeek.state == WeekState.PUBLISHED)
    if base:
        stmt = stmt.where(Hub.code == bindparam("base"))
    if day:
        stmt = stmt.where(Slot.start >= bindparam("day_start"), Slot.start < bindparam("day_end"))
    if features:
        stmt = stmt.where(Slot.studio_id.in_(bindparam("studio_ids", expanding=True)))
    if free:
        stmt = stmt.where(
            Slot.state == SlotState.OPEN, SlotHold.slot_id.is_(None), Slot.start > bindparam("now")
        )
    return (
        stmt.order_by(Slot.start, Studio.code)
        .limit(bindparam("limit", type_=Integer))
        .offset(bindparam("offset", type_=Integer))
    )


@bp.get("/slots")
@bp.auth_required(auth)
@bp.input(s.SlotQuery, location="query", arg_name="q")
@bp.output(s.SlotOut(many=True))
@bp.doc(summary="List published slots", responses=ERRORS)
def list_slots(q: dict):
    """Published slots by start time; ``free=true`` keeps only open, unheld, future slots."""
    tz = local_zone()
    params = {"limit": q["limit"] + 1, "offset": q["offset"], "base": q.get("base")}
    if q.get("date"):
        params["day_start"] = datetime.combine(q["date"], time(0), tz)
        params["day_end"] = params["day_start"] + timedelta(days=1)
    if q.get("feature"):
        wanted = set(q["feature"])
        studios = db.session.execute(select(Studio.id, Studio.features)).all()
        params["studio_ids"] = [i for i, f in studios if wanted <= set(f or [])]
    if q["free"]:
        params["now"] = utcnow()
    stmt = _slot_list(bool(q.get("base")), "day_start" in params, "studio_ids" in params, q["free"])
    rows = db.session.connection().execute(stmt, params).all()
    if not rows and q.get("base"):
        _hub_or_404(q["base"])  # an unknown base is a 404, a base with no slots an empty list
    rows, headers = page_of(rows, q)
    response = _json(
        [
            {
                "id": code,
                "studio": studio,
                "base": base,
                "start": start.astimezone(tz).isoformat(),
                "end": end.astimezone(tz).isoformat(),
                "prime": prime,
                "features": list(features or []),
                "state": "blocked" if state != SlotState.OPEN else ("booked" if held else "open"),
            }
            for code, studio, base, start, end, prime, features, state, held in rows
        ]
    )
    response.headers.extend(headers)
    return response


@bp.post("/bookings")
@bp.auth_required(auth)
@bp.input(s.BookingIn, arg_name="body")
@bp.output(s.BookingOut, status_code=201)
@bp.doc(
    summary="Book consecutive slots (confirmed at once)",
    responses={
        403: "This role may not book",
        409: "A slot is taken (detail.slots names it)",
        422: "Invalid: reason names the rule (not_consecutive, wrong_length, daily_cap, ...)",
        **ERRORS,
    },
)
def create_booking(body: dict):
    """Book one session for the signed-in participant; staff accounts get 403."""
    user = current_account()
    if user.role != Role.PARTICIPANT:
        raise access.Forbidden("only participant accounts book slots", code="role_cannot_book")
    req = access.get_request(user, body["request"]) if body.get("request") else None
    made = booking.book(user, body["slots"], request=req)
    return _json(booking_dict(made), 201)


@bp.get("/bookings")
@bp.auth_required(auth)
@bp.input(s.BookingQuery, location="query", arg_name="q")
@bp.output(s.BookingOut(many=True))
@bp.doc(summary="My bookings (participant) or my bases' bookings (operator)", responses=ERRORS)
def list_bookings(q: dict):
    """Newest first; admins see every booking."""
    stmt = access.visible_bookings(current_account()).options(*BOOKING_LOAD)
    if q.get("status"):
        stmt = stmt.where(Booking.status == q["status"])
    if q.get("base"):
        at_base = (
            select(BookingSlot.booking_id)
            .join(Slot, Slot.id == BookingSlot.slot_id)
            .join(Studio, Studio.id == Slot.studio_id)
            .where(Studio.hub_id == _hub_or_404(q["base"]).id)
        )
        stmt = stmt.where(Booking.id.in_(at_base))
    stmt = stmt.order_by(Booking.id.desc()).limit(q["limit"] + 1).offset(q["offset"])
    rows, headers = page_of(list(db.session.scalars(stmt).unique()), q)
    return [booking_dict(b) for b in rows], 200, headers


@bp.get("/bookings/<code>")
@bp.auth_required(auth)
@bp.output(s.BookingOut)
@bp.doc(summary="One booking", responses=ERRORS)
def get_booking(code: str):
    """A booking the caller may see; any other id answers 404."""
    return booking_dict(load_booking(access.get_booking(current_account(), code).id))


@bp.delete("/bookings/<code>")
@bp.auth_required(auth)
@bp.input(s.CancelIn, arg_name="body", location="json_or_form")
@bp.output(s.BookingOut)
@bp.doc(
    summary="Cancel a booking",
    responses={
        403: "Not yours / not your base",
        409: "Already cancelled, or locked by the base",
        422: "Past the cancel cut-off, or staff gave no reason",
        **ERRORS,
    },
)
def cancel_booking(code: str, body: dict):
    """The participant cancels up to the cut-off; the base's staff cancel with a reason."""
    user = current_account()
    found = access.get_booking(user, code, for_update=True)
    lifecycle.cancel(user, found, reason=body.get("reason"))
    return booking_dict(load_booking(found.id))


def _transition(action, code: str):
    user = current_account()
    found = access.get_booking(user, code, for_update=True)
    action(user, found)
    return booking_dict(load_booking(found.id))


_STATE_RESPONSES = {403: "Not allowed for this role or base", 409: "Wrong state", **ERRORS}


@bp.post("/bookings/<code>/confirm")
@bp.auth_required(auth)
@bp.output(s.BookingOut)
@bp.doc(summary="Confirm a tentative booking (base staff)", responses=_STATE_RESPONSES)
def confirm_booking(code: str):
    """Base staff confirm a tentative booking at their base."""
    return _transition(lifecycle.confirm, code)


@bp.post("/bookings/<code>/lock")
@bp.auth_required(auth)
@bp.output(s.BookingOut)
@bp.doc(summary="Lock a booking so the optimizer keeps it (base staff)", responses=_STATE_RESPONSES)
def lock_booking(code: str):
    """Base staff pin a booking."""
    return _transition(lifecycle.lock, code)


@bp.post("/bookings/<code>/accept")
@bp.auth_required(auth)
@bp.output(s.BookingOut)
@bp.doc(summary="Accept a tentative session (participant)", responses=_STATE_RESPONSES)
def accept_booking(code: str):
    """The participant accepts a session the optimizer proposed."""
    return _transition(lifecycle.accept, code)


@bp.post("/bookings/<code>/decline")
@bp.auth_required(auth)
@bp.output(s.BookingOut)
@bp.doc(summary="Decline a tentative session (participant)", responses=_STATE_RESPONSES)
def decline_booking(code: str):
    """The participant declines a proposed session; its slots become free."""
    return _transition(lifecycle.decline, code)


@bp.post("/requests")
@bp.auth_required(auth)
@bp.input(s.RequestIn, arg_name="body")
@bp.output(s.RequestOut, status_code=201)
@bp.doc(
    summary="File a request for the optimizer",
    responses={403: "Only participants file requests", 422: "Invalid field", **ERRORS},
)
def create_request(body: dict):
    """Ask for ``sessions`` sessions of ``length`` consecutive slots inside ``window``."""
    prefer = body.get("prefer") or {}
    req = requests.file_request(
        current_account(),
        sessions=body["sessions"],
        length=body["length"],
        window_start=body["window"]["start"],
        window_end=body["window"]["end"],
        bases=body.get("bases"),
        max_km=body.get("max_km"),
        needs=body.get("needs") or [],
        prefer_bases=prefer.get("bases") or [],
        prefer_prime=prefer.get("prime", False),
    )
    return request_dict(req)


@bp.get("/requests")
@bp.auth_required(auth)
@bp.input(s.RequestQuery, location="query", arg_name="q")
@bp.output(s.RequestOut(many=True))
@bp.doc(summary="My requests (participant) or those my bases may serve", responses=ERRORS)
def list_requests(q: dict):
    """Newest first."""
    found = requests.list_requests(
        current_account(), status=q.get("status"), limit=q["limit"] + 1, offset=q["offset"]
    )
    rows, headers = page_of(found, q)
    return request_dicts(list(rows)), 200, headers


@bp.get("/requests/<code>")
@bp.auth_required(auth)
@bp.output(s.RequestOut)
@bp.doc(summary="One request", responses=ERRORS)
def get_request(code: str):
    """A request the caller may see; any other id answers 404."""
    return request_dict(access.get_request(current_account(), code))
