"""Operator pages about bookings: the list with confirm / lock / cancel, the dashboard, exports."""

from __future__ import annotations

from datetime import datetime

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.extensions import db
from app.localtime import local_zone
from app.main.errors import back_on_refusal
from app.main.labels import label
from app.main.messages import form_error
from app.main.paging import PAGE_SIZE, page_number, page_of
from app.models import Booking, Hub
from app.models.vocabulary import BookingStatus, WeekState
from app.operator import bp
from app.operator.forms import ReasonForm
from app.operator.routes import hub_or_404, my_hubs, parse_week, staff_only
from app.services.accounts.access import (
    can_operate_hub,
    can_view_booking,
    operated_hub_ids,
)
from app.services.accounts.contact import visible_contacts
from app.services.booking import lifecycle
from app.services.timetable import calendar, reports


@bp.get("/bases/<code>/bookings")
@staff_only
def bookings(code: str):
    """The week's bookings at the base, with the actions each one allows."""
    hub = hub_or_404(code)
    week_start = parse_week(request.args.get("week"))
    show = request.args.get("show", "active")
    rows = reports.week_bookings(hub, week_start, include_cancelled=show == "all")
    if show == "tentative":
        rows = [b for b in rows if b.status == BookingStatus.TENTATIVE]
    return render_template(
        "operator/bookings.html",
        hub=hub,
        hubs=my_hubs(),
        rows=rows,
        week_start=week_start,
        show=show,
        reason_form=ReasonForm(),
        contacts=visible_contacts(current_user, [b.participant_id for b in rows]),
    )


def _booking_or_404(code: str) -> Booking:
    booking = db.session.scalar(select(Booking).where(Booking.code == code))
    if booking is None or not can_view_booking(current_user, booking):
        abort(404)
    return booking


def _back(booking: Booking):
    """Back to the page the action came from, else to the booking's week at its base."""
    target = request.form.get("next")
    if target and target.startswith("/operator/"):
        return redirect(target)
    slots = booking.current_slots
    if not slots:
        return redirect(url_for("operator.home"))
    week = slots[0].timetable_week
    return redirect(
        url_for("operator.bookings", code=week.hub.code, week=week.week_start.isoformat())
        + f"#{booking.code}"
    )


ACTIONS = {
    "confirm": (lifecycle.confirm, lambda: _("Booking %(code)s confirmed.")),
    "lock": (
        lifecycle.lock,
        lambda: _("Booking %(code)s locked: the optimizer will keep it."),
    ),
    "unlock": (lifecycle.unlock, lambda: _("Booking %(code)s unlocked.")),
}


@bp.post("/bookings/<code>/<action>")
@staff_only
def booking_action(code: str, action: str):
    """Confirm, lock, unlock or cancel (with a reason) a booking at one of my bases."""
    booking = _booking_or_404(code)
    back = _back(booking)
    back_on_refusal(back.location)
    if action == "cancel":
        form = ReasonForm()
        if not form.validate_on_submit():
            flash(
                form_error(form, _("Please give a reason; the participant will see it.")), "warning"
            )
            return back
        lifecycle.cancel(current_user, booking, reason=form.reason.data)
        flash(
            _("Booking %(code)s cancelled; the participant has been told.", code=code),
            "success",
        )
    elif action in ACTIONS:
        service, message = ACTIONS[action]
        service(current_user, booking)
        flash(message() % {"code": code}, "success")
    else:
        abort(404)
    return back


@bp.get("/bases/<code>/dashboard")
@staff_only
def dashboard(code: str):
    """Utilization per studio and day, sessions by kind and region, prime-time share."""
    hub = hub_or_404(code)
    week_start = parse_week(request.args.get("week"))
    figures = reports.week_figures(hub, week_start)
    return render_template(
        "operator/dashboard.html",
        hub=hub,
        hubs=my_hubs(),
        figures=figures,
        week_start=week_start,
        **chart_items(figures),
    )


