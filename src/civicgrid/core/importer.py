"""The reusable Excel/CSV importer: one import path serves every import (12345 orders, ledgers, registers, KPI
sheets …).

A client declares an :class:`ImportSpec`: its target :class:`Field` s (Chinese header synonyms, a parser/validator
per cell, required or not), the field that is the row key (idempotency), and either a per-row ``apply_row`` /
set-based ``apply_batch`` (the ledger :class:`~civicgrid.core.models.ImportLedger` then makes a re-upload of the
same file change nothing) or a full :class:`RowHandler` of its own (the 12345 import,
:mod:`civicgrid.intake.hotline`, which keeps its own ledger and job table). This module does everything else:

- opening the file without loading it: xlsx streamed cell by cell (:class:`XlsxReader`, an expat parser over the
  zipped sheet XML; ``engine="openpyxl"`` uses openpyxl ``read_only=True`` instead), CSV through the :mod:`csv`
  module over a text stream with the encoding detected (UTF-8 with or without BOM, else GB18030 ⊃ GBK);
- suggesting a column mapping from the header names;
- parsing and previewing rows with per-cell problems;
- running the import in batches: each batch in one transaction; when a batch fails in the database every row of
  it is retried alone in its own savepoint, so one bad row never half-writes and never stops the others;
- recording rejected rows and writing the downloadable error report (xlsx: 行号, 编号, 原因);
- the job around it (:func:`store_upload`, :func:`run_job`: background run with progress, checkpoint and resume
  through :mod:`civicgrid.core.background`), and for specs without a job table of their own the services over
  :class:`~civicgrid.core.models.ImportRun` (:func:`create_run`, :func:`set_run_header_row`,
  :func:`set_run_mapping`, :func:`preview_run`, :func:`start_run`, :func:`error_report_file`), the specs a user
  may run (:func:`importable_specs`) and each spec's blank template (:func:`template_workbook`). Their web pages
  are :mod:`civicgrid.core.import_views` (``/imports/``).
"""

from __future__ import annotations

import codecs
import csv
import itertools
import logging
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Protocol
from xml.etree import ElementTree
from xml.parsers import expat

from django.db import DatabaseError, transaction
from rapidfuzz import fuzz, process

from civicgrid.core import clock
from civicgrid.core.bulk import SetBasedInserter  # noqa: F401 (re-exported: intake's ledger rows use it)
from civicgrid.core.clock import SHANGHAI
from civicgrid.core.errors import ValidationFailed

log = logging.getLogger(__name__)

csv.field_size_limit(16 * 1024 * 1024)

XLSX_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
HEADER_SCAN_ROWS = 15
DEFAULT_BATCH_SIZE = 1000


# --- errors ---------------------------------------------------------------------------------------


class CellError(ValueError):
    """A cell value that cannot be used; the message is Chinese and names the problem."""


class RowError(ValueError):
    """A row that cannot be imported (the message is the reason shown in the error report)."""


class CellWarning(Exception):  # noqa: N818 (not an error: the row is imported, the cell is ignored)
    """A cell that is ignored (``value`` is used instead) while the row is still imported; the message is the
    Chinese warning recorded for that row."""

    def __init__(self, message: str, value: Any = None):
        super().__init__(message)
        self.value = value


WARNINGS_KEY = "_warnings"  # a handler's clean() may add warnings (list of str) under this key
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def strip_controls(text: str) -> str:
    """Text without control characters (a NUL cannot be stored in PostgreSQL, none belongs in a 工单)."""
    return _CONTROL.sub("", text) if _CONTROL.search(text) else text


# --- file formats and encodings -------------------------------------------------------------------


def detect_format(path: Path | str, original_name: str = "") -> str:
    """``xlsx``, ``xls`` (Excel 97–2003) or ``csv``, by content (an xlsx is a zip, an xls an OLE2 compound file);
    refuses anything else binary."""
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head.startswith(XLSX_MAGIC):
        return "xlsx"
    if head.startswith(OLE2_MAGIC):
        return "xls"
    if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ValidationFailed("无法识别的文件格式，请上传 .xlsx、.xls 或 .csv 文件", field="file")
    return "csv"


def detect_encoding(path: Path | str, *, sample_limit: int = 8 * 1024 * 1024) -> str:
    """``utf-8-sig`` (BOM), ``utf-16``, ``utf-8`` or ``gb18030`` (a superset of GBK/GB2312).

    Reads up to ``sample_limit`` bytes through an incremental UTF-8 decoder; the first invalid sequence decides
    for GB18030. Chinese text in GBK is almost never valid UTF-8, so a few kilobytes usually decide.
    """
    with open(path, "rb") as fh:
        head = fh.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")("strict")
        read = 0
        while read < sample_limit:
            chunk = fh.read(1024 * 1024)
            if not chunk:
                try:
                    decoder.decode(b"", final=True)
                except UnicodeDecodeError:
                    return "gb18030"
                break
            read += len(chunk)
            try:
                decoder.decode(chunk, final=False)
            except UnicodeDecodeError:
                return "gb18030"
    return "utf-8"


class TableReader(Protocol):
    headers: list[str]
    header_row: int  # the sheet row (or CSV record) number of the header

    def rows(self) -> Iterator[tuple[int, tuple]]: ...

    def count_rows(self) -> int | None: ...

    def close(self) -> None: ...


def _header_text(value) -> str:
    return "" if value is None else strip_controls(re.sub(r"\s+", " ", str(value)).strip())


def _blank(values: Sequence) -> bool:
    for v in values:  # noqa: SIM110 (a plain loop: once per row, no generator; the first cell usually decides)
        if v is not None and (not isinstance(v, str) or v.strip()):
            return False
    return True


SUBHEADER_MAX_LEN = 20


def _number_like(text: str) -> bool:
    return bool(re.fullmatch(r"[-+]?[\d,.]+%?", text))


def combine_two_row_header(header: Sequence[str], sub: Sequence) -> list[str] | None:
    """A merged two-row header read cell by cell (merged cells keep their value in the top-left cell only):

        序号 | 指标名称 | 目标任务 |      | 1-9月完成 |
             |          | 总量     | 增幅 | 总量      | 增幅

    gives 序号, 指标名称, 目标任务总量, 目标任务增幅, 1-9月完成总量, 1-9月完成增幅. ``sub`` qualifies only when
    every non-blank cell of it is a short non-numeric text lying under a group (a parent cell followed by blank
    header cells), at least one blank header cell is filled by it, and at least one labelled column (spanning
    both rows) is blank in it; otherwise (a data row, a second title) None."""
    texts = [_header_text(v) for v in sub]
    if any(v is not None and not isinstance(v, str) for v in sub):
        return None
    if any(t and (len(t) > SUBHEADER_MAX_LEN or _number_like(t)) for t in texts):
        return None
    width = max(len(header), len(texts))
    head = [*header, *[""] * (width - len(header))]
    texts = [*texts, *[""] * (width - len(texts))]
    if sum(1 for t in head if t) < 2:
        return None
    out, parent, in_group, filled_gap, spanning = [], "", [False] * width, False, False
    for j in range(width):
        if head[j]:
            parent = head[j]
            # a group starts here when the next header cell is blank and the row below fills it
            in_group[j] = j + 1 < width and not head[j + 1] and bool(texts[j + 1])
        else:
            in_group[j] = bool(parent)
            filled_gap = filled_gap or bool(texts[j] and parent)
        if texts[j] and not in_group[j]:
            return None
        if head[j] and not texts[j]:
            spanning = True
        out.append(f"{parent}{texts[j]}" if texts[j] else head[j])
    if not (filled_gap and spanning):
        return None
    while out and not out[-1]:
        out.pop()
    return out


def header_at(rows: Sequence[tuple[int, Sequence[str]]], header_row: int) -> list[str]:
    """The header texts of row ``header_row`` among :func:`head_rows`' rows, combined with the next row when the
    two form a merged two-row header (:func:`combine_two_row_header`)."""
    for i, (number, texts) in enumerate(rows):
        if number == header_row:
            if i + 1 < len(rows):
                combined = combine_two_row_header(texts, rows[i + 1][1])
                if combined:
                    return combined
            return list(texts)
    return []


