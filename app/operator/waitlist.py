"""The waiting list of a base: requests still short of sessions that this base could serve."""

from __future__ import annotations

from flask import render_template, request
from sqlalchemy import select

from app.extensions import db
from app.models import PlanningWeek
from app.operator import bp
from app.operator.routes import hub_or_404, my_hubs, parse_week, staff_only
from app.services.placement import waitlist


@bp.get("/bases/<code>/waitlist")
@staff_only
def waitlist_page(code: str):
    """In the order freed capacity is offered: programme priority, waiting time, fit."""
    hub = hub_or_404(code)
    week_start = parse_week(request.args.get("week"))
    week = db.session.scalar(select(PlanningWeek).where(PlanningWeek.week_start == week_start))
    rows = waitlist.for_hub(week, hub) if week is not None else []
    return render_template(
        "operator/waitlist.html", hub=hub, hubs=my_hubs(), week_start=week_start, rows=rows
    )
