"""CSV files people open in a spreadsheet: every writer goes through ``csv_writer``.

A cell that starts with ``= + - @``, a tab or a carriage return is read by Excel, WPS and
LibreOffice as a formula (``=HYPERLINK(...)`` in a participant's name would run on the
operator's machine). OWASP's rule: such a cell gets a leading single quote, which spreadsheets
show as text and do not evaluate.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, TextIO

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value`` itself, or as text with a leading quote when a spreadsheet would evaluate it."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class SafeWriter:
    """``csv.writer`` whose rows are neutralised cell by cell."""

    def __init__(self, out: TextIO) -> None:
        self._writer = csv.writer(out, lineterminator="\r\n")

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([safe_cell(cell) for cell in row])


def csv_writer(out: TextIO) -> SafeWriter:
    """A CSV writer (CRLF lines, as spreadsheets expect) that never writes a formula."""
    return SafeWriter(out)