def _take_header(
    reader, numbered: Iterator[tuple[int, Sequence]], header_row: int
) -> Iterator[tuple[int, Sequence]]:
    """Consume rows up to the header: row ``header_row``, or the first non-blank row when it is 0; the row
    below is consumed too when the two form a merged two-row header. Returns the rows left (the reader's
    iterator from then on)."""
    reader.headers, reader.header_row, reader.sub_header_row = [], 0, 0
    for number, values in numbered:
        if header_row and number < header_row:
            continue
        if header_row and number > header_row:
            break  # the chosen row is not in the file
        if header_row or not _blank(values):
            reader.headers = [_header_text(v) for v in values]
            reader.header_row = number
            while reader.headers and not reader.headers[-1]:
                reader.headers.pop()
            if not header_row:
                return numbered  # the first non-blank row (a title, perhaps): head_rows shows the rows as they are
            for n, below in numbered:
                if _blank(below):
                    continue
                combined = combine_two_row_header(reader.headers, below)
                if combined:
                    reader.headers, reader.sub_header_row = combined, n
                    return numbered
                return itertools.chain([(n, below)], numbered)
            return numbered
    return numbered


class CsvReader:
    """CSV over a text stream; the first non-blank line is the header. Row numbers count records (header = 1)."""

    def __init__(self, path: Path | str, encoding: str | None = None, header_row: int = 0):
        self.path = Path(path)
        self.encoding = encoding or detect_encoding(self.path)
        self._fh = open(self.path, encoding=self.encoding, errors="replace", newline="")  # noqa: SIM115 (closed by close())
        # the delimiter: the candidate most frequent on one of the first lines (a title line above the header
        # has none)
        head = [self._fh.readline() for _ in range(HEADER_SCAN_ROWS)]
        self.delimiter = max(",\t;|", key=lambda d: max(line.count(d) for line in head))
        if not any(line.count(self.delimiter) for line in head):
            self.delimiter = ","
        self._fh.seek(0)
        self._reader = csv.reader(self._fh, delimiter=self.delimiter)
        self._numbered = enumerate(self._reader, start=1)
        self._numbered = _take_header(self, self._numbered, header_row)

    def rows(self) -> Iterator[tuple[int, tuple]]:
        for number, row in self._numbered:
            if row and not _blank(row):
                yield number, tuple(row)

    def count_rows(self) -> int:
        """Data records after the header (a second streaming pass; blank lines not counted)."""
        n = 0
        with open(self.path, encoding=self.encoding, errors="replace", newline="") as fh:
            reader = csv.reader(fh, delimiter=self.delimiter)
            for number, row in enumerate(reader, start=1):
                if number > self.header_row and row and not _blank(row):
                    n += 1
        return n

    def close(self) -> None:
        self._fh.close()


_CELL_REF = re.compile(r"([A-Z]+)(\d+)")


def _column_index(ref: str) -> int:
    idx = 0
    for ch in ref:
        if "A" <= ch <= "Z":
            idx = idx * 26 + (ord(ch) - 64)
        else:
            break
    return idx - 1


_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


class XlsxReader:
    """Streams the first worksheet of an .xlsx: expat over the zipped XML, one row in memory at a time.

    openpyxl's ``read_only`` mode does the same job at about a fifth of the speed (≈5k rows/s for a 12-column
    sheet on the reference machine), which alone would cap an import far below the 20k rows/s target, so this
    reader parses the sheet itself and uses openpyxl only for its date-format and serial-date helpers. Shared
    strings (the workbook's string table) are held in memory as openpyxl does too.
    """

    def __init__(self, path: Path | str, header_row: int = 0):
        from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format

        self.path = Path(path)
        try:
            self._zip = zipfile.ZipFile(self.path)
        except zipfile.BadZipFile as exc:
            raise ValidationFailed("Excel 文件已损坏或不是 .xlsx 格式", field="file") from exc
        names = set(self._zip.namelist())
        self._sheet_path = self._first_sheet_path(names)
        self._shared: list[str] = self._read_shared_strings() if "xl/sharedStrings.xml" in names else []
        self._date_styles: set[int] = set()
        if "xl/styles.xml" in names:
            root = ElementTree.fromstring(self._zip.read("xl/styles.xml"))
            custom = {
                int(nf.get("numFmtId")): nf.get("formatCode", "")
                for nf in root.iterfind("m:numFmts/m:numFmt", _NS)
            }
            for i, xf in enumerate(root.iterfind("m:cellXfs/m:xf", _NS)):
                fmt_id = int(xf.get("numFmtId", "0"))
                code = custom.get(fmt_id) or BUILTIN_FORMATS.get(fmt_id, "")
                if code and is_date_format(code):
                    self._date_styles.add(i)
        self._dimension_rows: int | None = None
        self._iter = self._stream()
        self._iter = _take_header(self, self._iter, header_row)

    def _first_sheet_path(self, names: set[str]) -> str:
        try:
            wb = ElementTree.fromstring(self._zip.read("xl/workbook.xml"))
            sheet = wb.find("m:sheets/m:sheet", _NS)
            rid = sheet.get(f"{{{_REL_NS}}}id")
            rels = ElementTree.fromstring(self._zip.read("xl/_rels/workbook.xml.rels"))
            for rel in rels:
                if rel.get("Id") == rid:
                    target = rel.get("Target").lstrip("/")
                    return target if target.startswith("xl/") else f"xl/{target}"
        except (KeyError, AttributeError, ElementTree.ParseError):
            pass
        for name in sorted(names):
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                return name
        raise ValidationFailed("Excel 文件中没有工作表", field="file")

    def _read_shared_strings(self) -> list[str]:
        strings: list[str] = []
        buf: list[str] = []
        state = {"t": False, "phonetic": 0}

        def start(name, attrs):
            if name == "si":
                buf.clear()
            elif name == "t" and not state["phonetic"]:
                state["t"] = True
            elif name == "rPh":
                state["phonetic"] += 1

        def end(name):
            if name == "si":
                strings.append("".join(buf))
            elif name == "t":
                state["t"] = False
            elif name == "rPh":
                state["phonetic"] -= 1

        def chars(data):
            if state["t"]:
                buf.append(data)

        parser = expat.ParserCreate()
        parser.buffer_text = True
        parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = start, end, chars
        with self._zip.open("xl/sharedStrings.xml") as fh:
            parser.ParseFile(fh)
        return strings

    def _stream(self) -> Iterator[tuple[int, tuple]]:
        from openpyxl.utils.datetime import from_excel

        shared, date_styles = self._shared, self._date_styles
        columns: dict[str, int] = {}  # "AB" → 27, once per column letter
        done: list[tuple[int, tuple]] = []
        row: list = []
        text: list[str] = []
        cell = {"t": None, "s": 0, "col": 0, "on": False}
        row_state = {"number": 0}

        def start(name, attrs):
            if name == "c":
                cell["t"] = attrs.get("t")
                cell["s"] = int(attrs.get("s", 0))
                ref = attrs.get("r")
                if ref:
                    letters = ref.rstrip("0123456789")
                    col = columns.get(letters)
                    if col is None:
                        col = columns[letters] = _column_index(letters)
                    cell["col"] = col
                else:
                    cell["col"] = len(row)
                text.clear()
            elif name == "v" or name == "t":
                cell["on"] = True
            elif name == "row":
                row.clear()
                r = attrs.get("r")
                row_state["number"] = int(r) if r else row_state["number"] + 1
            elif name == "dimension":
                m = re.search(r":[A-Z]+(\d+)$", attrs.get("ref", ""))
                if m:
                    self._dimension_rows = int(m.group(1))

        def end(name):
            if name == "c":
                raw = "".join(text)
                kind = cell["t"]
                if kind == "s":
                    value = shared[int(raw)] if raw else None
                elif kind in ("inlineStr", "str", "e"):
                    value = raw
                elif kind == "b":
                    value = raw == "1"
                elif kind == "d":
                    value = datetime.fromisoformat(raw) if raw else None
                elif raw == "":
                    value = None
                elif cell["s"] in date_styles:
                    value = from_excel(float(raw))
                else:
                    num = float(raw)
                    value = int(num) if num.is_integer() and "E" not in raw and "." not in raw else num
                col = cell["col"]
                while len(row) < col:
                    row.append(None)
                row.append(value)
            elif name == "v" or name == "t":
                cell["on"] = False
            elif name == "row":
                done.append((row_state["number"], tuple(row)))

        def chars(data):
            if cell["on"]:
                text.append(data)

        parser = expat.ParserCreate()
        parser.buffer_text = True
        parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = start, end, chars
        with self._zip.open(self._sheet_path) as fh:
            while True:
                chunk = fh.read(256 * 1024)
                parser.Parse(chunk, not chunk)
                if done:
                    yield from done
                    done.clear()
                if not chunk:
                    break

    def rows(self) -> Iterator[tuple[int, tuple]]:
        for number, values in self._iter:
            if not _blank(values):
                yield number, values

    def count_rows(self) -> int:
        """Data rows after the header: from the sheet's <dimension> when present, else by counting <row> tags."""
        if self._dimension_rows:
            return max(0, self._dimension_rows - self.header_row)
        n, tail = 0, b""
        with self._zip.open(self._sheet_path) as fh:
            while chunk := fh.read(1024 * 1024):
                data = tail + chunk
                n += data.count(b"<row ") + data.count(b"<row>")
                tail = data[-5:]
                n -= tail.count(b"<row ") + tail.count(b"<row>")
            n += tail.count(b"<row ") + tail.count(b"<row>")
        return max(0, n - self.header_row)

    def close(self) -> None:
        self._zip.close()


