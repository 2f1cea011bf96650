"""The generic streamed import engine: one import path serves every Excel/CSV import.

A source-specific *handler* (see :mod:`civicgrid.intake.hotline`) declares its target :class:`Field` s, cleans one
row (lookups, cross-field checks) and writes a batch of clean rows. This module does everything else:

- opening the file without loading it: xlsx streamed cell by cell (:class:`XlsxReader`, an expat parser over the
  zipped sheet XML; ``engine="openpyxl"`` uses openpyxl ``read_only=True`` instead), CSV through the :mod:`csv`
  module over a text stream with the encoding detected (UTF-8 with or without BOM, else GB18030 ⊃ GBK);
- suggesting a column mapping from the header names;
- parsing and previewing rows with per-cell problems;
- running the import in batches: each batch in one transaction; when a batch fails in the database every row of
  it is retried alone in its own savepoint, so one bad row never half-writes and never stops the others;
- recording rejected rows and writing the downloadable error report (xlsx: 行号, 工单编号, 原因).
"""

from __future__ import annotations

import codecs
import csv
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
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def _take_header(reader, numbered: Iterator[tuple[int, Sequence]], header_row: int) -> None:
    """Consume rows up to the header: row ``header_row``, or the first non-blank row when it is 0."""
    reader.headers, reader.header_row = [], 0
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
            return


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
        _take_header(self, self._numbered, header_row)

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
        _take_header(self, self._iter, header_row)

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
                cell["col"] = _column_index(ref) if ref else len(row)
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
        _take_header(self, self._iter, header_row)

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
        _take_header(self, self._iter, header_row)

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
        for f, i in self.columns:
            value = values[i] if i < n else None
            if isinstance(value, str):
                value = strip_controls(value.strip())
                if not value:
                    value = None
            raw[f.name] = value
            if value is None:
                if f.required:
                    problems[f.name] = f"{f.label}为空"
                parsed[f.name] = None
                continue
            if f.parse is None:
                parsed[f.name] = value
                continue
            try:
                parsed[f.name] = f.parse(value)
            except CellError as exc:
                problems[f.name] = str(exc)
                parsed[f.name] = None
            except CellWarning as exc:
                warnings[f.name] = str(exc)
                parsed[f.name] = exc.value
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
        """Write clean rows (inside the caller's transaction); one outcome per row, in order."""


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
    """
    stats = stats if stats is not None else RunStats()
    batch: list[CleanRow] = []
    rejected: list[RejectedRow] = []
    ref_field = handler.ref_field
    last = resume_after

    def flush():
        with transaction.atomic():
            if batch:
                _write(batch, handler, stats, rejected)
            if on_batch:
                on_batch(stats, rejected, last)
        batch.clear()
        rejected.clear()

    for number, values in reader.rows():
        if number <= resume_after:
            continue
        last = number
        stats.processed += 1
        ref = ""
        try:
            parsed, problems, raw, warnings = binding.parse(values)
            ref = raw.get(ref_field)
            ref = "" if ref is None else str(ref)
            if problems:
                raise RowError(_join_problems(problems))
            clean = handler.clean(number, parsed)
        except RowError as exc:
            stats.failed += 1
            rejected.append(RejectedRow(number, ref, str(exc)))
        except Exception as exc:
            log.exception("intake row %s failed", number)
            stats.failed += 1
            rejected.append(RejectedRow(number, ref, unexpected_reason(exc)))
        else:
            row_warnings = list(warnings.values()) + list(clean.get(WARNINGS_KEY) or [])
            batch.append(CleanRow(number, ref, clean, row_warnings))
        if len(batch) >= batch_size or len(rejected) >= batch_size:
            flush()
    flush()
    return stats


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


def _write(batch: list[CleanRow], handler: RowHandler, stats: RunStats, rejected: list[RejectedRow]) -> None:
    try:
        with transaction.atomic():
            outcomes = handler.write_batch(batch)
    except Exception as exc:
        # isolate the culprit: every row alone, each in its own savepoint
        log.info("intake batch of %d rows failed (%r); retrying row by row", len(batch), exc)
        for row in batch:
            try:
                with transaction.atomic():
                    outcome = handler.write_batch([row])[0]
            except RowError as row_exc:
                outcome = Outcome("error", str(row_exc))
            except DatabaseError as row_exc:
                outcome = Outcome("error", f"写入数据库失败：{str(row_exc).splitlines()[0][:200]}")
            except Exception as row_exc:
                log.exception("intake row %s failed while writing", row.number)
                outcome = Outcome("error", unexpected_reason(row_exc))
            _count([outcome], [row], stats, rejected)
        return
    _count(outcomes, batch, stats, rejected)


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
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value).strip()
