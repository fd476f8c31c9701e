"""My sessions (accept, decline, cancel) and my calendar feed; who the signed-in participant is.

Finding and booking slots is in ``app.participant.search``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.localtime import local_zone
from app.main.errors import back_on_refusal
from app.main.guards import roles_required
from app.models import Booking, BookingSlot, Participant, Slot, User, utcnow
from app.models.vocabulary import BookingStatus, Role
from app.participant import bp
from app.services.booking import lifecycle
from app.services.timetable import calendar
from config import settings

participant_only = roles_required(Role.PARTICIPANT)


def me() -> Participant:
    """The participant the signed-in account books for."""
    participant = db.session.get(Participant, current_user.participant_id)
    if participant is None:
        abort(403)
    return participant


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
        lifecycle.cancel,
        lambda: _("Session %(code)s cancelled; the slot is free again."),
    ),
    "accept": (lifecycle.accept, lambda: _("Session %(code)s accepted. See you there!")),
    "decline": (
        lifecycle.decline,
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