class XlsReader:
    """Excel 97–2003 (.xls) through xlrd: the first worksheet; dates as datetimes, whole numbers as ints."""

    def __init__(self, path: Path | str, header_row: int = 0):
        import xlrd

        self.path = Path(path)
        try:
            self._book = xlrd.open_workbook(str(self.path), on_demand=True)
            self._sheet = self._book.sheet_by_index(0)
        except Exception as exc:  # xlrd raises many kinds (XLRDError, CompDocError, struct.error …)
            raise ValidationFailed(
                "无法读取旧版 Excel (.xls) 文件（可能已损坏或已加密），请另存为 .xlsx 后再上传", field="file"
            ) from exc
        self._iter = self._stream()
        self._iter = _take_header(self, self._iter, header_row)

    def _value(self, cell):
        import xlrd

        kind, value = cell.ctype, cell.value
        if kind in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_ERROR):
            return None
        if kind == xlrd.XL_CELL_DATE:
            try:
                return xlrd.xldate_as_datetime(value, self._book.datemode)
            except (ValueError, OverflowError, xlrd.xldate.XLDateError):
                return value
        if kind == xlrd.XL_CELL_NUMBER:
            return int(value) if float(value).is_integer() else value
        if kind == xlrd.XL_CELL_BOOLEAN:
            return bool(value)
        return value

    def _stream(self) -> Iterator[tuple[int, tuple]]:
        for r in range(self._sheet.nrows):
            yield r + 1, tuple(self._value(c) for c in self._sheet.row(r))

    def rows(self) -> Iterator[tuple[int, tuple]]:
        for number, values in self._iter:
            if not _blank(values):
                yield number, values

    def count_rows(self) -> int:
        return max(0, self._sheet.nrows - self.header_row)

    def close(self) -> None:
        self._book.release_resources()


class OpenpyxlReader:
    """The same interface over openpyxl ``read_only=True`` / ``iter_rows(values_only=True)`` (slower; kept as a
    reference implementation and for workbooks the fast reader cannot follow)."""

    def __init__(self, path: Path | str, header_row: int = 0):
        import openpyxl

        self.path = Path(path)
        self._wb = openpyxl.load_workbook(self.path, read_only=True, data_only=True)
        self._ws = self._wb.worksheets[0]
        self._iter = enumerate(self._ws.iter_rows(values_only=True), start=1)
        self._iter = _take_header(self, self._iter, header_row)

    def rows(self) -> Iterator[tuple[int, tuple]]:
        for number, values in self._iter:
            if not _blank(values):
                yield number, values

    def count_rows(self) -> int | None:
        max_row = self._ws.max_row
        return None if max_row is None else max(0, max_row - self.header_row)

    def close(self) -> None:
        self._wb.close()


def open_table(
    path: Path | str,
    *,
    file_format: str | None = None,
    encoding: str | None = None,
    engine: str = "fast",
    header_row: int = 0,
) -> TableReader:
    """A reader over the file whose header is row ``header_row`` (0: the first non-blank row)."""
    file_format = file_format or detect_format(path)
    if file_format == "xlsx":
        cls = OpenpyxlReader if engine == "openpyxl" else XlsxReader
        return cls(path, header_row=header_row)
    if file_format == "xls":
        return XlsReader(path, header_row=header_row)
    return CsvReader(path, encoding=encoding, header_row=header_row)


def head_rows(reader: TableReader, limit: int = HEADER_SCAN_ROWS) -> list[tuple[int, list[str]]]:
    """The first ``limit`` non-blank rows of a reader opened at its first non-blank row, as text (consumes it)."""
    out = [(reader.header_row, list(reader.headers))] if reader.headers else []
    for number, values in reader.rows():
        if len(out) >= limit:
            break
        texts = [
            _header_text(v if not isinstance(v, datetime) else v.strftime("%Y-%m-%d %H:%M")) for v in values
        ]
        while texts and not texts[-1]:
            texts.pop()
        out.append((number, texts))
    return out


def detect_header_row(rows: Sequence[tuple[int, Sequence[str]]], fields: Sequence[Field]) -> int:
    """The row that best matches the fields' names (most fields a header of it maps to; the first on a tie; a
    row with fewer than two non-blank cells — a title — never wins over one with more). 0 if none matches."""
    best, best_score = 0, (0, 0)
    for number, texts in rows:
        filled = sum(1 for t in texts if t)
        if filled < 2:
            continue
        mapped = suggest_mapping([t for t in texts if t], fields)
        exact = sum(1 for f in fields if normalise_header(mapped.get(f.name, "")) in _field_names(f))
        score = (len(mapped) + exact, filled)
        if score[0] and score > best_score:
            best, best_score = number, score
    return best


def _field_names(f: Field) -> set[str]:
    return {normalise_header(n) for n in (f.label, *f.aliases)}


# --- fields and mapping ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """A target field of an import. ``parse`` turns a raw cell into a value or raises :class:`CellError`."""

    name: str
    label: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    parse: Callable[[Any], Any] | None = None
    help: str = ""
    # the preview shows the cell as written, not the parsed value (a code, a tuple …: choice fields)
    show_raw: bool = False


_NORMALISE = re.compile(r"[\s\u3000（）()【】\[\]:：*＊_\-/·.、]+")


def normalise_header(text: str) -> str:
    return _NORMALISE.sub("", str(text or "")).lower()


def suggest_mapping(headers: Sequence[str], fields: Sequence[Field], *, cutoff: float = 75) -> dict[str, str]:
    """Target field → header, guessed from the header names: exact label/alias, then containment, then fuzzy.

    Each header is used at most once; fields with no plausible header are left out.
    """
    norm_headers = {h: normalise_header(h) for h in headers if h}
    taken: set[str] = set()
    result: dict[str, str] = {}

    def names(f: Field) -> list[str]:
        return [normalise_header(n) for n in (f.label, *f.aliases)]

    passes: list[Callable[[str, list[str]], bool]] = [
        lambda nh, ns: nh in ns,
        lambda nh, ns: any(len(n) >= 2 and (n in nh or nh in n) for n in ns) and len(nh) >= 2,
    ]
    for match in passes:
        for f in fields:
            if f.name in result:
                continue
            ns = names(f)
            for h, nh in norm_headers.items():
                if h not in taken and match(nh, ns):
                    result[f.name] = h
                    taken.add(h)
                    break
    for f in fields:
        if f.name in result:
            continue
        free = [h for h in norm_headers if h not in taken]
        if not free:
            break
        best = None
        for n in names(f):
            hit = process.extractOne(
                n, {h: norm_headers[h] for h in free}, scorer=fuzz.ratio, score_cutoff=cutoff
            )
            if hit and (best is None or hit[1] > best[1]):
                best = hit
        if best:
            result[f.name] = best[2]
            taken.add(best[2])
    return result


@dataclass
class Binding:
    """A mapping checked against a file's headers: (field, column index) pairs."""

    columns: list[tuple[Field, int]]

    @classmethod
    def bind(cls, mapping: dict[str, str], headers: Sequence[str], fields: Sequence[Field]) -> Binding:
        index = {h: i for i, h in enumerate(headers) if h}
        columns: list[tuple[Field, int]] = []
        missing: list[str] = []
        unknown: list[str] = []
        for f in fields:
            header = (mapping or {}).get(f.name) or ""
            if not header:
                if f.required:
                    missing.append(f.label)
                continue
            if header not in index:
                unknown.append(f"{f.label}→{header}")
                continue
            columns.append((f, index[header]))
        if missing:
            raise ValidationFailed(f"以下必填字段尚未指定对应列：{'、'.join(missing)}", field="mapping")
        if unknown:
            raise ValidationFailed(f"文件中找不到以下列：{'、'.join(unknown)}", field="mapping")
        return cls(columns)

    def parse(self, values: tuple) -> tuple[dict[str, Any], dict[str, str], dict[str, Any], dict[str, str]]:
        """(parsed values, problems per field name, raw values per field name, warnings per field name)."""
        parsed: dict[str, Any] = {}
        problems: dict[str, str] = {}
        raw: dict[str, Any] = {}
        warnings: dict[str, str] = {}
        n = len(values)
        control = _CONTROL.search
        # once per row: (name, column, required, label, parser) per field, not the Field attributes per cell
        plan = self.__dict__.get("_plan")
        if plan is None:
            plan = self.__dict__["_plan"] = [
                (f.name, i, f.required, f.label, f.parse) for f, i in self.columns
            ]
        for name, i, required, label, parse in plan:
            value = values[i] if i < n else None
            if isinstance(value, str):
                value = value.strip()
                if not value:
                    value = None
                elif control(value):  # strip_controls(), without a second search
                    value = _CONTROL.sub("", value) or None
            raw[name] = value
            if value is None:
                if required:
                    problems[name] = f"{label}为空"
                parsed[name] = None
                continue
            if parse is None:
                parsed[name] = value
                continue
            try:
                parsed[name] = parse(value)
            except CellError as exc:
                problems[name] = str(exc)
                parsed[name] = None
            except CellWarning as exc:
                warnings[name] = str(exc)
                parsed[name] = exc.value
        return parsed, problems, raw, warnings


