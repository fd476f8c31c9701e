"""The week's bookings as .xlsx: the same rows as the CSV, real date-times, no formula cells."""

from __future__ import annotations

import io
from datetime import datetime

from openpyxl import load_workbook

from app.extensions import db
from app.services.booking import lifecycle
from app.services.booking import service as booking
from app.services.timetable import reports
from tests.xlsx_files import data_types, read_back


def test_export_lists_the_weeks_bookings_and_never_a_formula(world):
    p1 = world.participants["P001"]
    p1.name = '=HYPERLINK("http://evil.example","点我")'
    db.session.commit()
    made = booking.book_slots(world.users["p1"], [world.slot("B001-S1", 1, 10)])
    other = booking.book_slots(world.users["p2"], [world.slot("B001-S2", 2, 12)])
    lifecycle.cancel(world.users["op1"], other, reason="maintenance")
    booking.book_slots(world.users["p3"], [world.slot("B002-S1", 1, 10)])  # another base

    data = reports.bookings_xlsx(world.hubs["B001"], world.week_start)
    rows = read_back(data)
    assert rows[0] == list(reports.CSV_COLUMNS)
    assert [r[0] for r in rows[1:]] == [made.code, other.code]  # earliest first, B001 only
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["participant"] == "P001" and first["status"] == made.status
    assert first["participant_name"] == "'" + '=HYPERLINK("http://evil.example","点我")'
    assert first["studio"] == "B001-S1" and first["slots"] == world.slot("B001-S1", 1, 10)
    assert first["start"] == world.local(1, 10).replace(tzinfo=None)
    assert isinstance(first["end"], datetime) and first["end"].hour == 12
    assert dict(zip(rows[0], rows[2], strict=True))["status"] == "cancelled"
    assert all(t != "f" for row in data_types(data) for t in row)  # no formula anywhere
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    assert sheet.freeze_panes == "A2" and sheet["J2"].number_format == "yyyy-mm-dd hh:mm"


def test_csv_and_xlsx_share_their_rows(world):
    booking.book_slots(world.users["p1"], [world.slot("B001-S1", 1, 10)])
    csv_lines = reports.bookings_csv(world.hubs["B001"], world.week_start).splitlines()
    xlsx_rows = read_back(reports.bookings_xlsx(world.hubs["B001"], world.week_start))
    assert len(csv_lines) == len(xlsx_rows) == 2
    assert csv_lines[1].split(",")[0] == xlsx_rows[1][0]
    assert world.local(1, 10).isoformat() in csv_lines[1]
