"""The spreadsheet pages: a refused file shows every row's error (Chinese, or English) with
nothing written; a good one imports and publishes; downloads; only the right people."""

from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import Participant, Slot, TimetableWeek
from tests.xlsx_files import read_back, xlsx


def _post(client, world, rows, *, base="B001", lang=None, name="week.xlsx"):
    week = (world.week_start + timedelta(days=7)).isoformat()
    url = f"/operator/bases/{base}/import" + (f"?lang={lang}" if lang else "")
    return client.post(
        url,
        data={"week": week, "file": (io.BytesIO(xlsx(rows)), name)},
        content_type="multipart/form-data",
    )


def _rows(world, bad=False):
    monday = (world.week_start + timedelta(days=7)).isoformat()
    rows = [
        ("直播间", "日期", "开始", "结束", "黄金时段"),
        ("B001-S1", monday, "08:00", "10:00", "否"),
    ]
    if bad:
        rows.append(("B001-S1", monday, "09:00", "11:00", "否"))
    return rows


def _slots():
    return db.session.scalar(select(func.count(Slot.id)))


def test_a_bad_row_is_shown_with_its_error_and_nothing_is_written(login, world):
    client = login("op1")
    before = _slots()
    page = _post(client, world, _rows(world, bad=True))
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert "文件未导入" in html and "与同一直播间的第 2 行时间重叠。" in html
    assert "<td>3</td><td>开始</td>" in html
    assert _slots() == before
    english = _post(client, world, _rows(world, bad=True), lang="en").get_data(as_text=True)
    assert "Overlaps row 2 of the same studio." in english and "Nothing was changed." in english


def test_a_good_file_imports_and_publishes(login, world):
    client = login("op1")
    response = _post(client, world, _rows(world))
    assert response.status_code == 302 and "/operator/bases/B001/week" in response.location
    assert "已导入 1 个时段" in client.get(response.location).get_data(as_text=True)
    week = db.session.scalar(
        select(TimetableWeek).where(
            TimetableWeek.week_start == world.week_start + timedelta(7),
            TimetableWeek.hub_id == world.hubs["B001"].id,
        )
    )
    assert week.state == "published"


def test_wrong_files_and_wrong_people(login, world):
    client = login("op1")
    page = _post(client, world, _rows(world), name="week.xls")
    assert page.status_code == 422 and "只接受 .xlsx 工作簿" in page.get_data(as_text=True)
    assert _post(login("op2"), world, _rows(world)).status_code == 404
    assert _post(login("p1"), world, _rows(world)).status_code == 403
    assert login("op1").get("/operator/participants/import").status_code == 403


def test_downloads(login, world):
    client = login("op1")
    form = client.get("/operator/bases/B001/import").get_data(as_text=True)
    assert "下载模板（.xlsx）" in form and "导入时刻表" in form
    week = world.week_start.isoformat()
    template = client.get(f"/operator/bases/B001/timetable-template.xlsx?week={week}")
    assert template.status_code == 200 and read_back(template.data)[1][0] == "B001-S1"
    export = client.get(f"/operator/bases/B001/bookings.xlsx?week={week}")
    assert export.status_code == 200 and read_back(export.data)[0][0] == "booking"
    assert login("op2").get(f"/operator/bases/B001/bookings.xlsx?week={week}").status_code == 404


def test_admin_imports_participants(login, world):
    admin = login("admin")
    rows = [("名称", "类型", "县区", "优先级"), ("新合作社", "生产者", "浙江省/义乌市", 2)]
    before = db.session.scalar(select(func.count(Participant.id)))
    response = admin.post(
        "/operator/participants/import",
        data={"file": (io.BytesIO(xlsx(rows)), "people.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert db.session.scalar(select(func.count(Participant.id))) == before + 1
    bad = admin.post(
        "/operator/participants/import",
        data={"file": (io.BytesIO(xlsx([rows[0], ("x", "农民", "浙江省/义乌市", 9)])), "p.xlsx")},
        content_type="multipart/form-data",
    )
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "请填写 1 到 3 的整数。" in html and "类型" in html
    assert db.session.scalar(select(func.count(Participant.id))) == before + 1