# --- handlers -------------------------------------------------------------------------------------


@dataclass
class CleanRow:
    number: int
    ref: str
    values: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    """What a handler did with a row: ``created`` / ``updated`` / ``unchanged``, or ``error`` with a reason."""

    kind: str
    reason: str = ""
    placement: bool = False


class RowHandler(Protocol):
    fields: Sequence[Field]
    ref_field: str

    def clean(self, number: int, values: dict[str, Any]) -> dict[str, Any]:
        """Lookups and cross-field checks; raise :class:`RowError` to reject the row. No writes."""

    def describe(self, values: dict[str, Any]) -> dict[str, str]:
        """Human-readable resolution of a clean row for the preview (e.g. ``{"grid": "第3网格"}``)."""

    def write_batch(self, rows: list[CleanRow]) -> list[Outcome]:
        """Write clean rows (inside the caller's transaction); one outcome per row, in order.

        A handler whose ``pipelined`` attribute is true lets :func:`run_rows` call ``write_batch`` from a writer
        thread while ``clean`` runs on the next rows: ``write_batch`` must then read nothing ``clean`` changes."""


# --- preview --------------------------------------------------------------------------------------


@dataclass
class PreviewRow:
    number: int
    cells: list[dict[str, Any]]
    row_problem: str = ""
    resolved: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.row_problem and not any(c["problem"] for c in self.cells)


def preview(
    reader: TableReader, binding: Binding, handler: RowHandler, *, limit: int = 20
) -> list[PreviewRow]:
    out: list[PreviewRow] = []
    for number, values in reader.rows():
        parsed, problems, raw, warnings = binding.parse(values)
        cells = [
            {
                "field": f.name,
                "label": f.label,
                "raw": raw.get(f.name),
                "value": parsed.get(f.name),
                "problem": problems.get(f.name, ""),
                "warning": warnings.get(f.name, ""),
                "show_raw": f.show_raw,
            }
            for f, _ in binding.columns
        ]
        row = PreviewRow(number=number, cells=cells, warnings=list(warnings.values()))
        if not problems:
            try:
                clean = handler.clean(number, parsed)
                row.resolved = handler.describe(clean)
                row.warnings += clean.get(WARNINGS_KEY) or []
            except RowError as exc:
                row.row_problem = str(exc)
            except Exception as exc:  # a bug or an unforeseen value must not take the page down
                log.exception("preview of row %s failed", number)
                row.row_problem = unexpected_reason(exc)
        out.append(row)
        if len(out) >= limit:
            break
    return out


# --- the run --------------------------------------------------------------------------------------


@dataclass
class RunStats:
    processed: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    placements: int = 0
    warnings: int = 0

    @property
    def succeeded(self) -> int:
        return self.created + self.updated + self.unchanged


@dataclass
class RejectedRow:
    """A row for the report: rejected (``kind`` ``error``) or imported with a cell ignored (``warning``)."""

    number: int
    ref: str
    reason: str
    kind: str = "error"


def _join_problems(problems: dict[str, str]) -> str:
    return "；".join(problems.values())


def unexpected_reason(exc: BaseException) -> str:
    """The Chinese reason for a row that raised something no check foresaw (the details go to the log)."""
    detail = str(exc).splitlines()[0][:200] if str(exc) else ""
    return f"该行处理时发生意外错误（{exc.__class__.__name__}{'：' + detail if detail else ''}），未导入"


def run_rows(
    reader: TableReader,
    binding: Binding,
    handler: RowHandler,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_batch: Callable[[RunStats, list[RejectedRow], int], None] | None = None,
    resume_after: int = 0,
    stats: RunStats | None = None,
) -> RunStats:
    """Stream every row through parse → clean → batched write.

    Each row is all-or-nothing: whatever a row raises (a bad cell, a refused lookup, a database error, a bug), the
    row is reported with its number and a Chinese reason and the others go on. Each batch — its rows, and then
    ``on_batch(stats, rejected, last_row_number)`` which records progress, the rejected rows and the checkpoint —
    commits in one transaction, so a run killed at any point resumes exactly: pass the last checkpoint as
    ``resume_after`` (rows up to that number are skipped) and the totals recorded with it as ``stats``.

    PostgreSQL, a handler that allows it (``pipelined``) and a run that owns its transactions (not inside an
    atomic block): the batches are written by a writer thread, in order, while this thread reads and cleans the
    next batch — the database's work and the file's parsing overlap. At most one batch waits, so memory stays
    bounded; the first error in the writer stops the run and is raised here.
    """
    from django.db import connection

    stats = stats if stats is not None else RunStats()
    batch: list[CleanRow] = []
    rejected: list[RejectedRow] = []
    ref_field = handler.ref_field
    last = resume_after
    processed = failed = 0  # rows of the batch being gathered; counted into ``stats`` when it is written

    def write(package: _Package) -> None:
        stats.processed += package.processed
        stats.failed += package.failed
        rows, rows_rejected = package.rows, package.rejected
        # first the whole batch in one transaction (no savepoint: nothing precedes it in the transaction, so
        # a failing batch rolls the transaction back); only when that fails, every row alone in a savepoint
        try:
            with transaction.atomic():
                if rows:
                    try:
                        outcomes = handler.write_batch(rows)
                    except Exception as exc:
                        raise _BatchFailed from exc
                    _count(outcomes, rows, stats, rows_rejected)
                if on_batch:
                    on_batch(stats, rows_rejected, package.last)
        except _BatchFailed as failed_batch:
            log.info(
                "import batch of %d rows failed (%r); retrying row by row", len(rows), failed_batch.__cause__
            )
            with transaction.atomic():
                _write_rows(rows, handler, stats, rows_rejected)
                if on_batch:
                    on_batch(stats, rows_rejected, package.last)

    pipelined = (
        bool(getattr(handler, "pipelined", False))
        and connection.vendor == "postgresql"
        and not connection.in_atomic_block
    )
    writer = _Writer(write) if pipelined else None

    def flush():
        nonlocal batch, rejected, processed, failed
        package = _Package(batch, rejected, last, processed, failed)
        batch, rejected, processed, failed = [], [], 0, 0
        if writer is not None:
            writer.put(package)
        else:
            write(package)

    try:
        for number, values in reader.rows():
            if number <= resume_after:
                continue
            last = number
            processed += 1
            ref = ""
            try:
                parsed, problems, raw, warnings = binding.parse(values)
                ref = raw.get(ref_field)
                ref = "" if ref is None else str(ref)
                if problems:
                    raise RowError(_join_problems(problems))
                clean = handler.clean(number, parsed)
            except RowError as exc:
                failed += 1
                rejected.append(RejectedRow(number, ref, str(exc)))
            except Exception as exc:
                log.exception("intake row %s failed", number)
                failed += 1
                rejected.append(RejectedRow(number, ref, unexpected_reason(exc)))
            else:
                row_warnings = list(warnings.values()) + list(clean.get(WARNINGS_KEY) or [])
                batch.append(CleanRow(number, ref, clean, row_warnings))
            if len(batch) >= batch_size or len(rejected) >= batch_size:
                flush()
        flush()
    finally:
        if writer is not None:
            writer.close()  # waits for the batches handed over; raises the writer's error, if any
    return stats


@dataclass
class _Package:
    """One batch on its way to the database, with the counts of the rows read for it."""

    rows: list[CleanRow]
    rejected: list[RejectedRow]
    last: int
    processed: int
    failed: int


