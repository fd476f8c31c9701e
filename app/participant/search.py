"""Find and book: only what I can book, best first, one card per time at a base; a week view;
a one-step summary before a booking is made.

Search goes through ``app.services.booking.search``, which applies the same rules as the booking
service, so a slot offered here is not refused there (unless someone takes it in between: then
the person lands on a page that says so and offers the nearest alternatives they can book).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.extensions import db
from app.localtime import local_day, local_zone
from app.main.labels import LABELS, label, opts
from app.main.messages import refusal_message, refusal_text
from app.main.paging import page_number
from app.models import FEATURES, REGIONS, Booking, BookingRequest, Participant, Slot, SlotHold
from app.models.vocabulary import RequestStatus
from app.participant import bp
from app.participant.forms import SearchForm
from app.participant.routes import me, participant_only
from app.services.booking import search as finder
from app.services.booking import service as booking_service
from app.services.booking.rules import (
    SlotTaken,
    active_sessions,
    participant_week_refusal,
)
from app.services.booking.slots import FreeSlot, SlotFilter, bases_for_filters
from app.services.errors import ServiceError
from app.services.timetable.weeks import monday_of
from config import settings

#: Offers per page of the list.
PER_PAGE = 20
#: Days the quick day picker shows.
QUICK_DAYS = 10


def _search_form() -> SearchForm:
    form = SearchForm(request.args)
    bases = bases_for_filters()
    form.region.choices = opts([("", _("Any region"))] + [(r, label("region", r)) for r in REGIONS])
    provinces = sorted({b[2] for b in bases})
    form.province.choices = opts([("", _("Any province"))] + [(p, p) for p in provinces])
    form.base.choices = opts([("", _("Any base"))] + [(b[0], f"{b[1]} ({b[0]})") for b in bases])
    form.daypart.choices = opts(
        [("", _("Any time"))] + [(k, str(v)) for k, v in LABELS["daypart"].items()]
    )
    form.features.choices = opts([(f, label("feature", f)) for f in FEATURES])
    return form


def _own_request(code: str | None) -> BookingRequest | None:
    """The signed-in participant's request ``code`` (404 for anyone else's or an unknown one)."""
    if not code:
        return None
    req = db.session.scalar(select(BookingRequest).where(BookingRequest.code == code))
    if req is None or req.participant_id != current_user.participant_id:
        abort(404)
    return req


def _week_arg(today: date) -> date:
    """``?week=`` (any day of it) as its Monday; this week when absent; a 400 when not a date."""
    raw = request.args.get("week")
    if not raw:
        return monday_of(today)
    try:
        return monday_of(date.fromisoformat(raw))
    except ValueError:
        abort(400, _("The week must be a date such as 2026-12-07."))


@bp.get("/slots")
@participant_only
def find_slots():
    """What I can book under the filters, best first, one card per time at a base; or the
    week view (``view=week``). Filters that do not parse are said, not ignored."""
    participant = me()
    form = _search_form()
    valid = form.validate()
    req = _own_request(request.args.get("request"))
    today = datetime.now(local_zone()).date()
    view = "week" if request.args.get("view") == "week" else "list"
    args = {k: v for k, v in request.args.to_dict(flat=False).items() if k not in ("lang", "page")}
    context = {
        "form": form,
        "participant": participant,
        "req": req,
        "view": view,
        "base_args": {k: v for k, v in args.items() if k not in ("day", "week", "view")},
        "filtered": any(v for k, v in request.args.items(multi=True) if k != "lang"),
        "quick_days": [today + timedelta(days=i) for i in range(QUICK_DAYS)],
        "published": finder.published_days(today, today + timedelta(days=QUICK_DAYS - 1)),
        "chosen_day": form.day.data if valid else None,
    }
    if not valid:
        return render_template("participant/find.html", offers=[], total=0, **context), 400
    flt = SlotFilter(
        region=form.region.data or None,
        province=form.province.data or None,
        base=form.base.data or None,
        day=form.day.data,
        daypart=form.daypart.data or None,
        features=frozenset(form.features.data or ()),
        max_km=float(form.max_km.data) if form.max_km.data is not None else None,
        length=2 if form.length.data == "2" else 1,
    )
    start_from = start_until = fit = None
    if req is not None:
        narrowed = finder.for_request(req, flt)
        flt, start_from, start_until, fit = (
            narrowed.filter, narrowed.start_from, narrowed.start_until, narrowed.fit,
        )  # fmt: skip
    week = None
    if view == "week":
        week = _week_arg(form.day.data or today)
        flt = replace(flt, day=None)
        lo = datetime.combine(week, time(0), local_zone())
        hi = lo + timedelta(days=7)
        start_from = lo if start_from is None else max(start_from, lo)
        start_until = hi if start_until is None else min(start_until, hi)
    found = finder.search(
        participant,
        flt,
        sort=form.sort.data or "best",
        prime=bool(form.prime.data),
        start_from=start_from,
        start_until=start_until,
        end_by=req.window_end if req is not None else None,
        fit=fit,
    )
    if view == "week":
        days = finder.week_view(found, week)
        return render_template(
            "participant/find_week.html",
            days=days,
            week=week,
            total=found.total,
            hidden=found.hidden,
            **context,
        )
    number = page_number()
    first = (number - 1) * PER_PAGE
    offers = found.page(first, PER_PAGE)
    day_published = flt.day is None or bool(finder.published_days(flt.day, flt.day))
    return render_template(
        "participant/find.html",
        offers=offers,
        total=found.total,
        first=first,
        page=number,
        has_next=first + PER_PAGE < found.total,
        hidden=found.hidden,
        day_published=day_published,
        by_day=(form.sort.data == "soonest"),
        **context,
    )


def _choices(slot: Slot, length: int, participant: Participant) -> list[FreeSlot]:
    """The studios of ``slot``'s base free at its time for ``length`` slots, that I can book."""
    found = finder.search(
        participant,
        SlotFilter(base=slot.studio.hub.code, length=length),
        start_from=slot.start,
        start_until=slot.start + timedelta(seconds=1),
    )
    return [s for offer in found.offers for s in offer.studios]


