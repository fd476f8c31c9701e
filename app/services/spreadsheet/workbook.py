"""Reading an uploaded ``.xlsx`` defensively and writing one that never carries a formula.

An upload is refused before openpyxl parses it when it is larger than ``XLSX_MAX_BYTES``, not
an Office Open XML workbook (any other zip, an ``.xls``, a CSV renamed), macro-enabled, or when
its parts would unpack to more than :data:`MAX_UNPACKED` bytes (a zip bomb). openpyxl then reads
it read-only, without external links, its XML through ``defusedxml`` (no entity expansion).
Formulas are never evaluated: a formula cell is read as its text and refused row by row.
Every written cell goes through :func:`safe_cell`, the rule the CSV exports share.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from app.services.errors import ServiceError
from app.services.spreadsheet.cells import safe_cell
from config import settings

#: The most a workbook's parts may unpack to (a 5 MB sheet of text unpacks to ~50 MB).
MAX_UNPACKED = 100 * 1024 * 1024
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class FileRefused(ServiceError):
    """The upload is not a workbook we read (wrong type, too large, unreadable)."""

    status = 415
    code = "not_xlsx"


class FileTooLarge(FileRefused):
    status = 413
    code = "too_large"


@dataclass(frozen=True)
class Cell:
    """One cell as read: its value (text stripped, None when empty) and whether it held a
    formula (then ``value`` is the formula's text, never its result)."""

    value: Any
    formula: bool = False


@dataclass(frozen=True)
class SheetRows:
    """The first sheet's non-empty rows: (row number as Excel shows it, cells)."""

    rows: list[tuple[int, list[Cell]]]


def check_upload(filename: str | None, data: bytes) -> None:
    """Refuse what is not a modest, macro-free ``.xlsx`` before parsing it."""
    limit = settings().XLSX_MAX_BYTES
    if len(data) > limit:
        raise FileTooLarge(
            f"the file is larger than {limit // 1024} KB", detail={"max_bytes": limit}
        )
    if not (filename or "").lower().endswith(".xlsx"):
        raise FileRefused("only .xlsx workbooks are accepted")
    if not data:
        raise FileRefused("the file is empty", code="empty_file")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError):
        raise FileRefused("this is not an .xlsx workbook") from None
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise FileRefused("this is not an .xlsx workbook")
    if any(n.lower().endswith("vbaproject.bin") for n in names):
        raise FileRefused("macro-enabled workbooks are not accepted", code="macro")
    if unpacked > MAX_UNPACKED or len(names) > 10_000:
        raise FileTooLarge("the workbook unpacks to too much data")


def _cell(value: Any, data_type: str | None) -> Cell:
    if data_type == "f":  # read-only mode gives the formula's text, never a computed result
        return Cell(str(value), formula=True)
    if isinstance(value, str):
        value = value.strip() or None
    return Cell(value)


def read_rows(filename: str | None, data: bytes, *, max_rows: int | None = None) -> SheetRows:
    """The first sheet's non-empty rows, checked and read without evaluating anything."""
    from openpyxl import load_workbook

    check_upload(filename, data)
    max_rows = max_rows or settings().XLSX_MAX_ROWS
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False, keep_links=False)
    except Exception:  # openpyxl raises many kinds on a damaged file
        raise FileRefused("the workbook cannot be read", code="unreadable") from None
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            raise FileRefused("the workbook has no sheet", code="unreadable")
        rows: list[tuple[int, list[Cell]]] = []
        for number, row in enumerate(sheet.iter_rows(), start=1):
            cells = [_cell(c.value, getattr(c, "data_type", None)) for c in row]
            if all(c.value is None for c in cells):
                continue
            if len(rows) > max_rows:  # the header plus max_rows
                raise FileTooLarge(
                    f"the sheet has more than {max_rows} rows",
                    code="too_many_rows",
                    detail={"max_rows": max_rows},
                )
            rows.append((number, cells))
    except FileRefused:
        raise
    except Exception:
        raise FileRefused("the workbook cannot be read", code="unreadable") from None
    finally:
        book.close()
    return SheetRows(rows)


def _written(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)  # Excel has no time zones: local wall time
    return safe_cell(value)


def write_workbook(
    title: str,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    notes: Sequence[str] = (),
) -> bytes:
    """One sheet: a bold frozen header, then ``rows``; text that would run as a formula is
    quoted; dates and times get readable formats. ``notes`` go on a second sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.worksheet.worksheet import Worksheet

    book = Workbook()
    sheet = book.active
    if not isinstance(sheet, Worksheet):  # a new workbook opens on one worksheet
        raise TypeError("a new workbook has no active worksheet")
    sheet.title = title[:31]
    sheet.append([safe_cell(h) for h in header])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    widths = [len(str(h)) + 2 for h in header]
    for row in rows:
        values = [_written(v) for v in row]
        sheet.append(values)
        for k, value in enumerate(values[: len(widths)]):
            widths[k] = max(widths[k], min(40, len(str(value)) + 2))
    for k, width in enumerate(widths):
        sheet.column_dimensions[_column_letter(k)].width = width
    for row_cells in sheet.iter_rows(min_row=2):
        for cell in row_cells:
            if isinstance(cell.value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
            elif isinstance(cell.value, date):
                cell.number_format = "yyyy-mm-dd"
            elif isinstance(cell.value, time):
                cell.number_format = "hh:mm"
    if notes:
        help_sheet = book.create_sheet("README")
        for line in notes:
            help_sheet.append([safe_cell(line)])
        help_sheet.column_dimensions["A"].width = 100
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)