class _Writer:
    """The writer thread of a pipelined :func:`run_rows`: writes the packages it is handed, one at a time, in
    order, each in its own transaction on the thread's own connection (closed at the end)."""

    def __init__(self, write: Callable[[_Package], None]):
        import contextvars
        import queue
        import threading

        self._write = write
        self._queue: queue.Queue = queue.Queue(maxsize=1)
        self.error: BaseException | None = None
        # the caller's context (the acting user, the request id in the log) goes with the writes
        context = contextvars.copy_context()
        self._thread = threading.Thread(
            target=context.run, args=(self._run,), name="import-writer", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        from django.db import connections

        failed = False
        try:
            while True:
                package = self._queue.get()
                if package is None:
                    return
                if failed:  # after an error nothing more is written; the reader stops at its next hand-over
                    continue
                try:
                    self._write(package)
                except BaseException as exc:  # handed to the reading thread, which raises it
                    self.error, failed = exc, True
        finally:
            connections.close_all()

    def put(self, package: _Package) -> None:
        self._raise_error()
        self._queue.put(package)

    def close(self) -> None:
        """Wait for what was handed over; raise the writer's error (once)."""
        self._queue.put(None)
        self._thread.join()
        self._raise_error()

    def _raise_error(self) -> None:
        error, self.error = self.error, None
        if error is not None:
            raise error


def _count(outcomes: list[Outcome], rows: list[CleanRow], stats: RunStats, rejected: list[RejectedRow]):
    for row, outcome in zip(rows, outcomes, strict=True):
        if outcome.kind == "error":
            stats.failed += 1
            rejected.append(RejectedRow(row.number, row.ref, outcome.reason))
            continue
        if outcome.kind == "created":
            stats.created += 1
        elif outcome.kind == "updated":
            stats.updated += 1
        else:
            stats.unchanged += 1
        if outcome.placement:
            stats.placements += 1
        if row.warnings:
            stats.warnings += 1
            rejected.append(RejectedRow(row.number, row.ref, "；".join(row.warnings), "warning"))


class _BatchFailed(Exception):
    """The batch writer raised: the batch is retried row by row."""


def _write_rows(
    batch: list[CleanRow], handler: RowHandler, stats: RunStats, rejected: list[RejectedRow]
) -> None:
    """Every row alone, each in its own savepoint, so the culprit is isolated and the others are written."""
    for row in batch:
        try:
            with transaction.atomic():
                outcome = handler.write_batch([row])[0]
        except RowError as row_exc:
            outcome = Outcome("error", str(row_exc))
        except DatabaseError as row_exc:
            outcome = Outcome("error", f"写入数据库失败：{str(row_exc).splitlines()[0][:200]}")
        except Exception as row_exc:
            log.exception("import row %s failed while writing", row.number)
            outcome = Outcome("error", unexpected_reason(row_exc))
        _count([outcome], [row], stats, rejected)


# --- error report ---------------------------------------------------------------------------------


def write_error_report(path: Path, rows: Iterator[tuple], *, ref_label: str = "工单编号") -> int:
    """Write (row number, ref, reason[, kind]) rows to an xlsx through the safe writer (streamed; the cells hold
    text from the uploaded file, so nothing in them may become a formula). Returns the number of rows."""
    from civicgrid.core.xlsx import SheetWriter

    path.parent.mkdir(parents=True, exist_ok=True)
    writer = SheetWriter("错误行", [("行号", 8), (ref_label, 24), ("错误原因", 80), ("类型", 8)])
    for number, ref, reason, *kind in rows:
        writer.append([number, ref, reason, (kind[0] if kind else "") or "错误"])
    writer.save(path)
    return writer.rows


# --- small parsing helpers shared by handlers -----------------------------------------------------

_DT = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[\sT]+(\d{1,2})\s*[:时]\s*(\d{1,2})(?:\s*[:分]\s*(\d{1,2})(?:\.\d+)?)?\s*秒?)?$"
)
_DT_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?$")
_SERIAL = re.compile(r"^\d{5}(?:\.\d+)?$")
_ISO_SECONDS = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\Z", re.ASCII)


def parse_datetime(value, *, label: str, end_of_day: bool = False, tz=None) -> datetime:
    """A cell → aware datetime (Asia/Shanghai wall time for naive values). Dates alone are 00:00 (or 23:59:59)."""
    tz = tz or SHANGHAI
    # the common shape (YYYY-MM-DD HH:MM:SS, what exports write) through the C parser: the same result as the
    # regex below for exactly this shape; anything else (or an impossible date) takes the general path
    if type(value) is str and len(value) == 19 and _ISO_SECONDS.match(value):
        try:
            return datetime.fromisoformat(value).replace(tzinfo=tz)
        except ValueError:
            pass
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    if isinstance(value, date):
        t = time(23, 59, 59) if end_of_day else time(0, 0)
        return datetime.combine(value, t, tzinfo=tz)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 20000 < value < 80000:  # an Excel serial date that lost its format
            from openpyxl.utils.datetime import from_excel

            return from_excel(value).replace(tzinfo=tz)
        value = str(int(value)) if float(value).is_integer() else str(value)
    text = str(value).strip()
    if _SERIAL.match(text) and 20000 < float(text) < 80000:  # an Excel serial date that became text (CSV)
        from openpyxl.utils.datetime import from_excel

        return from_excel(float(text)).replace(microsecond=0, tzinfo=tz)
    if "时" in text:
        text = text.replace("时", ":").replace("分", ":").replace("秒", "").rstrip(":")
    m = _DT.match(text) or _DT_COMPACT.match(text)
    if m:
        y, mo, d, h, mi, s = m.groups()
        try:
            if h is None:
                if end_of_day:
                    return datetime(int(y), int(mo), int(d), 23, 59, 59, tzinfo=tz)
                return datetime(int(y), int(mo), int(d), tzinfo=tz)
            return datetime(int(y), int(mo), int(d), int(h), int(mi), int(s or 0), tzinfo=tz)
        except ValueError:
            pass
    raise CellError(f"{label}格式错误：{text[:40]}")


def as_text(value) -> str:
    if type(value) is str:  # the common case first
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value).strip()


# --- typed fields: each problem names the field -----------------------------------------------------


def _check(label: str, value, validators: Sequence[Callable[[Any], Any]]):
    from django.core.exceptions import ValidationError as DjangoValidationError

    for validate in validators:
        try:
            validate(value)
        except DjangoValidationError as exc:
            raise CellError(f"{label}：{'；'.join(str(m) for m in exc.messages)}") from exc
        except CellError as exc:
            raise CellError(str(exc) if label in str(exc) else f"{label}：{exc}") from exc
    return value


def text_field(
    name: str,
    label: str,
    aliases: Sequence[str] = (),
    *,
    required: bool = False,
    max_length: int | None = None,
    validators: Sequence[Callable[[Any], Any]] = (),
    help: str = "",
) -> Field:
    """Text (numbers read as text: ``12.0`` → ``"12"``); longer than ``max_length`` is an error naming the field."""

    def parse(value):
        text = as_text(value)
        if max_length is not None and len(text) > max_length:
            raise CellError(f"{label}过长（超过 {max_length} 个字符）")
        return _check(label, text, validators)

    return Field(name, label, tuple(aliases), required, parse, help)


def integer_field(
    name: str,
    label: str,
    aliases: Sequence[str] = (),
    *,
    required: bool = False,
    min_value: int | None = None,
    max_value: int | None = None,
    validators: Sequence[Callable[[Any], Any]] = (),
    help: str = "",
) -> Field:
    def parse(value):
        if isinstance(value, bool):
            raise CellError(f"{label}应为整数：{value}")
        try:
            number = float(as_text(value).replace(",", ""))
        except ValueError:
            raise CellError(f"{label}应为整数：{as_text(value)[:40]}") from None
        if not number.is_integer():
            raise CellError(f"{label}应为整数：{as_text(value)[:40]}")
        number = int(number)
        if min_value is not None and number < min_value:
            raise CellError(f"{label}不能小于 {min_value}：{number}")
        if max_value is not None and number > max_value:
            raise CellError(f"{label}不能大于 {max_value}：{number}")
        return _check(label, number, validators)

    return Field(name, label, tuple(aliases), required, parse, help)


def date_field(
    name: str,
    label: str,
    aliases: Sequence[str] = (),
    *,
    required: bool = False,
    validators: Sequence[Callable[[Any], Any]] = (),
    help: str = "",
) -> Field:
    """A calendar date (2026-10-01, 2026/10/1, 2026年10月1日, 20261001, an Excel date or serial)."""

    def parse(value):
        return _check(label, parse_datetime(value, label=label).date(), validators)

    return Field(name, label, tuple(aliases), required, parse, help)


