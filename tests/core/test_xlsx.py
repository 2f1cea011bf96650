"""The safe spreadsheet writer's CSV half (the xlsx half is tested through the download URLs)."""

from __future__ import annotations

from datetime import datetime

from civicgrid.core import clock
from civicgrid.core.xlsx import csv_row


def test_csv_cells_are_neutralised_and_numbers_stay_numbers():
    at = clock.aware(datetime(2026, 11, 26, 8, 35))
    got = csv_row(
        ["=1+1", "+86 138", "-2", "@SUM(A1)", "\tx", "\rx", "a\x01b\x00c", 5, -3.5, None, at, "正常"]
    )
    assert got == ["'=1+1", "'+86 138", "'-2", "'@SUM(A1)", "'\tx", "'\rx", "abc", 5, -3.5, None,
                   "2026-11-26 08:35:00", "正常"]  # fmt: skip
