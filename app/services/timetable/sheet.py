"""A base's week of slots from an ``.xlsx`` sheet: every row checked first, then one write that
imports and publishes (through ``service.publish_week``, so the waiting list is offered the new
capacity as after any publishing).

One row is one slot: studio code, date, start, end and, optionally, whether it is prime time
(blank: the base's template's prime hours). A row is refused when a cell is empty or unreadable,
holds a formula, names a studio of another base, a day outside the week, a time that ends
before it starts or a length outside 30 to 480 minutes, or overlaps another row or a slot the
week already has. Any refused row refuses the file and nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.localtime import local_zone
from app.models import Hub, Studio, TimetableWeek, User
from app.models.vocabulary import WeekState
from app.services.accounts import audit
from app.services.accounts.access import Forbidden, can_operate_hub
from app.services.errors import ServiceError
from app.services.spreadsheet.rows import (
    Column,
    RowReader,
    SheetInvalid,
    a_date,
    map_header,
    minutes_of_day,
    text,
    yes_no,
)
from app.services.spreadsheet.workbook import read_rows, write_workbook
from app.services.timetable import service
from app.services.timetable.service import TimetableError

COLUMNS = (
    Column("studio", ("studio", "直播间", "studio code", "直播间编号")),
    Column("date", ("date", "日期")),
    Column("start", ("start", "开始", "开始时间")),
    Column("end", ("end", "结束", "结束时间")),
    Column("prime", ("prime", "黄金时段"), required=False),
)
NOTES = (
    "One row per slot. studio: a studio code of this base (e.g. B001-S1); date: YYYY-MM-DD in "
    "the week; start, end: HH:MM (24:00 is midnight); prime: yes/no, blank = the base's prime "
    "hours.",
    "每行一个时段。直播间：本基地的直播间编号（如 B001-S1）；日期：本周内的 YYYY-MM-DD；开始、结束："
    "HH:MM（24:00 为午夜）；黄金时段：是/否，留空按基地模板的黄金时段。",
    "Any row with an error refuses the whole file; nothing is imported until every row is right."
    " A good file imports and publishes the week.",
    "任何一行有误，整个文件都不导入；全部正确后导入并发布该周时刻表。",
)


class WeekRefused(ServiceError):
    """The week cannot take an import (published already, not a Monday, ...)."""

    status = 409


@dataclass(frozen=True)
class ImportedWeek:
    """What an import did: the week (now published) and how many slots it added."""

    week: TimetableWeek
    slots: int


@dataclass(frozen=True)
class _Row:
    number: int
    studio: Studio
    start: datetime
    end: datetime
    prime: bool


def _week_or_refusal(hub: Hub, week_start: date) -> TimetableWeek | None:
    try:
        service.ensure_planning_week(week_start)
    except TimetableError as e:
        raise WeekRefused(e.message, code=e.code) from None
    week = service.get_timetable_week(hub, week_start)
    if week is not None and week.state == WeekState.PUBLISHED:
        raise WeekRefused("this week is already published", code="published")
    return week


def _prime_hours(hub: Hub) -> tuple[int, int]:
    spec = service.describe_template(service.default_template(hub))
    return (spec.prime_start, spec.prime_end) if spec else (18 * 60, 22 * 60)


def check_rows(hub: Hub, week_start: date, filename: str | None, data: bytes) -> list[_Row]:
    """Every row of the sheet read and checked; raises ``SheetInvalid`` with all the errors."""
    week = service.get_timetable_week(hub, week_start)
    positions, rows, errors = map_header(read_rows(filename, data), COLUMNS)
    if errors:
        raise SheetInvalid(errors)
    studios = {s.code.upper(): s for s in hub.studios}
    taken: dict[int, list[tuple[datetime, datetime, str]]] = {}
    for slot in week.slots if week is not None else []:
        taken.setdefault(slot.studio_id, []).append((slot.start, slot.end, slot.code))
    prime_start, prime_end = _prime_hours(hub)
    zone, last_day = local_zone(), week_start + timedelta(days=6)
    out: list[_Row] = []
    for number, cells in rows:
        r = RowReader(number, cells, positions, errors)
        code = r.get("studio", text(32))
        studio = studios.get(code.upper()) if code else None
        if code and studio is None:
            r.fail(
                "studio",
                "unknown_studio",
                f"no studio {code} at {hub.code}",
                value=code,
                base=hub.code,
            )
        day = r.get("date", a_date)
        if day is not None and not week_start <= day <= last_day:
            r.fail(
                "date",
                "outside_week",
                f"{day} is not in the week of {week_start}",
                value=day.isoformat(),
                week=week_start.isoformat(),
            )
        start, end = r.get("start", minutes_of_day), r.get("end", minutes_of_day)
        prime = r.get("prime", yes_no, required=False)
        if start is not None and end is not None:
            if end <= start:
                r.fail("end", "end_before_start", "the end must come after the start")
            elif not 30 <= end - start <= 480:
                r.fail("end", "slot_length", "a slot lasts 30 to 480 minutes")
        if not r.ok or studio is None or day is None or start is None or end is None:
            continue
        midnight = datetime.combine(day, time(0), zone)
        row = _Row(
            number,
            studio,
            midnight + timedelta(minutes=start),
            midnight + timedelta(minutes=end),
            prime if prime is not None else (start < prime_end and end > prime_start),
        )
        for other in out:
            if other.studio.id == studio.id and other.start < row.end and row.start < other.end:
                r.fail(
                    "start",
                    "overlap_row",
                    f"overlaps row {other.number} of {studio.code}",
                    other=other.number,
                    studio=studio.code,
                )
                break
        for t_start, t_end, t_code in taken.get(studio.id, []):
            if t_start < row.end and row.start < t_end:
                r.fail(
                    "start",
                    "overlap_slot",
                    f"overlaps slot {t_code}, already in the week",
                    other=t_code,
                )
                break
        if r.ok:
            out.append(row)
    if errors:
        raise SheetInvalid(errors)
    return out


def import_timetable(
    hub: Hub, week_start: date, filename: str | None, data: bytes, actor: User
) -> ImportedWeek:
    """Check every row; only if all are right, add the slots to the week and publish it."""
    if not can_operate_hub(actor, hub):
        raise Forbidden("you do not operate this base", code="other_base")
    _week_or_refusal(hub, week_start)
    rows = check_rows(hub, week_start, filename, data)
    hub_id = hub.id
    for attempt in range(3):
        try:
            return _write(hub, week_start, rows, actor)
        except IntegrityError:  # two imports drew the same fresh slot codes: draw again
            db.session.rollback()
            if attempt == 2:
                raise
            again = db.session.get(Hub, hub_id)
            if again is None:
                raise WeekRefused("the base no longer exists", code="not_found") from None
            hub = again
            rows = check_rows(hub, week_start, filename, data)
    raise AssertionError("unreachable")


def _write(hub: Hub, week_start: date, rows: list[_Row], actor: User) -> ImportedWeek:
    week = _week_or_refusal(hub, week_start)
    if week is None:
        week = TimetableWeek(hub=hub, week_start=week_start, state=WeekState.DRAFT)
        db.session.add(week)
        db.session.flush()
    service.add_open_slots(week, [(r.studio, r.start, r.end, r.prime) for r in rows])
    audit.record(
        "timetable.import",
        actor=actor,
        subject=hub.code,
        week=week_start.isoformat(),
        slots=len(rows),
    )
    service.publish_week(week, actor)  # commits the slots and the publishing together
    return ImportedWeek(week, len(rows))


def template_workbook(hub: Hub, week_start: date) -> bytes:
    """A sheet to fill in: the base's template for that week, one row per studio and block
    (or one example row when the base has no template yet)."""
    header = [c.title for c in COLUMNS]
    template = service.default_template(hub)
    rows = []
    for studio in hub.studios:
        for block in template.blocks if template is not None else []:
            day = week_start + timedelta(days=block.weekday)
            rows.append(
                [
                    studio.code,
                    day,
                    _clock(block.start_minute),
                    _clock(block.end_minute),
                    "yes" if block.prime else "no",
                ]
            )
    if not rows and hub.studios:
        rows.append([hub.studios[0].code, week_start, "08:00", "10:00", "no"])
    return write_workbook("timetable", header, rows, notes=NOTES)


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"
