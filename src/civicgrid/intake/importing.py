"""The import engine moved to core (:mod:`civicgrid.core.importer`), where every Excel/CSV import uses it; the
names the 12345 import and its callers use are re-exported here."""

from __future__ import annotations

from civicgrid.core.bulk import SetBasedInserter  # noqa: F401 (intake's ledger rows use it)
from civicgrid.core.importer import (  # noqa: F401 (re-exported)
    DEFAULT_BATCH_SIZE,
    HEADER_SCAN_ROWS,
    OLE2_MAGIC,
    WARNINGS_KEY,
    XLSX_MAGIC,
    Binding,
    CellError,
    CellWarning,
    CleanRow,
    CsvReader,
    Field,
    OpenpyxlReader,
    Outcome,
    PreviewRow,
    RejectedRow,
    RowError,
    RowHandler,
    RunStats,
    TableReader,
    XlsReader,
    XlsxReader,
    as_text,
    detect_encoding,
    detect_format,
    detect_header_row,
    head_rows,
    normalise_header,
    open_table,
    parse_datetime,
    preview,
    run_rows,
    strip_controls,
    suggest_mapping,
    unexpected_reason,
    write_error_report,
)