def _why_not(slot: Slot, codes: list[str], participant: Participant) -> str:
    """Why the slots cannot be booked by me now, in my language."""
    holder = db.session.scalar(
        select(Booking)
        .join(SlotHold, SlotHold.booking_id == Booking.id)
        .join(Slot, Slot.id == SlotHold.slot_id)
        .where(Slot.code.in_(codes))
        .limit(1)
    )
    if holder is not None and holder.participant_id == participant.id:
        return refusal_text("already_yours")
    if holder is not None:
        return refusal_text("slot_taken")
    policy = finder.policy_for(local_day(slot.start))
    last = db.session.scalar(select(Slot.end).where(Slot.code == codes[-1])) or slot.end
    refusal = participant_week_refusal(
        active_sessions(participant.id), slot.start, last, slot.studio.hub_id, policy
    )
    if refusal is not None:
        return refusal_text(refusal[0])
    return _("This slot can no longer be booked.")


@bp.get("/slots/<code>/book")
@participant_only
def book_summary(code: str):
    """One step before booking: where, when, how far, which studio (with its features)."""
    participant = me()
    slot = db.session.scalar(select(Slot).where(Slot.code == code))
    if slot is None:
        abort(404)
    codes = request.args.getlist("slots") or [code]
    if codes[0] != code or len(codes) > 4:
        abort(400)
    req = _own_request(request.args.get("request"))
    choices = _choices(slot, len(codes), participant)
    if req is not None:
        allowed = finder.for_request(req, SlotFilter())
        choices = [
            c for c in choices
            if (not allowed.filter.bases or c.base_code in allowed.filter.bases)
            and allowed.filter.features <= set(c.features)
            and (allowed.filter.max_km is None or (c.km or 0) <= allowed.filter.max_km)
        ]  # fmt: skip
    if not choices:
        return render_template(
            "participant/not_booked.html",
            slot=slot,
            message=_why_not(slot, codes, participant),
            options=finder.nearby(slot, participant),
            participant=participant,
        )
    chosen = next((c for c in choices if list(c.slot_codes) == codes), choices[0])
    return render_template(
        "participant/book_summary.html",
        choices=choices,
        chosen=chosen,
        req=req,
        participant=participant,
        cutoff_hours=settings().CANCEL_CUTOFF_HOURS,
    )


@bp.post("/slots/<code>/book")
@participant_only
def book(code: str):
    """Book a free slot (or a run of them); confirmed at once. Taken or refused: say why and
    offer others I can book."""
    participant = me()
    slot = db.session.scalar(select(Slot).where(Slot.code == code))
    if slot is None:
        abort(404)
    chosen = request.form.get("choice")
    codes = chosen.split(",") if chosen else (request.form.getlist("slots") or [code])
    if len(codes) > 4 or (not chosen and codes[0] != code):
        abort(400)
    req = _own_request(request.form.get("request"))
    if req is not None and req.status != RequestStatus.OPEN:
        req = None  # a withdrawn request: the session is booked on its own
    try:
        booking = booking_service.book_slots(current_user, codes, request=req)
    except SlotTaken as error:
        db.session.rollback()
        if error.code == "already_yours":
            flash(refusal_message(error), "info")
            return redirect(
                url_for("participant.sessions", _anchor=error.detail.get("booking") or "")
            )
        return redirect(url_for("participant.slot_taken", code=codes[0]))
    except ServiceError as error:
        db.session.rollback()
        return render_template(
            "participant/not_booked.html",
            slot=slot,
            message=refusal_message(error),
            options=finder.nearby(slot, participant),
            participant=participant,
        ), 200
    first = booking.current_slots[0]
    flash(
        _("Booked! %(base)s, %(when)s. It is confirmed and in your sessions.",
          base=first.studio.hub.name, when=_when(booking)),
        "success",
    )  # fmt: skip
    return redirect(url_for("participant.sessions", _anchor=booking.code))


def _when(booking: Booking) -> str:
    """The session's local day and hours, written the reader's way."""
    slots = booking.current_slots
    start = format_datetime(slots[0].start, "EEE M/d HH:mm")
    return f"{start}–{format_datetime(slots[-1].end, 'HH:mm')}"


@bp.get("/slots/<code>/taken")
@participant_only
def slot_taken(code: str):
    """The friendly page for a slot someone else just took: nearby ones I can book."""
    participant = me()
    slot = db.session.scalar(select(Slot).where(Slot.code == code))
    if slot is None:
        abort(404)
    return render_template(
        "participant/not_booked.html",
        slot=slot,
        message=_(
            "Sorry — this slot was just taken by someone else. Here are free slots close to it:"
        ),
        options=finder.nearby(slot, participant),
        participant=participant,
        taken=True,
    )
