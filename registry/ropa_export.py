"""The records of processing (registry/ropa.py) as files a spreadsheet opens: CSV and XLSX.

CSV: UTF-8 with a byte order mark, since Excel in Japan reads a CSV without one as Shift_JIS and
garbles every Japanese name; a header row, then the rows of every business asked for, which the
Business column tells apart; dates as YYYY-MM-DD, an empty cell for none. The foreign parties
are not a section of their own (a CSV has one table): they are the rows whose Country is not
JP, each with its Art. 28 basis.

XLSX (openpyxl): a sheet per business named by its code, header row frozen and bold, filters
on, column widths from the content (bounded), dates as dates; then a sheet "Foreign parties"
listing every business's parties outside Japan with their Art. 28 basis.

Registry texts are chosen by the registry's clients, and a spreadsheet runs a cell that starts
with "=" (and, in a CSV, "+", "-", "@", a tab or a carriage return) as a formula: CSV cells
starting so get a leading apostrophe, and every XLSX text cell is written as a string, which
Excel never evaluates. Only one business's rows are held at a time.
"""

import csv
import io
import unicodedata
from collections.abc import Iterable
from dataclasses import astuple
from datetime import date
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from registry.ropa import FOREIGN_COLUMNS, FOREIGN_HEADERS, HEADERS, COLUMNS, Records, Row

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FOREIGN_SHEET = "Foreign parties"
SHEET_NAME_LENGTH = 31  # Excel's most
SHEET_NAME_FORBIDDEN = str.maketrans({c: "_" for c in "[]:*?/\\"})
MIN_WIDTH, MAX_WIDTH = 8, 60  # characters: a column stays readable and fits on a screen
DATE_WIDTH = 12
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- CSV ------------------------------------------------------------------------------


def csv_cell(value) -> str:
    """A value as a CSV cell, a text that a spreadsheet would run as a formula defused."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_header() -> str:
    """The byte order mark and the header row."""
    return BOM + _csv_lines([[HEADERS[c] for c in COLUMNS]])


def csv_rows(rows: Iterable[Row]) -> str:
    return _csv_lines([csv_cell(v) for v in astuple(row)] for row in rows)


def _csv_lines(lines: Iterable[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out).writerows(lines)  # RFC 4180: CRLF line ends, quotes where needed
    return out.getvalue()


# --- XLSX -----------------------------------------------------------------------------


class XlsxWriter:
    """A workbook written a business at a time (`add`), then saved with the foreign parties."""

    def __init__(self):
        self.book = Workbook(write_only=True)
        self.taken: set[str] = {FOREIGN_SHEET.lower()}
        self.foreign: list[tuple] = []
        self.sheets = 0

    def add(self, records: Records) -> None:
        """The business's sheet; its foreign parties are kept for the last sheet."""
        title = sheet_title(records.business.code, self.taken)
        self.taken.add(title.lower())
        self.sheets += 1
        _write_sheet(self.book.create_sheet(title), [HEADERS[c] for c in COLUMNS],
                     [astuple(row) for row in records.rows])
        self.foreign.extend(astuple(party) for party in records.foreign)

    def save(self, target: str | BinaryIO) -> None:
        if not self.sheets:  # no business: an empty sheet still says what the columns would be
            _write_sheet(self.book.create_sheet("Records"), [HEADERS[c] for c in COLUMNS], [])
        _write_sheet(self.book.create_sheet(FOREIGN_SHEET), [FOREIGN_HEADERS[c] for c in FOREIGN_COLUMNS],
                     self.foreign)
        self.book.save(target)


def sheet_title(code: str, taken: set[str]) -> str:
    """A valid sheet name for the business code, unlike the (lower-cased) names `taken`."""
    base = code.translate(SHEET_NAME_FORBIDDEN).strip("'") or "business"
    title, n = base[:SHEET_NAME_LENGTH], 1
    while title.lower() in taken:
        n += 1
        suffix = f"~{n}"
        title = base[:SHEET_NAME_LENGTH - len(suffix)] + suffix
    return title


def _write_sheet(sheet, header: list[str], rows: list[tuple]) -> None:
    """Widths first (a streamed sheet writes its columns before its rows), then the rows."""
    for n, width in enumerate(_widths(header, rows), start=1):
        sheet.column_dimensions[get_column_letter(n)].width = width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{len(rows) + 1}"
    bold = Font(bold=True)
    sheet.append([_cell(sheet, title, font=bold) for title in header])
    for row in rows:
        sheet.append([_cell(sheet, value) for value in row])


def _cell(sheet, value, font: Font | None = None) -> WriteOnlyCell:
    if isinstance(value, str):
        cell = WriteOnlyCell(sheet, ILLEGAL_CHARACTERS_RE.sub("", value))
        cell.data_type = "s"  # never a formula nor an error code, whatever the text starts with
    else:
        cell = WriteOnlyCell(sheet, value)
    if font is not None:
        cell.font = font
    return cell


def _widths(header: list[str], rows: list[tuple]) -> list[float]:
    widths = [_width(title) for title in header]
    for row in rows:
        for n, value in enumerate(row):
            if value is not None:
                widths[n] = max(widths[n], DATE_WIDTH if isinstance(value, date) else _width(str(value)))
    return [min(MAX_WIDTH, max(MIN_WIDTH, w + 2)) for w in widths]


def _width(text: str) -> int:
    """Display width, a full-width (Japanese) character counting two; past MAX_WIDTH it no longer matters."""
    text = text[:MAX_WIDTH]
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