def datetime_field(
    name: str,
    label: str,
    aliases: Sequence[str] = (),
    *,
    required: bool = False,
    validators: Sequence[Callable[[Any], Any]] = (),
    help: str = "",
) -> Field:
    def parse(value):
        return _check(label, parse_datetime(value, label=label), validators)

    return Field(name, label, tuple(aliases), required, parse, help)


def choice_field(
    name: str,
    label: str,
    choices: dict[str, Any],
    aliases: Sequence[str] = (),
    *,
    required: bool = False,
    help: str = "",
) -> Field:
    """One of ``choices`` (cell text → value; matched without spaces, case-insensitive)."""
    table = {normalise_header(k): v for k, v in choices.items()}

    def parse(value):
        key = normalise_header(as_text(value))
        if key not in table:
            raise CellError(f"{label}应为{'、'.join(choices)}之一：{as_text(value)[:40]}")
        return table[key]

    return Field(name, label, tuple(aliases), required, parse, help, show_raw=True)


def boolean_field(
    name: str,
    label: str,
    aliases: Sequence[str] = (),
    *,
    true: Sequence[str] = ("是", "Y", "yes", "true", "1"),
    false: Sequence[str] = ("否", "N", "no", "false", "0"),
    required: bool = False,
    help: str = "",
) -> Field:
    field_ = choice_field(name, label, {**dict.fromkeys(true, True), **dict.fromkeys(false, False)}, aliases,
                          required=required, help=help)  # fmt: skip

    def parse(value):
        if isinstance(value, bool):
            return value
        return field_.parse(value)

    return Field(name, label, tuple(aliases), required, parse, help)


# --- specs ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApplyContext:
    """What an ``apply_row`` / ``apply_batch`` gets besides the rows: the job (``None`` in a preview) and the
    person who started it (audit rows name them)."""

    spec: ImportSpec
    job: Any = None
    actor: Any = None


@dataclass(frozen=True)
class ImportSpec:
    """A kind of import, declared by the app that owns the target table.

    - ``name`` unique (``"core.calendar_overrides"``); ``label`` Chinese (shown on pages and in audit rows);
    - ``fields``: the columns (see :func:`text_field`, :func:`integer_field`, :func:`date_field`,
      :func:`choice_field`, :func:`boolean_field`, or :class:`Field` with any ``parse``);
    - ``key_field``: the field whose value identifies a row across files (``key_label`` heads that column in the
      error report);
    - ``clean(number, values) -> values``: lookups and cross-field checks, raising :class:`RowError` (no writes);
    - ``describe(values) -> {label: text}``: what the preview shows a clean row resolves to;
    - ``apply_row(values, ctx) -> object id`` (one row, inside its own savepoint) or
      ``apply_batch(rows, ctx) -> [object id, …]`` (a list of :class:`CleanRow`, set-based, inside the batch's
      transaction; a failing batch is retried row by row). Raise :class:`RowError` to refuse a row. The
      ledger (:class:`~civicgrid.core.models.ImportLedger`) skips rows whose key and content it has seen and
      counts created / updated;
    - or ``handler(job=, actor=) -> RowHandler`` instead of the three above, for a client with its own ledger;
    - ``can_import(user) -> bool`` who may run it;
    - ``row_key(values) -> str``: the row's identity for the ledger when it is not one column's value (a natural
      key over several fields, computed by ``clean``); ``key_field`` then only names the rows in the report;
    - ``ledger_handler``: a :class:`LedgerHandler` subclass for lookups that depend on the importing account.
    """

    name: str
    label: str
    fields: Sequence[Field]
    key_field: str
    key_label: str = "编号"
    clean: Callable[[int, dict[str, Any]], dict[str, Any]] | None = None
    describe: Callable[[dict[str, Any]], dict[str, str]] | None = None
    apply_row: Callable[[dict[str, Any], ApplyContext], Any] | None = None
    apply_batch: Callable[[list[CleanRow], ApplyContext], Sequence[Any]] | None = None
    handler: Callable[..., RowHandler] | None = None
    can_import: Callable[[Any], bool] = lambda user: False
    batch_size: int = DEFAULT_BATCH_SIZE
    row_key: Callable[[dict[str, Any]], str] | None = None
    # a LedgerHandler subclass whose clean/describe need the importing account (``self.ctx.actor``: lookups
    # scoped to its tier); the spec still runs on core's ImportRun and ledger, in the generic wizard
    ledger_handler: type | None = None
    key_help: str = ""  # how a row is identified across files, in words (the template's notes; with row_key)

    def __post_init__(self):
        names = {f.name for f in self.fields}
        if self.key_field not in names:
            raise ValueError(
                f"import spec {self.name}: key field {self.key_field!r} is not one of its fields"
            )
        if self.handler is None and (self.apply_row is None) == (self.apply_batch is None):
            raise ValueError(
                f"import spec {self.name}: give exactly one of apply_row / apply_batch (or handler)"
            )

    def row_handler(self, *, job=None, actor=None) -> RowHandler:
        if self.handler is not None:
            return self.handler(job=job, actor=actor)
        return (self.ledger_handler or LedgerHandler)(self, ApplyContext(spec=self, job=job, actor=actor))


SPECS: dict[str, ImportSpec] = {}


def register_spec(spec: ImportSpec) -> ImportSpec:
    SPECS[spec.name] = spec
    return spec


def get_spec(name: str) -> ImportSpec:
    try:
        return SPECS[name]
    except KeyError:
        raise ValidationFailed(f"未知导入类型：{name}", field="spec") from None


def row_hash(values: dict[str, Any]) -> str:
    """A digest of a clean row (what the ledger compares to skip an unchanged row)."""
    import hashlib
    import json

    payload = json.dumps(
        {k: v for k, v in values.items() if k != WARNINGS_KEY},
        sort_keys=True,
        default=str,
        ensure_ascii=False,
    )
    return hashlib.md5(payload.encode(), usedforsecurity=False).hexdigest()


class LedgerHandler:
    """The :class:`RowHandler` of a spec with ``apply_row`` / ``apply_batch``: the ledger makes it idempotent."""

    def __init__(self, spec: ImportSpec, ctx: ApplyContext):
        self.spec, self.ctx = spec, ctx
        self.fields = spec.fields
        self.ref_field = spec.key_field

    def clean(self, number: int, values: dict[str, Any]) -> dict[str, Any]:
        values = self.spec.clean(number, values) if self.spec.clean else values
        if values.get(self.spec.key_field) in (None, ""):  # the row key identifies the row across files
            raise RowError(f"{_label_of(self.spec, self.spec.key_field)}为空")
        return values

    def describe(self, values: dict[str, Any]) -> dict[str, str]:
        return self.spec.describe(values) if self.spec.describe else {}

    def write_batch(self, rows: list[CleanRow]) -> list[Outcome]:
        from civicgrid.core.models import ImportLedger

        spec = self.spec
        keys = [
            str(spec.row_key(row.values) if spec.row_key else row.values[spec.key_field])[:200]
            for row in rows
        ]
        known = {
            e.key: e
            for e in ImportLedger.objects.filter(spec=spec.name, key__in=set(keys)).select_for_update()
        }
        hashes = [row_hash(row.values) for row in rows]
        outcomes: list[Outcome | None] = [None] * len(rows)
        todo: list[int] = []
        seen = {key: entry.row_hash for key, entry in known.items()}
        for i, (key, digest) in enumerate(zip(keys, hashes, strict=True)):
            if seen.get(key) == digest:  # in the ledger, or earlier in this batch, with the same content
                outcomes[i] = Outcome("unchanged")
            else:
                todo.append(i)
                seen[key] = digest
        if spec.apply_batch is not None:
            ids = list(spec.apply_batch([rows[i] for i in todo], self.ctx)) if todo else []
            if len(ids) != len(todo):
                raise RuntimeError(
                    f"import spec {spec.name}: apply_batch returned {len(ids)} ids for {len(todo)}"
                )
        else:
            ids = []
            for i in todo:
                with transaction.atomic():
                    ids.append(spec.apply_row(rows[i].values, self.ctx))
        job_id = getattr(self.ctx.job, "pk", None) if isinstance(self.ctx.job, _run_model()) else None
        now = clock.now()
        new_entries: dict[str, ImportLedger] = {}
        for i, object_id in zip(todo, ids, strict=True):
            key, entry = keys[i], known.get(keys[i])
            object_id = "" if object_id is None else str(object_id)[:64]
            if entry is None and key not in new_entries:
                new_entries[key] = ImportLedger(
                    spec=spec.name,
                    key=key,
                    object_id=object_id,
                    row_hash=hashes[i],
                    job_id=job_id,
                    imported_at=now,
                )
                outcomes[i] = Outcome("created")
            else:
                entry = entry or new_entries[key]
                entry.object_id, entry.row_hash, entry.job_id = object_id, hashes[i], job_id
                entry.imported_at = now
                if entry.pk:
                    entry.save(update_fields=["object_id", "row_hash", "job", "imported_at"])
                outcomes[i] = Outcome("updated")
        if new_entries:
            ImportLedger.objects.bulk_create(list(new_entries.values()))
        return [o for o in outcomes if o is not None]


