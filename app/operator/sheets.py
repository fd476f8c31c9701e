"""Spreadsheet pages: import a base's week from .xlsx (then it is published), export its bookings
as .xlsx, download the templates; admins import participants the same way.

A refused file comes back on the same page with every row's error (row, column, message) and
nothing written; the services do the checking (``app.services.timetable.sheet``,
``app.services.participants.sheet``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TypeVar, cast

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.extensions import db
from app.main.guards import roles_required
from app.main.sheet_errors import column_label, file_message, row_message
from app.models.vocabulary import Role
from app.operator import bp
from app.operator.forms import SheetUploadForm, TimetableUploadForm
from app.operator.routes import hub_or_404, my_hubs, parse_week, staff_only
from app.services.errors import ServiceError
from app.services.participants import sheet as participants_sheet
from app.services.spreadsheet.rows import SheetInvalid
from app.services.spreadsheet.workbook import XLSX_MIME
from app.services.timetable import reports
from app.services.timetable import sheet as timetable_sheet
from app.services.timetable.weeks import monday_of

admin_only = roles_required(Role.ADMIN)
T = TypeVar("T")


def xlsx_download(data: bytes, name: str) -> Response:
    """An .xlsx file as a download."""
    return Response(
        data, mimetype=XLSX_MIME, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


def _report(error: SheetInvalid) -> list[dict]:
    return [
        {"row": e.row, "column": column_label(e.column), "message": row_message(e)}
        for e in error.errors
    ]


def _imported(form: SheetUploadForm, run: Callable[[str, bytes], T]) -> tuple[T | None, list[dict]]:
    """Run an import of the uploaded file: what it did, or (None, every row's error) with the
    transaction rolled back; a refusal of the file as a whole goes on the form's file field."""
    upload = form.file.data
    try:
        return run(upload.filename, upload.read()), []
    except SheetInvalid as e:
        db.session.rollback()
        return None, _report(e)
    except ServiceError as e:
        db.session.rollback()
        form.file.errors.append(file_message(e))
        return None, []


@bp.route("/bases/<code>/import", methods=["GET", "POST"])
@staff_only
def import_timetable(code: str):
    """Upload a week's slots as .xlsx; every row is checked, then the week is published."""
    hub = hub_or_404(code)
    form = TimetableUploadForm()
    if request.method == "GET":
        form.week.data = parse_week(request.args.get("week"))
    errors: list[dict] = []
    status = 200
    if form.validate_on_submit():
        week_start = cast(date, form.week.data)  # DataRequired
        done, errors = _imported(
            form,
            lambda name, data: timetable_sheet.import_timetable(
                hub, week_start, name, data, current_user
            ),
        )
        status = 422
        if done is not None:
            flash(
                _(
                    "Imported %(n)d slots; the week of %(week)s is published.",
                    n=done.slots,
                    week=week_start.isoformat(),
                ),
                "success",
            )
            return redirect(url_for("operator.week", code=hub.code, week=week_start.isoformat()))
    elif request.method == "POST":
        status = 422
    week_start = form.week.data if isinstance(form.week.data, date) else parse_week(None)
    return render_template(
        "operator/import_timetable.html",
        hub=hub,
        hubs=my_hubs(),
        form=form,
        errors=errors,
        week_start=monday_of(week_start),
    ), status


@bp.get("/bases/<code>/timetable-template.xlsx")
@staff_only
def timetable_template(code: str):
    """A sheet to fill in for the week: the base's template, one row per studio and block."""
    hub = hub_or_404(code)
    week_start = parse_week(request.args.get("week"))
    data = timetable_sheet.template_workbook(hub, week_start)
    return xlsx_download(data, f"{hub.code}-timetable-{week_start.isoformat()}.xlsx")


@bp.get("/bases/<code>/bookings.xlsx")
@staff_only
def bookings_xlsx(code: str):
    """The week's bookings at the base as an .xlsx download."""
    hub = hub_or_404(code)
    week_start = parse_week(request.args.get("week"))
    data = reports.bookings_xlsx(hub, week_start)
    return xlsx_download(data, f"{hub.code}-bookings-{week_start.isoformat()}.xlsx")


@bp.route("/participants/import", methods=["GET", "POST"])
@admin_only
def import_participants():
    """Admins upload participants as .xlsx; every row is checked before anything is written."""
    form = SheetUploadForm()
    errors: list[dict] = []
    status = 200
    if form.validate_on_submit():
        done, errors = _imported(
            form,
            lambda name, data: participants_sheet.import_participants(name, data, current_user),
        )
        status = 422
        if done is not None:
            flash(
                _(
                    "Imported participants: %(added)d added, %(updated)d updated.",
                    added=len(done.added),
                    updated=len(done.updated),
                ),
                "success",
            )
            return redirect(url_for("operator.import_participants"))
    elif request.method == "POST":
        status = 422
    return render_template("operator/import_participants.html", form=form, errors=errors), status


@bp.get("/participants/template.xlsx")
@admin_only
def participants_template():
    """The participants' sheet to fill in (columns and two example rows)."""
    return xlsx_download(participants_sheet.template_workbook(), "participants-template.xlsx")
