"""A 12345 export with a title row imported in a real browser, then a large case export made in the background.

On PostgreSQL the runner is the real one (a thread per kind, heartbeat thread); SQLite's in-memory test database
(shared cache: table locks, no busy timeout) cannot take a second writing thread, so there the jobs run inline.
Screenshots of the mapping step (header-row picker), the finished import and the export page go to
``var/screenshots``.
"""

from __future__ import annotations

import openpyxl
import pytest

from civicgrid.accounts.roles import Role
from civicgrid.cases.models import Case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def real_runner(settings, tmp_path):
    from django.db import connection

    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    inline = connection.vendor == "sqlite"
    settings.INTAKE_RUN_INLINE = inline
    settings.BACKGROUND_RUN_INLINE = inline
    settings.CIVICGRID = {**settings.CIVICGRID, "EXPORT_SYNC_MAX_ROWS": 2}


def test_import_with_a_title_row_then_a_background_export(
    page, live_server, browser_login, make_user, real_runner, tmp_path, screenshot_dir
):
    from civicgrid.cases.models import Category
    from tests.cases.factories import CategoryFactory
    from tests.factories import ORIGIN_LAT, ORIGIN_LNG, STEP, BuildingFactory, DepartmentFactory, GridFactory

    if not Category.objects.filter(
        name="暴露垃圾", level="minor"
    ).exists():  # flushed by an earlier browser test
        CategoryFactory(name="暴露垃圾")
    grid = GridFactory(col=0, row=0, name="翠苑网格")
    BuildingFactory(
        grid=grid,
        name="翠苑五区2幢",
        address="西溪路513号",
        lng=ORIGIN_LNG + STEP / 2,
        lat=ORIGIN_LAT + STEP / 2,
    )
    DepartmentFactory(code="CGZD", name="城管中队")
    dispatcher = make_user(Role.DISPATCHER)

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["杭州市12345政务服务热线工单导出（2026年11月26日）"])
    ws.append(
        [
            "序号",
            "工单编号",
            "来电时间",
            "来电人",
            "问题分类",
            "诉求内容",
            "地址",
            "所属街道",
            "承办单位",
            "办理时限",
        ]
    )
    for i in range(1, 5):
        ws.append([i, f"HZ{i}", f"2026-11-26 0{i}:35:00", "李女士", "暴露垃圾", f"垃圾桶满溢 {i}", "西溪路513号", "示范街道", "城管中队", "2个工作日"])  # fmt: skip
    ws.append([5, "HZ5", "2026/11/26 09:02", "王", "暴露垃圾", "外地", "北京市朝阳区建国路1号", "朝阳街道", "城管中队", "2个工作日"])  # fmt: skip
    path = tmp_path / "12345导出.xlsx"
    wb.save(path)

    browser_login(page, dispatcher)
    page.goto(f"{live_server.url}/intake/upload/")
    page.set_input_files("input[type=file]", str(path))
    page.click("[data-testid=upload-form] button")
    page.wait_for_selector("[data-testid=header-row-picker]")
    assert page.locator("[data-testid=header-row]").inner_text() == "2"
    assert page.locator("#header_row option:checked").inner_text().startswith("第 2 行：序号｜工单编号")
    page.screenshot(path=str(screenshot_dir / "import-mapping-header-row.png"), full_page=True)
    page.click("[data-testid=mapping-form] button.btn-primary")
    page.wait_for_selector("[data-testid=preview-table]")
    assert "所属街道为「朝阳街道」" in page.inner_text("[data-testid=preview-table]")
    page.click("[data-testid=start-import]")
    page.wait_for_selector("[data-testid=import-progress][data-status=partial]", timeout=30_000)
    assert page.inner_text("[data-testid=count-created]") == "4"
    assert page.inner_text("[data-testid=count-failed]") == "1"
    page.screenshot(path=str(screenshot_dir / "import-finished-with-errors.png"), full_page=True)
    assert Case.objects.filter(source="hotline_12345").count() == 4

    page.goto(f"{live_server.url}/cases/")
    page.click("[data-testid=export]")
    page.wait_for_selector("[data-testid=export-progress]")
    page.wait_for_selector("[data-testid=export-download]", timeout=30_000)  # htmx polling brings the link
    page.screenshot(path=str(screenshot_dir / "export-ready.png"), full_page=True)
    with page.expect_download() as info:
        page.click("[data-testid=export-download]")
    assert info.value.suggested_filename.endswith(".xlsx")
    saved = tmp_path / "download.xlsx"
    info.value.save_as(saved)
    rows = list(openpyxl.load_workbook(saved).active.iter_rows(values_only=True))
    assert len(rows) == 1 + 4