def _label_of(spec: ImportSpec, name: str) -> str:
    return next((f.label for f in spec.fields if f.name == name), name)


def _run_model():
    from civicgrid.core.models import ImportRun

    return ImportRun


# --- the job: upload, run, report -------------------------------------------------------------------

MAX_UPLOAD_BYTES = 512 * 1024 * 1024
ALLOWED_SUFFIXES = {".xlsx", ".xls", ".csv", ".txt"}


def imports_dir() -> Path:
    from django.conf import settings

    d = Path(settings.DATA_DIR) / "imports"
    d.mkdir(parents=True, exist_ok=True)
    return d


def job_file(job) -> Path:
    from django.conf import settings

    return Path(settings.DATA_DIR) / job.file_path


def open_job_table(job, *, engine: str = "fast") -> TableReader:
    return open_table(
        job_file(job),
        file_format=job.file_format,
        encoding=job.encoding or None,
        engine=engine,
        header_row=job.header_row,
    )


def store_upload(*, upload, fields: Sequence[Field]) -> dict[str, Any]:
    """Store an uploaded file under DATA_DIR/imports, find its header row (the row that best matches the fields'
    names, under any title rows) and suggest a mapping. Returns the job's field values; raises
    :class:`ValidationFailed` (nothing stored) for a file that cannot be used."""
    import uuid

    from django.conf import settings

    name = Path(getattr(upload, "name", "") or "upload").name[:200]
    suffix = Path(name).suffix.lower()
    if suffix not in ALLOWED_SUFFIXES:
        raise ValidationFailed("请上传 .xlsx、.xls 或 .csv 文件", field="file")
    if upload.size > MAX_UPLOAD_BYTES:
        raise ValidationFailed("文件过大（上限 512 MB）", field="file")
    rel = Path("imports") / f"{clock.local_now():%Y%m}" / f"{uuid.uuid4().hex}{suffix}"
    path = Path(settings.DATA_DIR) / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    try:
        file_format = detect_format(path, name)
        encoding = detect_encoding(path) if file_format == "csv" else ""
        reader = open_table(path, file_format=file_format, encoding=encoding or None)
        try:
            head = head_rows(reader)
        finally:
            reader.close()
        # a title row (or several) above the header: take the row that best matches the known column names
        header_row = detect_header_row(head, fields) or (head[0][0] if head else 0)
        headers = header_at(head, header_row)
    except ValidationFailed:
        path.unlink(missing_ok=True)
        raise
    except Exception as exc:  # a damaged workbook, unparsable XML …
        path.unlink(missing_ok=True)
        raise ValidationFailed(f"无法读取文件：{exc}", field="file") from exc
    if not any(headers):
        path.unlink(missing_ok=True)
        raise ValidationFailed("文件中没有表头行", field="file")
    return {
        "original_name": name,
        "file_path": str(rel),
        "file_format": file_format,
        "encoding": encoding,
        "file_size": path.stat().st_size,
        "header_row": header_row,
        "head_rows": [[n, texts[:60]] for n, texts in head],
        "headers": headers,
        "mapping": suggest_mapping(headers, fields),
    }


def clean_mapping(mapping: dict[str, str], headers: Sequence[str], fields: Sequence[Field]) -> dict[str, str]:
    """The mapping restricted to known fields, checked against the headers (raises naming what is missing)."""
    clean = {f.name: mapping[f.name] for f in fields if (mapping or {}).get(f.name)}
    Binding.bind(clean, headers, fields)
    return clean


def preview_job(job, handler: RowHandler, fields: Sequence[Field], *, limit: int = 20) -> list[PreviewRow]:
    reader = open_job_table(job)
    try:
        binding = Binding.bind(job.mapping, reader.headers, fields)
        return preview(reader, binding, handler, limit=limit)
    finally:
        reader.close()


def _stats_of(job) -> RunStats:
    return RunStats(
        processed=job.processed,
        created=job.created_count,
        updated=job.updated_count,
        unchanged=job.unchanged_count,
        failed=job.failed,
        placements=getattr(job, "placement_count", 0),
        warnings=job.warning_count,
    )


def run_job(
    job_model,
    error_model,
    pk: int,
    token: str = "",
    *,
    fields: Sequence[Field],
    handler_for: Callable[[Any], RowHandler],
    audit_action: str,
    key_label: str = "编号",
    batch_size: int = DEFAULT_BATCH_SIZE,
    engine: str = "fast",
    extra_counters: Callable[[RunStats], dict[str, Any]] = lambda stats: {},
):
    """Run one claimed (``running``) job of ``job_model`` (an :class:`~civicgrid.core.models.ImportJobBase`) to
    the end, resuming after its checkpoint; rows are reported in ``error_model`` (an
    :class:`~civicgrid.core.models.ImportRowErrorBase` with a ``job`` key). Each batch commits its rows, its
    reported rows, the counters and the checkpoint together. Bad rows never fail the job (they end it
    ``partial``); only what stops the whole file (unreadable, mapping gone) marks it ``failed``."""
    from django.conf import settings

    from civicgrid.core import audit, background, clock
    from civicgrid.core.models import ImportStatus

    job = job_model.objects.select_related("created_by").get(pk=pk)
    token = token or job.runner
    reader = None
    try:
        reader = open_job_table(job, engine=engine)
        binding = Binding.bind(job.mapping, reader.headers, fields)
        resume_after = job.checkpoint_row
        if resume_after:
            # rows after the checkpoint may have been reported by the run that died: drop those reports
            error_model.objects.filter(job_id=pk, row_number__gt=resume_after).delete()
            stats = _stats_of(job)
        else:
            error_model.objects.filter(job_id=pk).delete()
            stats = RunStats()
            total = reader.count_rows() or 0
            background.beat(job_model, pk, token, total=total)
        handler = handler_for(job)

        def on_batch(stats: RunStats, rejected: list[RejectedRow], last_row: int) -> None:
            # inside the batch's transaction: the rows, their reports, the counters and the checkpoint together
            background.beat(
                job_model,
                pk,
                token,
                processed=stats.processed,
                succeeded=stats.succeeded,
                created_count=stats.created,
                updated_count=stats.updated,
                unchanged_count=stats.unchanged,
                failed=stats.failed,
                warning_count=stats.warnings,
                checkpoint_row=last_row,
                **extra_counters(stats),
            )
            if rejected:
                error_model.objects.bulk_create(
                    [
                        error_model(
                            job_id=pk,
                            row_number=r.number,
                            source_ref=r.ref[:100],
                            reason=r.reason,
                            kind=r.kind,
                        )
                        for r in rejected
                    ]
                )

        stats = run_rows(
            reader,
            binding,
            handler,
            batch_size=batch_size,
            on_batch=on_batch,
            resume_after=resume_after,
            stats=stats,
        )
        report = ""
        if stats.failed or stats.warnings:
            report_path = (
                imports_dir() / "reports" / f"{job_model._meta.label_lower.replace('.', '_')}{pk}.xlsx"
            )
            if job_model._meta.label_lower == "intake.importjob":
                report_path = imports_dir() / "reports" / f"job{pk}_errors.xlsx"
            kinds = {"error": "错误", "warning": "提示"}
            write_error_report(
                report_path,
                (
                    (n, ref, reason, kinds.get(kind, kind))
                    for n, ref, reason, kind in error_model.objects.filter(job_id=pk)
                    .order_by("row_number", "id")
                    .values_list("row_number", "source_ref", "reason", "kind")
                    .iterator(chunk_size=5000)
                ),
                ref_label=key_label,
            )
            report = str(report_path.relative_to(Path(settings.DATA_DIR)))
        with transaction.atomic():
            done = job_model.objects.filter(pk=pk, runner=token, status=ImportStatus.RUNNING).update(
                status=ImportStatus.PARTIAL if stats.failed else ImportStatus.DONE,
                total=stats.processed,
                finished_at=clock.now(),
                error_report_path=report,
                runner="",
            )
            if done != 1:
                raise background.LostJob(pk)
            job.refresh_from_db()
            audit.record(
                actor=job.created_by,
                action=audit_action,
                obj=job,
                after={
                    "processed": stats.processed,
                    "created": stats.created,
                    "updated": stats.updated,
                    "unchanged": stats.unchanged,
                    "failed": stats.failed,
                    "warnings": stats.warnings,
                    **({"placements": stats.placements} if hasattr(job, "placement_count") else {}),
                },
            )
    except background.LostJob:
        raise
    except Exception as exc:
        log.exception("import job %s failed", pk)
        background.fail(job_model, pk, token, exc, prefix="导入中断：")
        job.refresh_from_db()
    finally:
        if reader is not None:
            reader.close()
    return job


