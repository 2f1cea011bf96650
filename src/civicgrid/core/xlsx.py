"""The one spreadsheet writer every export goes through (xlsx and CSV).

Exported text comes from users — anonymous residents (随手拍), 12345 callers, uploaded files — so every cell is
neutralised before it reaches a spreadsheet program:

- **formula injection**: text starting with ``=`` ``+`` ``-`` ``@``, a tab or a carriage return would be a live
  formula in Excel/WPS. In xlsx such text is written as an explicit string cell with the *quote prefix* style
  (Excel shows it as text, exactly as typed, and keeps it text when edited); in CSV (no cell types) it gets a
  leading ``'``. Real numbers (``int``/``float``/``Decimal``) stay numbers, dates stay dates.
- **characters illegal in XML** (control characters other than tab/LF/CR, lone surrogates, U+FFFE/U+FFFF)
  would make openpyxl refuse the whole file; they are removed.

:class:`SheetWriter` streams rows into a write-only workbook (memory stays flat); :func:`csv_value` /
:func:`csv_row` do the same job for CSV.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from civicgrid.core import clock

# XML 1.0 allows #x9 #xA #xD, #x20-#xD7FF, #xE000-#xFFFD, #x10000-#x10FFFF
ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
DATE_FORMAT = "yyyy-mm-dd"
MAX_CELL_CHARS = 32_767  # Excel's limit per cell


def clean_text(text: str) -> str:
    """``text`` without the characters XML (and so xlsx) cannot hold, cut to Excel's cell limit."""
    if ILLEGAL_XML.search(text):
        text = ILLEGAL_XML.sub("", text)
    return text[:MAX_CELL_CHARS]


def is_formula_like(text: str) -> bool:
    return text.startswith(FORMULA_START)


def plain_value(value: Any) -> Any:
    """A value openpyxl can store: aware datetimes become Asia/Shanghai wall time (Excel has no time zones),
    booleans, numbers and dates pass through, anything else becomes cleaned text."""
    if value is None or isinstance(value, bool | int | float | Decimal):
        return value
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = clock.to_local(value).replace(tzinfo=None)
        return value.replace(microsecond=0)
    if isinstance(value, date):
        return value
    return clean_text(str(value))


def csv_value(value: Any) -> Any:
    """One CSV cell: cleaned text, formula-like text prefixed with ``'``; numbers stay numbers."""
    value = plain_value(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, str) and is_formula_like(value):
        return "'" + value
    return value


def csv_row(values: Iterable[Any]) -> list[Any]:
    return [csv_value(v) for v in values]


class SheetWriter:
    """A streamed (write-only) workbook with one sheet, a styled header row and safe cells.

    ``columns``: (header, width) pairs. ``append`` takes one row of plain Python values.
    """

    def __init__(self, title: str, columns: Sequence[tuple[str, float]], *, freeze: str | None = "A2"):
        self.workbook = Workbook(write_only=True)
        self.sheet = self.workbook.create_sheet(clean_text(title)[:31] or "Sheet1")
        if freeze:
            self.sheet.freeze_panes = freeze
        for i, (_, width) in enumerate(columns, start=1):
            self.sheet.column_dimensions[get_column_letter(i)].width = width
        font, fill = Font(bold=True, color="FFFFFF"), PatternFill("solid", fgColor="1D4E89")
        header = []
        for name, _ in columns:
            cell = WriteOnlyCell(self.sheet, value=clean_text(str(name)))
            cell.data_type = "s"
            cell.font, cell.fill, cell.alignment = font, fill, Alignment(horizontal="center")
            header.append(cell)
        self.sheet.append(header)
        self.rows = 0

    def _cell(self, value: Any) -> Any:
        value = plain_value(value)
        if isinstance(value, str):
            if is_formula_like(value):
                cell = WriteOnlyCell(self.sheet, value=value)
                cell.data_type = "s"  # never a formula
                cell.quotePrefix = True  # shown and kept as text in Excel
                return cell
            return value
        if isinstance(value, datetime):
            cell = WriteOnlyCell(self.sheet, value=value)
            cell.number_format = DATETIME_FORMAT
            return cell
        if isinstance(value, date):
            cell = WriteOnlyCell(self.sheet, value=value)
            cell.number_format = DATE_FORMAT
            return cell
        return value

    def append(self, values: Iterable[Any]) -> None:
        self.sheet.append([self._cell(v) for v in values])
        self.rows += 1

    def save(self, target: str | IO[bytes]) -> None:
        self.workbook.save(target)