def _pct(ratio: reports.Ratio) -> tuple[float, str]:
    return ratio.share, f"{ratio.share:.0%} ({ratio.used}/{ratio.total})"


def chart_items(figures: reports.WeekFigures) -> dict[str, list]:
    """The dashboard's chart rows as (label, fraction, text), labels in the reader's language."""
    sessions = figures.sessions or 1
    top_region = max(figures.by_region.values(), default=0) or 1
    return {
        "studio_items": [(name, *_pct(r)) for name, r in figures.by_studio.items()],
        "day_items": [
            (format_date(day, "EEE"), r.share, f"{r.share:.0%}")
            for day, r in figures.by_day.items()
        ],
        "kind_items": [
            (label("kind", k), n / sessions, f"{n} · {n / sessions:.0%}")
            for k, n in sorted(figures.by_kind.items())
        ],
        "region_items": [
            (label("region", k), n / top_region, str(n)) for k, n in figures.by_region.most_common()
        ],
        "prime_items": [
            (_("Prime slots booked"), *_pct(figures.prime)),
            (
                _("Sessions in prime time"),
                figures.prime_share,
                f"{figures.prime_share:.0%} ({figures.prime_sessions}/{figures.sessions})",
            ),
        ]
        if figures.prime.total
        else [],
    }


@bp.get("/bases/<code>/bookings.csv")
@staff_only
def bookings_csv(code: str):
    """The week's bookings at the base as a CSV download."""
    hub = hub_or_404(code)
    week_start = parse_week(request.args.get("week"))
    body = reports.bookings_csv(hub, week_start)
    name = f"{hub.code}-bookings-{week_start.isoformat()}.csv"
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.get("/bases/<code>/timetable.ics")
def timetable_ics(code: str):
    """The base's published timetable for calendar apps (signed ``key`` or a signed-in operator)."""
    hub = db.session.scalar(select(Hub).where(Hub.code == code))
    if hub is None:
        abort(404)
    scope = f"base:{hub.code}"
    user = calendar.user_for_key(request.args.get("key", ""), scope)
    if user is None and current_user.is_authenticated:
        user = current_user
    if user is None:
        abort(403)
    if not can_operate_hub(user, hub):
        abort(404)
    today = datetime.now(local_zone()).date()
    return Response(
        calendar.base_feed(hub, today=today),
        mimetype="text/calendar",
        headers={"Content-Disposition": f'inline; filename="{hub.code}.ics"'},
    )


@bp.get("/bases/<code>/calendar")
@staff_only
def calendar_link(code: str):
    """The subscription link of the base's feed, to paste into a calendar app."""
    hub = hub_or_404(code)
    key = calendar.feed_key(current_user, f"base:{hub.code}")
    url = url_for("operator.timetable_ics", code=hub.code, key=key, _external=True)
    return render_template("operator/calendar.html", hub=hub, hubs=my_hubs(), url=url)


@bp.get("/overview")
@staff_only
def overview():
    """All my bases' week side by side: state, utilization, sessions; sessions per region."""
    week_start = parse_week(request.args.get("week"))
    number = page_number()
    rows, regions = reports.overview(operated_hub_ids(current_user), week_start)
    bookable = sum(r.slots - r.blocked for r in rows)
    held = sum(r.held for r in rows)
    top = max(regions.values(), default=0) or 1
    # The figures cover every base; the table shows a page of them (the programme has 1,100).
    first = (number - 1) * PAGE_SIZE
    return render_template(
        "operator/overview.html",
        bases=len(rows),
        page=page_of(rows[first : first + PAGE_SIZE + 1], number),
        week_start=week_start,
        utilization=held / bookable if bookable else 0.0,
        sessions=sum(r.sessions for r in rows),
        published=sum(1 for r in rows if r.state == WeekState.PUBLISHED),
        region_items=[(label("region", k), n / top, str(n)) for k, n in regions.most_common()],
    )
