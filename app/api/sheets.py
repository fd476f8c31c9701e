"""Spreadsheet endpoints: a base's week imported from .xlsx (and published), its bookings and the
templates as .xlsx, participants imported by an admin. Uploads are ``multipart/form-data``; a
refused file answers 422 with every row's error (``detail.errors``: row, column, code,
message, message_zh, params), 413 when too large, 415 when not an ``.xlsx``; nothing is written.
"""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from apiflask import Schema
from apiflask.fields import Boolean, Date, File, Integer, List, String
from flask import Response
from sqlalchemy import select

from app.api import bp
from app.api.auth import auth
from app.extensions import db
from app.main.sheet_errors import both_languages
from app.models import Hub, User
from app.services.accounts.access import Forbidden, NotFound, can_operate_hub
from app.services.participants import sheet as participants_sheet
from app.services.spreadsheet.rows import SheetInvalid
from app.services.spreadsheet.workbook import XLSX_MIME
from app.services.timetable import reports
from app.services.timetable import sheet as timetable_sheet
from app.services.timetable.weeks import monday_of

XLSX_RESPONSE: dict[str, Any] = {
    "description": "an .xlsx workbook",
    "content": {XLSX_MIME: {"schema": {"type": "string", "format": "binary"}}},
}
SHEET_ERRORS: dict[int, Any] = {
    403: "Not your base (or not an administrator)",
    404: "No such base",
    409: "The week is already published, or the date is not a Monday",
    413: "The file is larger than XLSX_MAX_BYTES, or has more than XLSX_MAX_ROWS rows",
    415: "Not an .xlsx workbook (or macro-enabled)",
    422: "Rows with errors: detail.errors lists each (row, column, code, message, message_zh)",
}


class TimetableUpload(Schema):
    week = Date(required=True, metadata={"description": "the week's Monday, YYYY-MM-DD"})
    file = File(required=True, metadata={"description": "the .xlsx sheet, one row per slot"})


class ParticipantsUpload(Schema):
    file = File(required=True, metadata={"description": "the .xlsx sheet, one row per participant"})


class WeekQuery(Schema):
    week = Date(required=True, metadata={"description": "any day of the week, YYYY-MM-DD"})


class TimetableImported(Schema):
    base = String()
    week = Date()
    slots = Integer(metadata={"description": "slots added"})
    published = Boolean()


class ParticipantsImported(Schema):
    added = List(String(), metadata={"description": "codes of the new participants"})
    updated = List(String(), metadata={"description": "codes of the participants updated"})


def _me() -> User:
    """The account of the request's bearer token (``auth_required`` guarantees one)."""
    return cast(User, auth.current_user)


def _operated_hub(code: str) -> Hub:
    hub = db.session.scalar(select(Hub).where(Hub.code == code))
    if hub is None:
        raise NotFound(f"no base {code}")
    if not can_operate_hub(_me(), hub):
        raise Forbidden("you do not operate this base", code="other_base")
    return hub


def _with_chinese(error: SheetInvalid) -> SheetInvalid:
    db.session.rollback()
    error.detail = {"errors": both_languages(error.errors)}
    return error


def _xlsx(data: bytes, name: str) -> Response:
    return Response(
        data, mimetype=XLSX_MIME, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@bp.post("/bases/<code>/timetable/import")
@bp.auth_required(auth)
@bp.input(TimetableUpload, location="form_and_files", arg_name="body")
@bp.output(TimetableImported, status_code=201)
@bp.doc(summary="Import a base's week from .xlsx and publish it", responses=SHEET_ERRORS)
def import_timetable(code: str, body: dict):
    """Every row is checked first; any bad row refuses the file (422, nothing written). A good
    file adds the slots to the week and publishes it."""
    hub = _operated_hub(code)
    upload = body["file"]
    week_start: date = body["week"]
    try:
        done = timetable_sheet.import_timetable(
            hub, week_start, upload.filename, upload.read(), _me()
        )
    except SheetInvalid as e:
        raise _with_chinese(e) from None
    return {"base": hub.code, "week": week_start, "slots": done.slots, "published": True}


@bp.get("/bases/<code>/timetable-template.xlsx")
@bp.auth_required(auth)
@bp.input(WeekQuery, location="query", arg_name="q")
@bp.doc(
    summary="A week's timetable sheet to fill in",
    responses=cast(Any, {200: XLSX_RESPONSE, **SHEET_ERRORS}),
)
def timetable_template(code: str, q: dict):
    """The base's weekly template for that week, one row per studio and slot."""
    hub = _operated_hub(code)
    week_start = monday_of(q["week"])
    return _xlsx(
        timetable_sheet.template_workbook(hub, week_start),
        f"{hub.code}-timetable-{week_start}.xlsx",
    )


@bp.get("/bases/<code>/bookings.xlsx")
@bp.auth_required(auth)
@bp.input(WeekQuery, location="query", arg_name="q")
@bp.doc(
    summary="A base's bookings of one week as .xlsx",
    responses=cast(Any, {200: XLSX_RESPONSE, **SHEET_ERRORS}),
)
def bookings_xlsx(code: str, q: dict):
    """The week's bookings at the base (cancelled ones included), earliest first."""
    hub = _operated_hub(code)
    week_start = monday_of(q["week"])
    return _xlsx(reports.bookings_xlsx(hub, week_start), f"{hub.code}-bookings-{week_start}.xlsx")


@bp.post("/participants/import")
@bp.auth_required(auth)
@bp.input(ParticipantsUpload, location="form_and_files", arg_name="body")
@bp.output(ParticipantsImported, status_code=201)
@bp.doc(summary="Import participants from .xlsx (administrators)", responses=SHEET_ERRORS)
def import_participants(body: dict):
    """Rows with a code update that participant, rows without add one; any bad row refuses the
    file (422, nothing written)."""
    upload = body["file"]
    try:
        done = participants_sheet.import_participants(upload.filename, upload.read(), _me())
    except SheetInvalid as e:
        raise _with_chinese(e) from None
    return {"added": done.added, "updated": done.updated}


@bp.get("/participants/template.xlsx")
@bp.auth_required(auth)
@bp.doc(
    summary="The participants' sheet to fill in (administrators)",
    responses=cast(Any, {200: XLSX_RESPONSE, 403: "Not an administrator"}),
)
def participants_template():
    """The columns and two example rows."""
    if _me().role != "admin":
        raise Forbidden("only an administrator imports participants")
    return _xlsx(participants_sheet.template_workbook(), "participants-template.xlsx")
