"""The spreadsheet endpoints: multipart upload, a 422 per-row report with nothing written, 201
and a published week for a good file, 413/415 for hostile files, .xlsx downloads, access."""

from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import Participant, Slot, TimetableWeek
from app.services.spreadsheet.workbook import XLSX_MIME
from tests.app.api.conftest import assert_error
from tests.xlsx_files import read_back, xlsx


def _upload(api, world, rows, *, as_="op1", base="B001", name="week.xlsx", week=None):
    week = week or (world.week_start + timedelta(days=7)).isoformat()
    return api.post(
        f"/api/v1/bases/{base}/timetable/import",
        as_=as_,
        data={"week": week, "file": (io.BytesIO(xlsx(rows) if rows is not None else b"x"), name)},
        content_type="multipart/form-data",
    )


def _rows(world):
    monday = (world.week_start + timedelta(days=7)).isoformat()
    return [
        ("studio", "date", "start", "end"),
        ("B001-S1", monday, "08:00", "10:00"),
        ("B001-S2", monday, "08:00", "10:00"),
    ]


def _slots():
    return db.session.scalar(select(func.count(Slot.id)))


def test_a_bad_row_answers_422_with_the_rows_error_in_both_languages(api, world):
    rows = _rows(world)
    rows.append(("B001-S9", rows[1][1], "08:00", "10:00"))
    before = _slots()
    error = assert_error(_upload(api, world, rows), 422, "sheet_invalid")
    [row] = error["detail"]["errors"]
    assert (row["row"], row["column"], row["code"]) == (4, "studio", "unknown_studio")
    assert row["message"] == "no studio B001-S9 at B001"
    assert row["message_zh"] == "基地 B001 没有直播间 B001-S9。"
    assert _slots() == before


def test_a_good_file_imports_and_publishes(api, world):
    response = _upload(api, world, _rows(world))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["slots"] == 2 and body["published"] is True and body["base"] == "B001"
    week = db.session.scalar(
        select(TimetableWeek).where(
            TimetableWeek.week_start == world.week_start + timedelta(7),
            TimetableWeek.hub_id == world.hubs["B001"].id,
        )
    )
    assert week.state == "published" and len(week.slots) == 2
    free = api.get(f"/api/v1/slots?base=B001&date={body['week']}", as_="p1").get_json()
    assert len(free) == 2  # participants see the published slots at once


def test_hostile_or_misdirected_uploads(api, world, app):
    assert_error(_upload(api, world, None, name="week.csv"), 415, "not_xlsx")
    assert_error(_upload(api, world, _rows(world), as_="op2"), 403)
    assert_error(_upload(api, world, _rows(world), as_="p1"), 403)
    assert_error(_upload(api, world, _rows(world), base="B999"), 404)
    assert_error(
        _upload(api, world, _rows(world), week=world.week_start.isoformat()), 409, "published"
    )
    app.config["XLSX_MAX_BYTES"] = 100
    assert_error(_upload(api, world, _rows(world)), 413, "too_large")
    missing = api.post(
        "/api/v1/bases/B001/timetable/import",
        as_="op1",
        data={"week": "x"},
        content_type="multipart/form-data",
    )
    assert_error(missing, 422, "validation")


def test_bookings_and_template_downloads(api, world):
    api.post("/api/v1/bookings", as_="p1", json={"slots": [world.slot("B001-S1", 1, 10)]})
    week = world.week_start.isoformat()
    response = api.get(f"/api/v1/bases/B001/bookings.xlsx?week={week}", as_="op1")
    assert response.status_code == 200 and response.mimetype == XLSX_MIME
    rows = read_back(response.data)
    assert rows[1][3] == "P001" and len(rows) == 2
    assert_error(api.get(f"/api/v1/bases/B001/bookings.xlsx?week={week}", as_="op2"), 403)
    template = api.get(f"/api/v1/bases/B001/timetable-template.xlsx?week={week}", as_="op1")
    assert template.status_code == 200 and read_back(template.data)[0][0].startswith("studio")


def test_admin_imports_participants(api, world):
    rows = [("name", "kind", "county", "priority"), ("茶农合作社", "producer", "浙江省/义乌市", 3)]
    data = {"file": (io.BytesIO(xlsx(rows)), "people.xlsx")}
    response = api.post(
        "/api/v1/participants/import", as_="admin", data=data, content_type="multipart/form-data"
    )
    assert response.status_code == 201, response.get_json()
    [code] = response.get_json()["added"]
    assert db.session.scalar(select(Participant.priority).where(Participant.code == code)) == 3
    bad = [("name", "kind", "county"), ("x", "farmer", "浙江省/义乌市")]
    refused = api.post(
        "/api/v1/participants/import",
        as_="admin",
        data={"file": (io.BytesIO(xlsx(bad)), "people.xlsx")},
        content_type="multipart/form-data",
    )
    assert assert_error(refused, 422)["detail"]["errors"][0]["code"] == "bad_kind"
    forbidden = api.post(
        "/api/v1/participants/import",
        as_="op1",
        data={"file": (io.BytesIO(xlsx(rows)), "people.xlsx")},
        content_type="multipart/form-data",
    )
    assert_error(forbidden, 403)
    assert api.get("/api/v1/participants/template.xlsx", as_="admin").status_code == 200


def test_the_spec_documents_the_endpoints(api):
    spec = api.get("/api/v1/openapi.json").get_json()
    upload = spec["paths"]["/api/v1/bases/{code}/timetable/import"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"]
    assert {"201", "413", "415", "422"} <= set(upload["responses"])
    download = spec["paths"]["/api/v1/bases/{code}/bookings.xlsx"]["get"]["responses"]["200"]
    assert XLSX_MIME in download["content"]
    assert "/api/v1/participants/import" in spec["paths"]
