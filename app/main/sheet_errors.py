"""Translated messages for a spreadsheet's refusals: each per-row error and each refused file.

The services report stable codes with the values they name (``app.services.spreadsheet.rows``);
people read these, in their language; the API sends English and Chinese side by side.
"""

from __future__ import annotations

from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _

from app.services.errors import ServiceError
from app.services.spreadsheet.rows import RowError

COLUMN_LABELS = {
    "studio": lambda: _("Studio"),
    "date": lambda: _("Date"),
    "start": lambda: _("Start"),
    "end": lambda: _("End"),
    "prime": lambda: _("Prime time"),
    "code": lambda: _("Code"),
    "name": lambda: _("Name"),
    "kind": lambda: _("Kind"),
    "county": lambda: _("County"),
    "category": lambda: _("Category"),
    "priority": lambda: _("Priority"),
    "contact": lambda: _("Contact"),
}


def _row_messages(p: dict[str, Any]) -> dict[str, str]:
    return {
        "missing_column": _("The column “%(column)s” is missing.", column=p.get("column", "")),
        "empty_sheet": _("The sheet has no rows to import."),
        "required": _("This cell is empty."),
        "formula": _("Formulas are not accepted; type the value itself."),
        "too_long": _("At most %(n)s characters.", n=p.get("n", "")),
        "bad_date": _("Not a date; write it as YYYY-MM-DD."),
        "bad_time": _("Not a time of day; write it as HH:MM."),
        "bad_yes_no": _("Write yes or no (是/否)."),
        "out_of_range": _(
            "A whole number from %(low)s to %(high)s.", low=p.get("low", ""), high=p.get("high", "")
        ),
        "unknown_studio": _(
            "Base %(base)s has no studio %(value)s.", base=p.get("base", ""), value=p.get("value")
        ),
        "outside_week": _(
            "%(value)s is not in the week of %(week)s.", value=p.get("value"), week=p.get("week")
        ),
        "end_before_start": _("The end must come after the start."),
        "slot_length": _("A slot lasts 30 minutes to 8 hours."),
        "overlap_row": _("Overlaps row %(other)s of the same studio.", other=p.get("other")),
        "overlap_slot": _("Overlaps slot %(other)s, already in this week.", other=p.get("other")),
        "bad_kind": _("Write producer or merchant (生产者/商家)."),
        "unknown_place": _("No such county; write province/county, e.g. 浙江省/义乌市."),
        "bad_category": _("A short lowercase name such as tea or citrus."),
        "unknown_code": _("There is no participant %(value)s.", value=p.get("value")),
        "duplicate_code": _(
            "%(value)s is also on row %(other)s.", value=p.get("value"), other=p.get("other")
        ),
    }


def row_message(error: RowError) -> str:
    """The person-facing sentence of one row's error."""
    return _row_messages(error.params).get(error.code) or error.message


def column_label(key: str | None) -> str:
    label = COLUMN_LABELS.get(key or "")
    return label() if label else (key or "")


def file_message(error: ServiceError) -> str:
    """The person-facing sentence for a refused file or week."""
    messages = {
        "not_xlsx": _("Only .xlsx workbooks (Excel, WPS) are accepted."),
        "empty_file": _("The file is empty."),
        "macro": _("Workbooks with macros are not accepted; save it as a plain .xlsx."),
        "unreadable": _("The workbook cannot be read; save it again as .xlsx."),
        "too_large": _("The file is too large."),
        "too_many_rows": _(
            "The sheet has too many rows (at most %(n)s).", n=error.detail.get("max_rows", "")
        ),
        "published": _("This week is already published; its timetable can no longer be imported."),
        "not_monday": _("A week starts on a Monday."),
    }
    return messages.get(error.code) or error.message


def both_languages(errors: list[RowError]) -> list[dict[str, Any]]:
    """The row errors for the API: English message plus Chinese ``message_zh``."""
    with force_locale("zh_CN"):
        chinese = [row_message(e) for e in errors]
    return [{**e.as_dict(), "message_zh": zh} for e, zh in zip(errors, chinese, strict=True)]