# --- jobs of specs without a table of their own (core.ImportRun) -----------------------------------

RUN_KIND = "core.import"


def _require(spec: ImportSpec, actor) -> None:
    from civicgrid.core.errors import PermissionDenied

    if not spec.can_import(actor):
        raise PermissionDenied(f"无权导入{spec.label}")


def _editable(job) -> None:
    from civicgrid.core.errors import Conflict
    from civicgrid.core.models import ImportStatus

    if job.status != ImportStatus.DRAFT:
        raise Conflict("该导入任务已开始，不能再修改")


def create_run(*, actor, spec: ImportSpec | str, upload):
    """Upload step: store the file, read its header, suggest a mapping; an :class:`ImportRun` in 待确认."""
    from civicgrid.core import audit
    from civicgrid.core.models import ImportRun

    spec = get_spec(spec) if isinstance(spec, str) else spec
    _require(spec, actor)
    values = store_upload(upload=upload, fields=spec.fields)
    with transaction.atomic():
        job = ImportRun.objects.create(spec=spec.name, created_by=actor, **values)
        audit.record(
            actor=actor,
            action="core.import.upload",
            obj=job,
            after={
                "spec": spec.name,
                **{k: values[k] for k in ("original_name", "file_format", "header_row")},
            },
        )
    return job


def set_run_mapping(*, actor, job, mapping: dict[str, str]):
    """Mapping step: target field → column header (raises :class:`ValidationFailed` naming what is missing)."""
    from civicgrid.core import audit

    spec = get_spec(job.spec)
    _require(spec, actor)
    _editable(job)
    clean = clean_mapping(mapping, job.headers, spec.fields)
    with transaction.atomic():
        before = job.mapping
        job.mapping = clean
        job.save(update_fields=["mapping"])
        audit.record(actor=actor, action="core.import.mapping", obj=job, before={"mapping": before},
                     after={"mapping": clean})  # fmt: skip
    return job


def set_run_header_row(*, actor, job, header_row):
    """Mapping step: use another row of the file as the header (a title row was taken for it); its column names
    are re-read and the mapping suggested afresh."""
    from civicgrid.core import audit

    spec = get_spec(job.spec)
    _require(spec, actor)
    _editable(job)
    try:
        header_row = int(header_row)
    except (TypeError, ValueError):
        raise ValidationFailed("请选择表头所在行", field="header_row") from None
    if header_row < 1:
        raise ValidationFailed("表头行号必须大于 0", field="header_row")
    reader = open_job_table_at(job, header_row)
    try:
        headers = reader.headers
    finally:
        reader.close()
    if not any(headers):
        raise ValidationFailed(f"第 {header_row} 行是空行，不能作为表头", field="header_row")
    with transaction.atomic():
        before = {"header_row": job.header_row, "headers": job.headers}
        job.header_row = header_row
        job.headers = headers
        job.mapping = suggest_mapping(headers, spec.fields)
        job.save(update_fields=["header_row", "headers", "mapping"])
        audit.record(actor=actor, action="core.import.header_row", obj=job, before=before,
                     after={"header_row": header_row, "headers": headers})  # fmt: skip
    return job


def open_job_table_at(job, header_row: int) -> TableReader:
    return open_table(
        job_file(job), file_format=job.file_format, encoding=job.encoding or None, header_row=header_row
    )


def preview_run(*, actor, job, limit: int = 20) -> list[PreviewRow]:
    """Preview step: the first rows parsed and cleaned, each with its problems (nothing is written)."""
    spec = get_spec(job.spec)
    _require(spec, actor)
    return preview_job(job, spec.row_handler(job=None, actor=actor), spec.fields, limit=limit)


def start_run(*, actor, job):
    """Queue the run; it starts in the background when this transaction commits."""
    from civicgrid.core import audit, background
    from civicgrid.core.errors import Conflict
    from civicgrid.core.models import ImportRun, ImportStatus

    spec = get_spec(job.spec)
    _require(spec, actor)
    _editable(job)
    Binding.bind(job.mapping, job.headers, spec.fields)
    with transaction.atomic():
        if (
            ImportRun.objects.filter(pk=job.pk, status=ImportStatus.DRAFT).update(status=ImportStatus.QUEUED)
            != 1
        ):
            raise Conflict("该导入任务已开始")
        job.status = ImportStatus.QUEUED
        audit.record(actor=actor, action="core.import.start", obj=job, after={"mapping": job.mapping})
        transaction.on_commit(lambda: background.launch(RUN_KIND))
    return job


def visible_runs(*, user, spec: str | None = None):
    """The import runs ``user`` may see (:func:`civicgrid.core.selectors._import_run_scope`: the runs of the specs
    they may run, narrowed by the accounts app to the 街道 of their tier)."""
    from civicgrid.core.models import ImportRun

    qs = ImportRun.objects.restrict(user, "view")
    return qs.filter(spec=spec) if spec else qs


def importable_specs(*, user) -> list[ImportSpec]:
    """The specs without a job table of their own (``handler is None``) that ``user`` may run, by label."""
    if user is None or not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return []
    return sorted(
        (s for s in SPECS.values() if s.handler is None and s.can_import(user)), key=lambda s: s.label
    )


def template_workbook(spec: ImportSpec, target) -> None:
    """The blank spreadsheet users fill in: the first sheet has one header per field (its label, which the
    mapping recognises at once); a second sheet 填写说明 lists each column, whether it is required, the other
    column names that are recognised and the field's help."""
    from civicgrid.core.xlsx import SheetWriter

    title = re.sub(r"[\\/*?:\[\]]", "", spec.label) or "数据"  # characters a sheet name may not hold
    writer = SheetWriter(title, [(f.label, max(12, 2.2 * len(f.label) + 4)) for f in spec.fields])
    notes = writer.workbook.create_sheet("填写说明")
    notes.append(["列名", "是否必填", "也可用的列名", "说明"])
    for f in spec.fields:
        notes.append([f.label, "必填" if f.required else "选填", "、".join(f.aliases), f.help])
    notes.append([])
    notes.append(["第一张表的第一行是表头，从第二行起每行一条；表头上方可以有标题行。"])
    notes.append([spec.key_help or f"同一{spec.key_label}重复导入只会更新，内容相同的行不会重复写入。"])
    writer.save(target)


def get_run(*, user, pk: int):
    from civicgrid.core.errors import NotFound
    from civicgrid.core.models import ImportRun

    try:
        return visible_runs(user=user).get(pk=pk)
    except (ImportRun.DoesNotExist, ValueError, TypeError):
        raise NotFound("导入任务不存在或无权查看") from None


def error_report_file(job) -> Path | None:
    """The job's xlsx error report (行号, 编号, 错误原因, 类型) on disk, or ``None``."""
    from django.conf import settings

    if not job.error_report_path:
        return None
    path = Path(settings.DATA_DIR) / job.error_report_path
    return path if path.is_file() else None


def _run_spec_job(pk: int, token: str):
    from civicgrid.core.models import ImportRun, ImportRunError

    job = ImportRun.objects.select_related("created_by").get(pk=pk)
    spec = get_spec(job.spec)
    return run_job(
        ImportRun,
        ImportRunError,
        pk,
        token,
        fields=spec.fields,
        handler_for=lambda job: spec.row_handler(job=job, actor=job.created_by),
        audit_action="core.import.finish",
        key_label=spec.key_label,
        batch_size=spec.batch_size,
    )


def requeued_message(job) -> str:
    """The message stored on an import job requeued after its worker died."""

    seen = clock.to_local(job.heartbeat_at).strftime("%H:%M:%S") if job.heartbeat_at else "未知"
    where = f"，从第 {job.checkpoint_row + 1} 行继续" if job.checkpoint_row else ""
    return (
        f"上次导入中断（最后心跳 {seen}），已于 {clock.local_now():%Y-%m-%d %H:%M:%S} 自动恢复{where}"
        "（已导入的行不会重复）"
    )


def register_run_kind() -> None:
    """Called at ``CoreConfig.ready()``: :class:`ImportRun` jobs go through the background runner."""
    from civicgrid.core import background
    from civicgrid.core.models import ImportRun

    background.register(
        background.Kind(
            name=RUN_KIND,
            model=ImportRun,
            run=_run_spec_job,
            exclusive=False,
            requeued_message=requeued_message,
        )
    )
