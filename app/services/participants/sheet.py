"""Admins import participants from an ``.xlsx`` sheet: every row checked first, then one write.

Columns: name, kind (producer/merchant), county (``province/county`` as the gazetteer names it,
e.g. ``浙江省/义乌市``, or a 12-digit adcode), category (optional, a short lowercase name such as
``tea``), priority (1 regular, 2 small business, 3 supported; blank 1), contact (optional: a
phone number becomes the profile's phone, a WeChat ID its WeChat, other text is kept as a note
the operators see) and, optionally, code: a row with a participant's code updates that
participant, a row without one adds a new participant (coded after the last, ``P00042``).
Any refused row refuses the file; nothing is written then.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.geo.gazetteer import GazetteerError, Place, gazetteer
from app.models import Participant, ParticipantProfile, User
from app.models.vocabulary import ParticipantKind, Region
from app.services.accounts import audit
from app.services.accounts.access import Forbidden, is_admin
from app.services.accounts.contact import ContactInvalid, check_wechat, normalise_phone
from app.services.spreadsheet.rows import (
    CellError,
    Column,
    RowReader,
    SheetInvalid,
    map_header,
    text,
    whole_number,
)
from app.services.spreadsheet.workbook import read_rows, write_workbook

COLUMNS = (
    Column("code", ("code", "编号"), required=False),
    Column("name", ("name", "名称")),
    Column("kind", ("kind", "类型")),
    Column("county", ("county", "县区", "所在县区")),
    Column("category", ("category", "品类"), required=False),
    Column("priority", ("priority", "优先级"), required=False),
    Column("contact", ("contact", "联系方式"), required=False),
)
KINDS = {
    "producer": ParticipantKind.PRODUCER,
    "生产者": ParticipantKind.PRODUCER,
    "农户": ParticipantKind.PRODUCER,
    "合作社": ParticipantKind.PRODUCER,
    "merchant": ParticipantKind.MERCHANT,
    "商家": ParticipantKind.MERCHANT,
    "企业": ParticipantKind.MERCHANT,
}
NOTES = (
    "code: blank adds a new participant, an existing code (P00042) updates it. kind: producer or"
    " merchant. county: province/county, e.g. 浙江省/义乌市. category: a short lowercase name "
    "(tea, citrus). priority: 1 regular, 2 small business, 3 supported. contact: a phone number "
    "or WeChat ID (other text is kept as a note).",
    "编号：留空为新增，填写已有编号（如 P00042）则更新该参与者。类型：生产者或商家。县区：省/县，如 "
    "浙江省/义乌市。品类：英文小写短名（tea、citrus）。优先级：1 普通，2 小微，3 重点帮扶。"
    "联系方式：手机号或微信号，其他文字作为备注保存。",
    "Any row with an error refuses the whole file; nothing is imported until every row is right.",
    "任何一行有误，整个文件都不导入。",
)
_CATEGORY = re.compile(r"[a-z][a-z0-9_]{0,39}")


@dataclass(frozen=True)
class ImportedParticipants:
    """What an import did: codes added and codes updated."""

    added: list[str]
    updated: list[str]


def _kind(value: Any) -> ParticipantKind:
    kind = KINDS.get(str(value).strip().lower())
    if kind is None:
        raise CellError("bad_kind", "write producer or merchant (生产者/商家)", value=str(value))
    return kind


def _place(value: Any) -> Place:
    raw = re.sub(r"\s*[/／]\s*", "/", str(value).strip())
    try:
        if raw.isdigit() and len(raw) == 12:
            return gazetteer().lookup_adcode(raw)
        return gazetteer().lookup(raw)
    except GazetteerError:
        raise CellError(
            "unknown_place",
            "no such county: write province/county, e.g. 浙江省/义乌市",
            value=str(value),
        ) from None


def _category(value: Any) -> str:
    category = str(value).strip().lower()
    if not _CATEGORY.fullmatch(category):
        raise CellError(
            "bad_category", "a short lowercase name such as tea or citrus", value=str(value)
        )
    return category


@dataclass
class _Row:
    number: int
    code: str | None
    values: dict[str, Any]


def check_rows(filename: str | None, data: bytes) -> list[_Row]:
    """Every row read and checked; raises ``SheetInvalid`` with all the errors."""
    positions, rows, errors = map_header(read_rows(filename, data), COLUMNS)
    if errors:
        raise SheetInvalid(errors)
    known = set(db.session.scalars(select(Participant.code)))
    seen: dict[str, int] = {}
    out = []
    for number, cells in rows:
        r = RowReader(number, cells, positions, errors)
        code = r.get("code", text(16), required=False)
        if code:
            code = code.upper()
            if code not in known:
                r.fail("code", "unknown_code", f"no participant {code}", value=code)
            elif code in seen:
                r.fail(
                    "code",
                    "duplicate_code",
                    f"{code} is also on row {seen[code]}",
                    value=code,
                    other=seen[code],
                )
            seen.setdefault(code, number)
        values = {
            "name": r.get("name", text(120)),
            "kind": r.get("kind", _kind),
            "place": r.get("county", _place),
            "category": r.get("category", _category, required=False),
            "priority": r.get("priority", whole_number(1, 3), required=False) or 1,
            "contact": r.get("contact", text(120), required=False),
        }
        if r.ok:
            out.append(_Row(number, code or None, values))
    if errors:
        raise SheetInvalid(errors)
    return out


def _next_codes(count: int) -> list[str]:
    codes = db.session.scalars(select(Participant.code).where(Participant.code.like("P%")))
    top = max((int(c[1:]) for c in codes if c[1:].isdigit()), default=0)
    return [f"P{top + i:05d}" for i in range(1, count + 1)]


def import_participants(filename: str | None, data: bytes, actor: User) -> ImportedParticipants:
    """Check every row; only if all are right, add and update the participants (one commit)."""
    if not is_admin(actor):
        raise Forbidden("only an administrator imports participants")
    rows = check_rows(filename, data)
    existing = {
        p.code: p
        for p in db.session.scalars(
            select(Participant).where(Participant.code.in_([r.code for r in rows if r.code]))
        )
    }
    fresh = iter(_next_codes(sum(1 for r in rows if not r.code)))
    added, updated = [], []
    for row in rows:
        participant = existing.get(row.code) if row.code else None
        if participant is None:
            participant = Participant(code=next(fresh))
            db.session.add(participant)
            added.append(participant.code)
        else:
            updated.append(participant.code)
        v = row.values
        place: Place = v["place"]
        participant.name, participant.kind = v["name"], v["kind"]
        participant.province, participant.county = place.province, place.name
        participant.region, participant.adcode = Region(place.region), place.adcode
        participant.lat, participant.lon = place.lat, place.lon
        participant.priority, participant.category = v["priority"], v["category"]
        db.session.flush()
        profile = db.session.get(ParticipantProfile, participant.id)
        if profile is None:
            profile = ParticipantProfile(participant_id=participant.id, categories=[])
            db.session.add(profile)
        profile.phone, profile.wechat, profile.contact = _split_contact(v["contact"])
        if profile.city is None:
            profile.city = place.city
    audit.record("participants.import", actor=actor, added=len(added), updated=len(updated))
    db.session.commit()
    return ImportedParticipants(added, updated)


def _split_contact(text: str | None) -> tuple[str | None, str | None, str | None]:
    """(phone, WeChat ID, note) from the sheet's one contact cell, checked as the profile
    page checks them; what is neither stays a free-text note."""
    if not text:
        return None, None, None
    try:
        return normalise_phone(text), None, None
    except ContactInvalid:
        pass
    try:
        return None, check_wechat(text), None
    except ContactInvalid:
        return None, None, text


def template_workbook() -> bytes:
    """A sheet to fill in: the columns and two example rows."""
    header = [c.title for c in COLUMNS]
    rows = [
        ["", "义乌市佛堂镇茶叶合作社", "producer", "浙江省/义乌市", "tea", 3, "13800000000"],
        ["", "永康五金贸易有限公司", "merchant", "浙江省/永康市", "home_goods", 1, "wx_yongkang"],
    ]
    return write_workbook("participants", header, rows, notes=NOTES)
