"""A producer's harvest lots (record one, see each lot's freshness deadline) and prime-time
history (prime sessions per week, the four weeks the rotation looks at)."""

from __future__ import annotations

from datetime import timedelta

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.extensions import db
from app.localtime import local_zone
from app.main.labels import opts
from app.main.messages import refusal_message
from app.models import utcnow
from app.participant import bp
from app.participant.forms import LotForm
from app.participant.routes import me, participant_only
from app.services.errors import ServiceError
from app.services.programme import lots as lot_service
from app.services.programme.prime import WEEKS_BACK, prime_sessions_by_week
from app.services.timetable.weeks import monday_of

UNITS = {"kg": _l("kg"), "box": _l("boxes"), "piece": _l("pieces")}
LOT_FIELD_MESSAGES = {
    "producer": lambda: _("Only producers record harvest lots."),
    "product": lambda: _("Name the product (at most 80 characters)."),
    "quantity": lambda: _("The quantity must be a positive number."),
    "dates": lambda: _("Best-before must come after ready, and not be past."),
}


@bp.route("/lots", methods=["GET", "POST"])
@participant_only
def lots():
    """My harvest lots with their freshness deadlines, a form to record one, and my prime-time
    sessions of the last weeks."""
    participant = me()
    form = LotForm()
    form.unit.choices = opts([(k, str(v)) for k, v in UNITS.items()])
    if participant.kind == "producer" and form.validate_on_submit():
        tz = local_zone()
        try:
            lot = lot_service.record_lot(
                current_user,
                product=form.product.data,
                quantity=float(form.quantity.data) if form.quantity.data is not None else None,
                unit=form.unit.data,
                ready_at=form.ready_at.data.replace(tzinfo=tz),
                best_before=form.best_before.data.replace(tzinfo=tz),
            )
        except ServiceError as error:
            db.session.rollback()
            message = LOT_FIELD_MESSAGES.get(getattr(error, "code", ""))
            flash(message() if message else refusal_message(error), "warning")
        else:
            flash(_("Lot %(code)s recorded. File a request to sell it.", code=lot.code), "success")
            return redirect(url_for("participant.lots"))
    elif request.method == "POST":
        flash(_("Please check the lot's fields."), "warning")
    this_week = monday_of(utcnow().astimezone(local_zone()).date())
    first = this_week - timedelta(weeks=WEEKS_BACK)
    counts = prime_sessions_by_week(db.session, first, this_week, participant.id)
    history = [
        (first + timedelta(weeks=k), counts.get((participant.code, first + timedelta(weeks=k)), 0))
        for k in range(WEEKS_BACK)
    ]
    return render_template(
        "participant/lots.html",
        form=form,
        participant=participant,
        lots=lot_service.own_lots(participant.id),
        now=utcnow(),
        units=UNITS,
        history=history,
        prime_recent=sum(n for _, n in history),
    )
