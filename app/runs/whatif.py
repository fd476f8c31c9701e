"""What-if pages: ask for a changed copy of a week, solved on the job queue, and read the
comparison side by side (live bookings are never touched)."""

from __future__ import annotations

from datetime import date

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.extensions import db
from app.jobs.queue import enqueue, job
from app.models import FEATURES, Hub, utcnow
from app.runs import bp
from app.runs.routes import staff_only
from app.services.accounts.access import is_admin, operated_hub_ids
from app.services.timetable.weeks import next_week_start
from app.services.whatif.scenario import WhatIfError, parse_changes

FIELDS = ("add_studio", "open_evenings", "block_day", "close_base", "add_demand")


def _bases_named(changes: dict[str, list[str]]) -> set[str]:
    return {text.split(":")[0] for values in changes.values() for text in values}


def _field_message(field: str) -> str:
    """What a field expects, in the reader's language (the service speaks the CLI's English)."""
    return {
        "add_studio": _(
            "Add a studio as BASE:feature,feature, e.g. B017:kitchen,cold_chain (features: "
            "%(features)s).",
            features=", ".join(FEATURES),
        ),
        "block_day": _("Block a day as BASE:YYYY-MM-DD, e.g. B017:2026-12-09."),
        "add_demand": _("Add the demand of a county as BASE:NUMBER of requests, e.g. B017:20."),
    }.get(field, _("Check this change."))


def _check_each_field(changes: dict[str, list[str]]) -> None:
    """Read each field alone, so a refusal names the field, translated; then one at least."""
    for field, texts in changes.items():
        if texts:
            try:
                parse_changes(**{field: tuple(texts)})
            except WhatIfError:
                raise WhatIfError(_field_message(field)) from None
    if not any(changes.values()):
        raise WhatIfError(_("Name at least one change."))


@bp.get("/what-if/<int:job_id>/progress.json")
@staff_only
def what_if_progress(job_id: int):
    """A what-if's state and the share of its two solves done, for the page's polling."""
    row = _whatif_or_404(job_id)
    body = {"id": row.id, "status": row.status, "progress": _progress(row)}
    db.session.rollback()  # end the read at once (SQLite writers never wait on a poll)
    return jsonify(body)


def _progress(row) -> dict:
    """Share done and seconds left: two solves of the time limit each, from the job's start."""
    limit = 2 * float(row.payload.get("time_limit_s") or current_app.config["SOLVER_TIME_LIMIT_S"])
    if row.status == "queued" or row.started_at is None:
        return {"phase": "queued", "share": 0.0, "percent": 0, "left_s": int(limit), "elapsed_s": 0}
    elapsed = max((utcnow() - row.started_at).total_seconds(), 0.0)
    share = 1.0 if row.status not in ("queued", "running") else min(elapsed / limit, 0.99)
    return {
        "phase": "solving" if share < 1 else "done",
        "share": round(share, 3),
        "percent": int(share * 100),
        "left_s": int(max(limit - elapsed, 0)) if share < 1 else 0,
        "elapsed_s": int(elapsed),
    }


def _whatif_or_404(job_id: int):
    row = job(job_id)
    if row is None or row.kind != "whatif.run":
        abort(404)
    if not is_admin(current_user) and row.payload.get("user") != current_user.id:
        abort(404)
    return row


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
            _check_each_field(changes)
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
    row = _whatif_or_404(job_id)
    return render_template(
        "runs/whatif.html",
        row=row,
        live=_progress(row),
        values={f: " ".join(row.payload["changes"].get(f, [])) for f in FIELDS},
        week=row.payload["week"],
    )
