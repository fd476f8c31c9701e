"""Find and book slots, my sessions (accept, decline, cancel), my calendar feed.

Booking goes through ``app.services.booking.service`` like the API and the CLI. A slot someone else
took a moment ago is an expected situation: the person lands on a page that says so and
offers the nearest free alternatives.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.localtime import local_zone
from app.main.errors import back_on_refusal
from app.main.guards import roles_required
from app.main.labels import LABELS, label, opts
from app.main.messages import refusal_message
from app.models import FEATURES, REGIONS, Booking, BookingSlot, Participant, Slot, User, utcnow
from app.models.vocabulary import BookingStatus, Role
from app.participant import bp
from app.participant.forms import SearchForm
from app.services.booking import service as booking_service
from app.services.booking.rules import SlotTaken
from app.services.booking.slots import SlotFilter, alternatives, bases_for_filters, find_free_slots
from app.services.errors import ServiceError
from app.services.timetable import calendar
from config import settings

participant_only = roles_required(Role.PARTICIPANT)


def me() -> Participant:
    """The participant the signed-in account books for."""
    participant = db.session.get(Participant, current_user.participant_id)
    if participant is None:
        abort(403)
    return participant


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


@bp.get("/slots")
@participant_only
def find_slots():
    """Free slots of published weeks, filtered, with the distance to each base."""
    participant = me()
    form = _search_form()
    form.validate()
    flt = SlotFilter(
        region=form.region.data or None,
        province=form.province.data or None,
        base=form.base.data or None,
        day=form.day.data if not form.day.errors else None,
        daypart=form.daypart.data or None,
        features=frozenset(form.features.data or ()),
        max_km=float(form.max_km.data) if form.max_km.data and not form.max_km.errors else None,
        nearest_first=form.sort.data == "nearest",
        length=2 if form.length.data == "2" else 1,
    )
    results, total = find_free_slots(flt, participant, limit=60)
    today = datetime.now(local_zone()).date()
    args = {k: v for k, v in request.args.to_dict(flat=False).items() if k not in ("day", "lang")}
    return render_template(
        "participant/find.html",
        quick_days=[today + timedelta(days=i) for i in range(10)],
        chosen_day=flt.day,
        base_args=args,
        form=form,
        results=results,
        total=total,
        participant=participant,
        filtered=any(v for k, v in request.args.items(multi=True) if k != "lang"),
    )


@bp.post("/slots/<code>/book")
@participant_only
def book(code: str):
    """Book a free slot (or a run of them); confirmed at once. Taken or refused: say why and
    offer others."""
    participant = me()
    slot = db.session.scalar(select(Slot).where(Slot.code == code))
    if slot is None:
        abort(404)
    codes = request.form.getlist("slots") or [code]
    if codes[0] != code or len(codes) > 4:
        abort(400)
    try:
        booking = booking_service.book_slots(current_user, codes)
    except SlotTaken:
        db.session.rollback()
        return redirect(url_for("participant.slot_taken", code=code))
    except ServiceError as error:
        db.session.rollback()
        return render_template(
            "participant/not_booked.html",
            slot=slot,
            message=refusal_message(error),
            options=alternatives(slot, participant),
            participant=participant,
        ), 200
    flash(
        _("Booked! %(base)s, %(when)s. It is confirmed and in your sessions.",
          base=slot.studio.hub.name, when=_when(booking)),
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
    """The friendly page for a slot someone else just took: the nearest free alternatives."""
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
        options=alternatives(slot, participant),
        participant=participant,
        taken=True,
    )


def my_bookings(participant: Participant) -> list[Booking]:
    """All my bookings, with their slots loaded."""
    return list(
        db.session.scalars(
            select(Booking)
            .where(Booking.participant_id == participant.id)
            .options(
                selectinload(Booking.slot_history)
                .selectinload(BookingSlot.slot)
                .selectinload(Slot.studio)
            )
        )
    )


@bp.get("/sessions")
@participant_only
def sessions():
    """Upcoming (tentative ones first to answer) and past sessions, with what each allows."""
    participant = me()
    now = utcnow()
    cutoff = timedelta(hours=settings().CANCEL_CUTOFF_HOURS)
    upcoming, past, cancelled = [], [], []
    for b in my_bookings(participant):
        slots = b.current_slots
        if not slots:
            continue
        row = {
            "b": b,
            "slots": slots,
            "hub": slots[0].studio.hub,
            "can_cancel": b.status in (BookingStatus.TENTATIVE, BookingStatus.CONFIRMED)
            and now <= slots[0].start - cutoff,
        }
        if b.status == BookingStatus.CANCELLED:
            cancelled.append(row)
        elif slots[-1].end <= now:
            past.append(row)
        else:
            upcoming.append(row)
    upcoming.sort(key=lambda r: (r["b"].status != BookingStatus.TENTATIVE, r["slots"][0].start))
    past.sort(key=lambda r: r["slots"][0].start, reverse=True)
    cancelled.sort(key=lambda r: r["slots"][0].start, reverse=True)
    return render_template(
        "participant/sessions.html",
        upcoming=upcoming,
        past=past[:20],
        cancelled=cancelled[:20],
        cutoff_hours=cutoff.total_seconds() / 3600,
        feed_url=url_for(
            "participant.sessions_ics",
            key=calendar.feed_key(current_user, "me"),
            _external=True,
        ),
    )


BOOKING_ACTIONS = {
    "cancel": (
        booking_service.cancel,
        lambda: _("Session %(code)s cancelled; the slot is free again."),
    ),
    "accept": (booking_service.accept, lambda: _("Session %(code)s accepted. See you there!")),
    "decline": (
        booking_service.decline,
        lambda: _("Session %(code)s declined; the slot is released."),
    ),
}


@bp.post("/sessions/<code>/<action>")
@participant_only
def session_action(code: str, action: str):
    """Cancel (before the cut-off), accept or decline one of my sessions."""
    if action not in BOOKING_ACTIONS:
        abort(404)
    booking = db.session.scalar(select(Booking).where(Booking.code == code))
    if booking is None or booking.participant_id != current_user.participant_id:
        abort(404)
    service, message = BOOKING_ACTIONS[action]
    back_on_refusal(url_for("participant.sessions"))
    service(current_user, booking)
    flash(message() % {"code": code}, "success")
    return redirect(url_for("participant.sessions"))


@bp.get("/sessions.ics")
def sessions_ics():
    """My sessions for calendar apps (signed ``key``, or the signed-in participant)."""
    user: User | None = calendar.user_for_key(request.args.get("key", ""), "me")
    if user is None and current_user.is_authenticated:
        user = current_user
    if user is None:
        abort(403)
    participant = db.session.get(Participant, user.participant_id or -1)
    if participant is None:
        abort(404)
    stamp = datetime.now(local_zone()).strftime("%Y%m%d")
    return Response(
        calendar.participant_feed(participant),
        mimetype="text/calendar",
        headers={"Content-Disposition": f'inline; filename="chunlei-{stamp}.ics"'},
    )
