"""A sheet's columns by name, its cells parsed, and the per-row error report.

A sheet's first non-empty row names its columns, in English or Chinese, in any order; a
:class:`Column` lists the names it answers to. Each cell parser returns a value or raises
:class:`CellError` with a stable code (the pages translate it, the API and the CLI show the
English sentence). An import collects every :class:`RowError` of every row first and raises
:class:`SheetInvalid` (nothing written) when there is any.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time
from typing import Any

from app.services.errors import ServiceError
from app.services.spreadsheet.workbook import Cell, SheetRows


@dataclass(frozen=True)
class Column:
    """A column of a sheet: its key, the header names it answers to, and whether it is needed."""

    key: str
    names: tuple[str, ...]
    required: bool = True

    @property
    def title(self) -> str:
        """The header a template writes: English / Chinese."""
        return f"{self.names[0]} / {self.names[1]}" if len(self.names) > 1 else self.names[0]


@dataclass(frozen=True)
class RowError:
    """One problem: the row as Excel numbers it, the column's key, a code, an English sentence,
    and the values the sentence names."""

    row: int | None
    column: str | None
    code: str
    message: str
    params: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class CellError(ValueError):
    """A cell that cannot be read as its column's kind."""

    def __init__(self, code: str, message: str, **params: Any) -> None:
        super().__init__(message)
        self.code, self.message, self.params = code, message, params


class SheetInvalid(ServiceError):
    """Rows with errors: the whole file is refused and nothing is written."""

    status = 422
    code = "sheet_invalid"

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = errors
        rows = len({e.row for e in errors})
        super().__init__(
            f"{len(errors)} error(s) in {rows} row(s); nothing was imported",
            detail={"errors": [e.as_dict() for e in errors]},
        )

    def one_line(self, limit: int = 5) -> str:
        """The report as one line (the CLI's stderr)."""
        parts = [
            (f"row {e.row}" if e.row else "file")
            + (f", {e.column}" if e.column else "")
            + f": {e.message}"
            for e in self.errors[:limit]
        ]
        more = len(self.errors) - limit
        return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def _header_key(text: Any) -> str:
    return re.sub(r"[\s_*（）()]+", "", str(text or "")).lower()


def map_header(
    sheet: SheetRows, columns: tuple[Column, ...]
) -> tuple[dict[str, int], list[tuple[int, list[Cell]]], list[RowError]]:
    """Column key → position, the data rows, and the header's errors (missing columns)."""
    if not sheet.rows:
        return {}, [], [RowError(None, None, "empty_sheet", "the sheet has no rows")]
    header_row, header = sheet.rows[0]
    found: dict[str, int] = {}
    names = {_header_key(n): c.key for c in columns for n in (*c.names, c.key)}
    for position, cell in enumerate(header):
        candidates = [cell.value or "", *str(cell.value or "").split("/")]
        key = next((names[k] for k in map(_header_key, candidates) if k in names), None)
        if key is not None and key not in found:
            found[key] = position
    errors = [
        RowError(
            header_row,
            c.key,
            "missing_column",
            f"the column {c.names[0]!r} is missing",
            {"column": c.names[0]},
        )
        for c in columns
        if c.required and c.key not in found
    ]
    data = sheet.rows[1:]
    if not data and not errors:
        errors.append(RowError(None, None, "empty_sheet", "the sheet has no rows"))
    return found, data, errors


class RowReader:
    """The cells of one data row by column key, collecting the row's errors."""

    def __init__(
        self, number: int, cells: list[Cell], positions: dict[str, int], errors: list[RowError]
    ) -> None:
        self.number, self.cells, self.positions, self.errors = number, cells, positions, errors

    def raw(self, key: str) -> Cell:
        position = self.positions.get(key)
        if position is None or position >= len(self.cells):
            return Cell(None)
        return self.cells[position]

    def get(self, key: str, parse: Callable[[Any], Any], *, required: bool = True) -> Any:
        """The parsed cell, or None after recording the error (empty, formula, unreadable)."""
        cell = self.raw(key)
        if cell.formula:
            self.fail(key, "formula", "formulas are not accepted; type the value itself")
            return None
        if cell.value is None:
            if required:
                self.fail(key, "required", "this cell is empty")
            return None
        try:
            return parse(cell.value)
        except CellError as e:
            self.fail(key, e.code, e.message, **e.params)
            return None

    def fail(self, key: str | None, code: str, message: str, **params: Any) -> None:
        self.errors.append(RowError(self.number, key, code, message, params))

    @property
    def ok(self) -> bool:
        return not any(e.row == self.number for e in self.errors)


# --- cell parsers ---------------------------------------------------------------------------


def text(max_length: int) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        out = str(value).strip()
        if len(out) > max_length:
            raise CellError("too_long", f"at most {max_length} characters", n=max_length)
        return out

    return parse


def a_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise CellError("bad_date", "not a date (write YYYY-MM-DD)", value=str(value)) from None


def minutes_of_day(value: Any) -> int:
    """A time of day as minutes from midnight; ``24:00`` is the day's end (1440)."""
    if isinstance(value, datetime):
        value = value.time()
    if isinstance(value, time):
        return value.hour * 60 + value.minute
    match = re.fullmatch(r"(\d{1,2})[:：](\d{2})", str(value).strip())
    if match:
        hours, minutes = int(match.group(1)), int(match.group(2))
        if (hours < 24 and minutes < 60) or (hours, minutes) == (24, 0):
            return hours * 60 + minutes
    raise CellError("bad_time", "not a time of day (write HH:MM)", value=str(value))


_YES = {"yes", "y", "true", "1", "是", "对", "x", "✓"}
_NO = {"no", "n", "false", "0", "否", "不", ""}


def yes_no(value: Any) -> bool:
    key = str(value).strip().lower()
    if isinstance(value, bool):
        return value
    if key in _YES:
        return True
    if key in _NO:
        return False
    raise CellError("bad_yes_no", "write yes or no (是/否)", value=str(value))


def whole_number(low: int, high: int) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        try:
            number = float(str(value).strip())
        except ValueError:
            number = float("nan")
        if not number.is_integer() or not low <= number <= high:
            raise CellError(
                "out_of_range", f"a whole number from {low} to {high}", low=low, high=high
            )
        return int(number)

    return parse
