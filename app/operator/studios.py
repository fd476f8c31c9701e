"""Operator pages for the base itself: edit its details; retire a studio (after a page that says
what happens to its slots and bookings)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.extensions import db
from app.models import Studio
from app.operator import bp
from app.operator.routes import hub_or_404, my_hubs, staff_only
from app.services.timetable import studios
from app.services.timetable.service import TimetableError

BASE_MESSAGES = {
    "base_name": lambda: _("The base needs a name of at most 120 characters."),
    "base_place": lambda: _("The city and the province need 1 to 60 characters each."),
    "base_region": lambda: _("Choose the base's region."),
    "base_coordinates": lambda: _(
        "The latitude must lie between -90 and 90, the longitude between -180 and 180."
    ),
    "retired": lambda: _("This studio is retired already."),
    "last_studio": lambda: _(
        "A base keeps at least one studio; add another before retiring this one."
    ),
}


def _number(name: str) -> float | None:
    try:
        return float(request.form.get(name, ""))
    except ValueError:
        return None


@bp.post("/bases/<code>/details")
@staff_only
def base_details(code: str):
    """Save the base's name, city, province, region and coordinates."""
    hub = hub_or_404(code)
    lat, lon = _number("lat"), _number("lon")
    if lat is None or lon is None:
        flash(_("The latitude and the longitude must be numbers, such as 35.10 and 118.35."),
              "warning")  # fmt: skip
        return redirect(url_for("operator.base", code=hub.code))
    details = studios.BaseDetails(
        name=request.form.get("name", ""), city=request.form.get("city", ""),
        province=request.form.get("province", ""), region=request.form.get("region", ""),
        lat=lat, lon=lon,
    )  # fmt: skip
    try:
        studios.update_base(hub, details, current_user)
    except TimetableError as error:
        db.session.rollback()
        flash(BASE_MESSAGES[error.code](), "warning")
    else:
        flash(_("The base's details are saved."), "success")
    return redirect(url_for("operator.base", code=hub.code))


def _studio_or_404(hub, studio_code: str) -> Studio:
    studio = db.session.scalar(
        select(Studio).where(Studio.code == studio_code, Studio.hub_id == hub.id)
    )
    if studio is None:
        abort(404)
    return studio


@bp.route("/bases/<code>/studios/<studio_code>/retire", methods=["GET", "POST"])
@staff_only
def retire_studio(code: str, studio_code: str):
    """What retiring does (GET), then retire (POST with ``confirm=yes``)."""
    hub = hub_or_404(code)
    studio = _studio_or_404(hub, studio_code)
    if request.method == "POST" and request.form.get("confirm") == "yes":
        try:
            done = studios.retire_studio(studio, current_user)
        except TimetableError as error:
            db.session.rollback()
            flash(BASE_MESSAGES[error.code](), "warning")
        else:
            flash(
                _("Studio %(code)s retired: %(removed)d free slots removed, %(blocked)d blocked, "
                  "%(kept)d booked sessions kept.", code=studio.code, removed=len(done.removed),
                  blocked=len(done.blocked), kept=len(done.kept)),
                "success",
            )  # fmt: skip
        return redirect(url_for("operator.base", code=hub.code))
    return render_template(
        "operator/retire_studio.html", hub=hub, hubs=my_hubs(), studio=studio,
        kept=studios.future_bookings(studio), week_start=None,
    )  # fmt: skip
