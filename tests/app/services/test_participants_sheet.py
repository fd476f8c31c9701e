"""Admins import participants from .xlsx: all rows checked first; adds and updates by code."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Participant, ParticipantProfile
from app.services.accounts.access import Forbidden
from app.services.participants import sheet
from app.services.spreadsheet.rows import SheetInvalid
from tests.xlsx_files import read_back, xlsx

HEADER = ("name / 名称", "kind", "县区", "category", "priority", "contact", "code")


def _count() -> int:
    return db.session.scalar(select(func.count(Participant.id)))


def test_a_good_sheet_adds_and_updates_participants(world):
    existing = next(iter(world.participants))
    rows = [
        HEADER,
        ("义乌佛堂茶叶合作社", "生产者", "浙江省/义乌市", "Tea", 3, "13800000000", None),
        ("永康五金", "merchant", "浙江省 / 永康市", None, None, "wx_yongkang", ""),
        (
            "改名的合作社",
            "producer",
            "江西省/赣州市/信丰县",
            "citrus",
            2,
            "找村委会王主任",
            existing.lower(),
        ),
    ]
    before = _count()
    done = sheet.import_participants("people.xlsx", xlsx(rows), world.users["admin"])
    assert len(done.added) == 2 and done.updated == [existing] and _count() == before + 2
    tea = db.session.scalar(select(Participant).where(Participant.code == done.added[0]))
    assert (tea.name, tea.kind, tea.province, tea.county, tea.region) == (
        "义乌佛堂茶叶合作社",
        "producer",
        "浙江省",
        "义乌市",
        "east",
    )
    assert (tea.category, tea.priority) == ("tea", 3) and 29 < tea.lat < 30
    profile = db.session.get(ParticipantProfile, tea.id)
    assert (profile.phone, profile.wechat, profile.contact) == ("13800000000", None, None)
    hardware = db.session.scalar(select(Participant).where(Participant.code == done.added[1]))
    assert (hardware.kind, hardware.priority, hardware.category) == ("merchant", 1, None)
    profile = db.session.get(ParticipantProfile, hardware.id)
    assert (profile.phone, profile.wechat, profile.contact) == (None, "wx_yongkang", None)
    renamed = db.session.scalar(select(Participant).where(Participant.code == existing))
    assert (renamed.name, renamed.county, renamed.priority) == ("改名的合作社", "信丰县", 2)
    assert db.session.get(ParticipantProfile, renamed.id).contact == "找村委会王主任"
    assert done.added[0] == f"P{max(int(c[1:]) for c in world.participants) + 1:05d}"


def test_a_bad_row_refuses_the_whole_file(world):
    rows = [
        HEADER,
        ("好合作社", "producer", "浙江省/义乌市", "tea", 1, None, None),
        ("", "farmer", "火星/奥林匹斯", "Green Tea!", 7, "x" * 121, "P99999"),
        ("重复", "merchant", "浙江省/义乌市", None, None, None, "P001"),
        ("重复", "merchant", "浙江省/义乌市", None, None, None, "p001"),
        ("公式", "merchant", '=HYPERLINK("http://x")', None, None, None, None),
    ]
    before = _count()
    with pytest.raises(SheetInvalid) as refused:
        sheet.import_participants("people.xlsx", xlsx(rows), world.users["admin"])
    found = [(e.row, e.column, e.code) for e in refused.value.errors]
    assert found == [
        (3, "code", "unknown_code"),
        (3, "name", "required"),
        (3, "kind", "bad_kind"),
        (3, "county", "unknown_place"),
        (3, "category", "bad_category"),
        (3, "priority", "out_of_range"),
        (3, "contact", "too_long"),
        (5, "code", "duplicate_code"),
        (6, "county", "formula"),
    ]
    db.session.rollback()
    assert _count() == before


def test_only_an_admin_imports_participants(world):
    data = xlsx([HEADER, ("x", "producer", "浙江省/义乌市", None, None, None, None)])
    with pytest.raises(Forbidden):
        sheet.import_participants("people.xlsx", data, world.users["op1"])


def test_the_template_imports_as_it_is(world):
    data = sheet.template_workbook()
    assert read_back(data)[0] == [c.title for c in sheet.COLUMNS]
    done = sheet.import_participants("template.xlsx", data, world.users["admin"])
    assert len(done.added) == 2 and not done.updated
