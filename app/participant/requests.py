"""Requests for the optimizer: file one, see its state and sessions, and why any were not placed."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.extensions import db
from app.localtime import local_zone
from app.main.errors import back_on_refusal
from app.main.labels import label, opts
from app.main.messages import refusal_message
from app.main.paging import PAGE_SIZE, page_number, page_of
from app.models import Booking, BookingRequest, Hub, utcnow
from app.models.vocabulary import BookingStatus
from app.participant import bp
from app.participant.forms import RequestForm
from app.participant.routes import me, participant_only
from app.participant.why_not import plain_reasons
from app.services.booking import request_state
from app.services.booking import requests as request_service
from app.services.booking.request_state import RequestState
from app.services.booking.shortfall import why_not_placed
from app.services.errors import ServiceError
from app.services.placement import waitlist
from app.services.programme.lots import own_lots
from app.services.timetable.weeks import next_week_start

REQUEST_FIELD_MESSAGES = {
    "window": lambda: _(
        "The dates must lie inside one week (Monday to Sunday) and not in the past."
    ),
    "sessions": lambda: _("Ask for 1 to 14 sessions."),
    "length": lambda: _("Choose a session length."),
    "bases": lambda: _("Choose bases from the list, or none for any base."),
    "max_km": lambda: _("The distance must be from 1 to 5000 km."),
    "harvest": lambda: _(
        "The dates must meet the lot's ready .. best-before, and the lot must be yours."
    ),
}


def _request_form() -> RequestForm:
    form = RequestForm()
    hubs = list(db.session.execute(select(Hub.code, Hub.name, Hub.city).order_by(Hub.code)))
    form.length.choices = opts([(1, _("1 slot (2 hours)")), (2, _("2 slots in a row (4 hours)"))])
    form.bases.choices = opts([(c, f"{n} · {city}") for c, n, city in hubs])
    form.prefer_bases.choices = form.bases.choices
    form.needs.choices = opts([(f, label("feature", f)) for f in request_service.KNOWN_FEATURES])
    lots = own_lots(current_user.participant_id or -1, fresh_after=utcnow())
    form.harvest_lot.choices = opts(
        [("", _("No lot"))]
        + [
            (lot.code, _("%(code)s · %(product)s, fresh until %(when)s", code=lot.code,
                         product=lot.product, when=format_datetime(lot.best_before, "M/d HH:mm")))
            for lot in lots
        ]
    )  # fmt: skip
    return form


@bp.get("/requests")
@participant_only
def requests():
    """My requests, newest first, with how many sessions each has got so far."""
    me()
    number = page_number()
    offset = (number - 1) * PAGE_SIZE
    page = page_of(
        request_service.list_requests(current_user, limit=PAGE_SIZE + 1, offset=offset), number
    )
    rows = page.items
    return render_template(
        "participant/requests.html", rows=rows, facts=request_state.facts_of(rows), page=page
    )


@bp.route("/requests/new", methods=["GET", "POST"])
@participant_only
def request_new():
    """File a request; its placement is queued at once (tentative sessions to accept)."""
    participant = me()
    form = _request_form()
    if request.method == "GET":
        start = next_week_start()
        form.window_start.data = start
        form.window_end.data = start + timedelta(days=6)
    elif form.validate_on_submit():
        tz = local_zone()
        first: date = form.window_start.data
        last: date = form.window_end.data
        try:
            req = request_service.file_request(
                current_user,
                sessions=form.sessions.data,
                length=form.length.data,
                window_start=datetime.combine(first, time(0), tz),
                window_end=datetime.combine(last + timedelta(days=1), time(0), tz),
                bases=list(form.bases.data) or None,
                max_km=form.max_km.data,
                needs=list(form.needs.data),
                prefer_bases=list(form.prefer_bases.data),
                prefer_prime=form.prefer_prime.data,
                harvest_lot=form.harvest_lot.data or None,
            )
        except ServiceError as error:
            db.session.rollback()
            message = REQUEST_FIELD_MESSAGES.get(getattr(error, "code", ""))
            flash(message() if message else refusal_message(error), "warning")
        else:
            if request_state.facts(req).state == RequestState.NO_TIMETABLE:
                flash(_("Request %(code)s filed. No base has published its timetable for this week yet: the request waits and is offered sessions as soon as one is published.", code=req.code), "warning")  # fmt: skip
            else:
                flash(_("Request %(code)s filed. Sessions that fit are being proposed now; you accept them here or under My sessions.", code=req.code), "success")  # fmt: skip
            return redirect(url_for("participant.request_detail", code=req.code))
    return render_template("participant/request_new.html", form=form, participant=participant)


def _own_request(code: str) -> BookingRequest:
    req = db.session.scalar(select(BookingRequest).where(BookingRequest.code == code))
    if req is None or req.participant_id != current_user.participant_id:
        abort(404)
    return req


def _status(req: BookingRequest) -> dict:
    """What the request's live part shows: its one state, its sessions, its place in the line."""
    bookings = list(
        db.session.scalars(select(Booking).where(Booking.request_id == req.id).order_by(Booking.id))
    )
    active = [b for b in bookings if b.status != BookingStatus.CANCELLED]
    facts = request_state.facts(req)
    working = facts.state == RequestState.PLACING
    short = facts.state in (RequestState.WAITING, RequestState.PARTLY_PLACED)
    entry = waitlist.place_of(req) if short else None
    return {
        "req": req,
        "bookings": bookings,
        "active": active,
        "facts": facts,
        "polling": working,
        "entry": entry,
    }


@bp.get("/requests/<code>")
@participant_only
def request_detail(code: str):
    """One request: what it asks, the sessions it got, and why the rest were not placed."""
    req = _own_request(code)
    status = _status(req)
    short = status["facts"].state in (RequestState.WAITING, RequestState.PARTLY_PLACED)
    reasons = plain_reasons(req, why_not_placed(req)) if short else []
    return render_template("participant/request_detail.html", reasons=reasons, **status)


@bp.get("/requests/<code>/status")
@participant_only
def request_status(code: str):
    """The live part of the request page, polled by the page while a placement works on it."""
    return render_template("participant/_request_status.html", **_status(_own_request(code)))


@bp.post("/requests/<code>/withdraw")
@participant_only
def request_withdraw(code: str):
    """Withdraw an open request; sessions already booked stay."""
    req = _own_request(code)
    back_on_refusal(url_for("participant.requests"))
    request_service.withdraw_request(current_user, req)
    flash(_("Request %(code)s withdrawn.", code=code), "success")
    return redirect(url_for("participant.requests"))
