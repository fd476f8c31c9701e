"""Workbooks for the import tests, written with openpyxl the way a person's Excel file is."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook, load_workbook


def xlsx(rows: Iterable[Sequence[Any]]) -> bytes:
    """A one-sheet workbook of ``rows`` (the first is the header); "=..." strings are formulas."""
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def read_back(data: bytes) -> list[list[Any]]:
    """The first sheet's values as written (formulas as their text)."""
    sheet = load_workbook(io.BytesIO(data), data_only=False).worksheets[0]
    return [[c.value for c in row] for row in sheet.iter_rows()]


def data_types(data: bytes) -> list[list[str]]:
    sheet = load_workbook(io.BytesIO(data), data_only=False).worksheets[0]
    return [[c.data_type for c in row] for row in sheet.iter_rows()]
