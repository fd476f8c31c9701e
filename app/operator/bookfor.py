"""Booking a free slot for a participant who phoned or walked in, found by name or code.

The field takes a code, a name or part of one. One match books at once; several open a page to
pick from (it works without JavaScript); with JavaScript, suggestions appear while typing
(``/operator/participants.json``).
"""

from __future__ import annotations

from flask import flash, jsonify, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from app.main.errors import back_on_refusal
from app.main.labels import label
from app.models import Participant, Slot
from app.operator import bp
from app.operator.routes import back_to_week, my_hubs, slot_or_404, staff_only
from app.services.booking import service as booking_service
from app.services.booking.people import MAX_QUERY, find_participants


@bp.get("/participants.json")
@staff_only
def participants_json():
    """Up to ten participants matching ``?q=`` (code or name), for the book-for suggestions."""
    found = find_participants(request.args.get("q", ""))
    return jsonify(
        [
            {"code": p.code, "name": p.name, "kind": label("kind", p.kind),
             "region": label("region", p.region)}
            for p in found
        ]
    )  # fmt: skip


def _book(slot: Slot, participant: Participant):
    back = back_to_week(slot)
    back_on_refusal(back.location)
    booking = booking_service.book_slots(current_user, [slot.code], participant=participant)
    flash(
        _("Booked %(slot)s for %(name)s (%(code)s).", slot=slot.code, name=participant.name,
          code=booking.code),
        "success",
    )  # fmt: skip
    return back


@bp.post("/slots/<code>/book-for")
@staff_only
def book_for(code: str):
    """Book the slot for the one participant the field names, or offer the matches to pick."""
    slot = slot_or_404(code)
    wanted = (request.form.get("participant") or "").strip()
    if len(wanted) > MAX_QUERY:
        flash(_("Type at most %(n)d characters of a name or a code.", n=MAX_QUERY), "warning")
        return back_to_week(slot)
    found = find_participants(wanted)
    if not found:
        flash(_("No participant's name or code matches %(q)s.", q=wanted or "—"), "warning")
        return back_to_week(slot)
    if len(found) == 1:
        return _book(slot, found[0])
    return render_template(
        "operator/book_for_choose.html",
        hub=slot.studio.hub,
        hubs=my_hubs(),
        week_start=slot.timetable_week.week_start,
        slot=slot,
        query=wanted,
        found=found,
    )
