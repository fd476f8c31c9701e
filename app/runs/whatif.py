"""What-if pages: ask for a changed copy of a week, solved on the job queue, and read the
comparison side by side (live bookings are never touched)."""

from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.extensions import db
from app.jobs.queue import enqueue, job
from app.models import Hub
from app.runs import bp
from app.runs.routes import staff_only
from app.services.accounts.access import is_admin, operated_hub_ids
from app.services.timetable.weeks import next_week_start
from app.services.whatif.scenario import WhatIfError, parse_changes

FIELDS = ("add_studio", "open_evenings", "block_day", "close_base", "add_demand")


def _bases_named(changes: dict[str, list[str]]) -> set[str]:
    return {text.split(":")[0] for values in changes.values() for text in values}


@bp.route("/what-if", methods=["GET", "POST"])
@staff_only
def what_if():
    """The form; a valid one is queued and the page of its job follows."""
    values = {f: request.form.get(f, "") for f in FIELDS}
    week = request.form.get("week") or next_week_start().isoformat()
    if request.method == "POST":
        changes = {f: values[f].split() for f in FIELDS}
        try:
            start = date.fromisoformat(week)
            parse_changes(**{k: tuple(v) for k, v in changes.items()})
            allowed = operated_hub_ids(current_user)
            if allowed is not None:
                mine = set(db.session.scalars(select(Hub.code).where(Hub.id.in_(allowed))))
                if not _bases_named(changes) <= mine:
                    raise WhatIfError(_("Operators change only their own bases."))
        except (ValueError, WhatIfError) as error:
            reason = str(error) if isinstance(error, WhatIfError) else _("Choose a week.")
            flash(_("Check the changes: %(reason)s", reason=reason), "warning")
        else:
            payload = {"week": start.isoformat(), "changes": changes, "user": current_user.id}
            job_id = enqueue("whatif.run", payload)
            return redirect(url_for("runs.what_if_result", job_id=job_id))
    return render_template("runs/whatif.html", values=values, week=week, row=None)


@bp.get("/what-if/<int:job_id>")
@staff_only
def what_if_result(job_id: int):
    """One what-if: queued, running, failed with its reason, or the comparison."""
    row = job(job_id)
    if row is None or row.kind != "whatif.run":
        abort(404)
    if not is_admin(current_user) and row.payload.get("user") != current_user.id:
        abort(404)
    return render_template(
        "runs/whatif.html",
        row=row,
        values={f: " ".join(row.payload["changes"].get(f, [])) for f in FIELDS},
        week=row.payload["week"],
    )
