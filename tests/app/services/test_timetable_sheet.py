"""A week's timetable from .xlsx: a bad row refuses the file with that row's error and writes
nothing; a good file imports and publishes; hostile files are refused before parsing."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Slot, TimetableWeek
from app.services.accounts.access import Forbidden
from app.services.spreadsheet.rows import SheetInvalid
from app.services.spreadsheet.workbook import FileRefused, FileTooLarge
from app.services.timetable import sheet
from tests.xlsx_files import read_back, xlsx

HEADER = ("studio", "date", "start", "end", "prime")


def _slots() -> int:
    return db.session.scalar(select(func.count(Slot.id)))


def _week(world, hub="B001", weeks=1):
    return db.session.scalar(
        select(TimetableWeek).where(
            TimetableWeek.hub_id == world.hubs[hub].id,
            TimetableWeek.week_start == world.week_start + timedelta(days=7 * weeks),
        )
    )


def _good_rows(world, weeks=1):
    monday = (world.week_start + timedelta(days=7 * weeks)).isoformat()
    tuesday = (world.week_start + timedelta(days=7 * weeks + 1)).isoformat()
    return [
        HEADER,
        ("B001-S1", monday, "08:00", "10:00", "no"),
        ("B001-S1", monday, "10:00", "12:00", ""),
        ("b001-s2", tuesday, "19:00", "21:00", "是"),
    ]


def test_a_good_sheet_imports_and_publishes(world):
    before = _slots()
    start = world.week_start + timedelta(days=7)
    done = sheet.import_timetable(
        world.hubs["B001"], start, "week.xlsx", xlsx(_good_rows(world)), world.users["op1"]
    )
    assert done.slots == 3 and _slots() == before + 3
    week = _week(world)
    assert week.state == "published" and week.published_at is not None
    by_code = sorted((s.studio.code, s.start, s.end - s.start, s.prime) for s in week.slots)
    assert [(c, d, p) for c, _, d, p in by_code] == [
        ("B001-S1", timedelta(hours=2), False),
        ("B001-S1", timedelta(hours=2), False),
        ("B001-S2", timedelta(hours=2), True),
    ]
    assert by_code[0][1] == world.local(7, 8)
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "timetable.import" in actions and "timetable.publish" in actions


def test_a_bad_row_refuses_the_file_with_that_rows_error_and_writes_nothing(world):
    rows = _good_rows(world)
    rows.insert(2, ("B001-S1", rows[1][1], "10:00", "9:00", "no"))  # row 3: ends before it starts
    before = _slots()
    with pytest.raises(SheetInvalid) as refused:
        sheet.import_timetable(
            world.hubs["B001"],
            world.week_start + timedelta(days=7),
            "week.xlsx",
            xlsx(rows),
            world.users["op1"],
        )
    [error] = refused.value.errors
    assert (error.row, error.column, error.code) == (3, "end", "end_before_start")
    assert refused.value.status == 422 and refused.value.detail["errors"][0]["row"] == 3
    db.session.rollback()
    assert _slots() == before and _week(world) is None


def test_every_bad_row_is_reported_at_once(world):
    monday = (world.week_start + timedelta(days=7)).isoformat()
    rows = [
        HEADER,
        ("B002-S1", monday, "08:00", "10:00", "no"),  # another base's studio
        ("B001-S1", "2026-13-01", "08:00", "10:00", "no"),  # no such date
        ("B001-S1", world.week_start.isoformat(), "08:00", "10:00", "no"),  # the week before
        ("B001-S1", monday, "8 am", "10:00", "no"),
        ("B001-S1", monday, "08:00", "08:10", "no"),  # 10 minutes
        ("B001-S1", monday, "12:00", "14:00", "maybe"),
        ("B001-S1", monday, "=NOW()", "14:00", "no"),
        ("B001-S2", monday, "12:00", "14:00", "no"),
        ("B001-S2", monday, "13:00", "15:00", "no"),  # overlaps the row before
        (None, monday, "16:00", "18:00", "no"),
    ]
    with pytest.raises(SheetInvalid) as refused:
        sheet.check_rows(
            world.hubs["B001"], world.week_start + timedelta(days=7), "w.xlsx", xlsx(rows)
        )
    found = [(e.row, e.column, e.code) for e in refused.value.errors]
    assert found == [
        (2, "studio", "unknown_studio"),
        (3, "date", "bad_date"),
        (4, "date", "outside_week"),
        (5, "start", "bad_time"),
        (6, "end", "slot_length"),
        (7, "prime", "bad_yes_no"),
        (8, "start", "formula"),
        (10, "start", "overlap_row"),
        (11, "studio", "required"),
    ]
    assert refused.value.errors[7].params["other"] == 9
    assert "row 2, studio: no studio B002-S1 at B001" in refused.value.one_line()


def test_a_row_overlapping_a_draft_slot_is_refused_and_a_free_one_joins_the_draft(world):
    day7 = (world.week_start + timedelta(days=7)).isoformat()
    clash = [HEADER, ("B002-S1", day7, "09:00", "11:00", "no")]
    with pytest.raises(SheetInvalid) as refused:
        sheet.check_rows(
            world.hubs["B002"], world.week_start + timedelta(days=7), "w.xlsx", xlsx(clash)
        )
    assert refused.value.errors[0].code == "overlap_slot"
    ok = [HEADER, ("B002-S1", day7, "14:00", "16:00", "")]
    sheet.import_timetable(
        world.hubs["B002"],
        world.week_start + timedelta(days=7),
        "w.xlsx",
        xlsx(ok),
        world.users["op2"],
    )
    week = _week(world, "B002")
    assert week.state == "published" and len(week.slots) == 2  # the draft's slot and the new one


def test_a_published_week_or_another_base_is_refused(world):
    data = xlsx(_good_rows(world, weeks=0))
    with pytest.raises(sheet.WeekRefused) as published:
        sheet.import_timetable(
            world.hubs["B001"], world.week_start, "w.xlsx", data, world.users["op1"]
        )
    assert published.value.code == "published" and published.value.status == 409
    with pytest.raises(Forbidden):
        sheet.import_timetable(
            world.hubs["B001"],
            world.week_start + timedelta(days=7),
            "w.xlsx",
            xlsx(_good_rows(world)),
            world.users["op2"],
        )
    with pytest.raises(sheet.WeekRefused) as not_monday:
        sheet.import_timetable(
            world.hubs["B001"],
            world.week_start + timedelta(days=8),
            "w.xlsx",
            xlsx(_good_rows(world)),
            world.users["op1"],
        )
    assert not_monday.value.code == "not_monday"


def _macro_workbook(world) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(xlsx(_good_rows(world))))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            target.writestr(item, source.read(item.filename))
        target.writestr("xl/vbaProject.bin", b"macro")
    return out.getvalue()


def test_hostile_files_are_refused_before_parsing(world, app):
    hub, start, op = world.hubs["B001"], world.week_start + timedelta(days=7), world.users["op1"]
    good = xlsx(_good_rows(world))
    for name, data, kind, code in [
        ("week.csv", b"studio,date\n", FileRefused, "not_xlsx"),
        ("week.xlsx", b"studio,date\nB001-S1,2026-12-14\n", FileRefused, "not_xlsx"),
        ("week.xlsx", b"", FileRefused, "empty_file"),
        ("week.xlsx", _macro_workbook(world), FileRefused, "macro"),
        ("week.xlsx", good[:200], FileRefused, "not_xlsx"),
    ]:
        with pytest.raises(kind) as refused:
            sheet.import_timetable(hub, start, name, data, op)
        assert refused.value.code == code, name
    app.config["XLSX_MAX_BYTES"] = len(good) - 1
    with pytest.raises(FileTooLarge) as too_large:
        sheet.import_timetable(hub, start, "week.xlsx", good, op)
    assert too_large.value.status == 413
    app.config["XLSX_MAX_BYTES"] = 10**7
    app.config["XLSX_MAX_ROWS"] = 2
    with pytest.raises(FileTooLarge) as too_many:
        sheet.import_timetable(hub, start, "week.xlsx", good, op)
    assert too_many.value.code == "too_many_rows"
    assert _week(world) is None


def test_missing_columns_and_an_empty_sheet(world):
    start = world.week_start + timedelta(days=7)
    with pytest.raises(SheetInvalid) as missing:
        sheet.check_rows(world.hubs["B001"], start, "w.xlsx", xlsx([("studio", "日期", "开始")]))
    assert [(e.row, e.column, e.code) for e in missing.value.errors] == [
        (1, "end", "missing_column")
    ]
    with pytest.raises(SheetInvalid) as empty:
        sheet.check_rows(world.hubs["B001"], start, "w.xlsx", xlsx([]))
    assert empty.value.errors[0].code == "empty_sheet"


def test_the_template_is_the_bases_week_and_imports_as_it_is(world):
    start = world.week_start + timedelta(days=7)
    data = sheet.template_workbook(world.hubs["B001"], start)
    rows = read_back(data)
    assert rows[0] == [c.title for c in sheet.COLUMNS]
    assert rows[1][0] == "B001-S1"  # example row when the base has no template
    done = sheet.import_timetable(
        world.hubs["B001"], start, "template.xlsx", data, world.users["op1"]
    )
    assert done.slots == len(rows) - 1 and _week(world).state == "published"
