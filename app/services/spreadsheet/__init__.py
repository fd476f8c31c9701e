"""Spreadsheets in and out: CSV and ``.xlsx`` files people open in Excel or WPS.

cells     the one rule for a cell a spreadsheet would run as a formula (``safe_cell``), CSV writer
workbook  reading an uploaded ``.xlsx`` defensively (size, type, macros, formulas) and writing one
rows      header columns by name (English or Chinese), cell parsers, the per-row error report
"""

from app.services.spreadsheet.cells import FORMULA_STARTS, csv_writer, safe_cell

__all__ = ["FORMULA_STARTS", "csv_writer", "safe_cell"]
