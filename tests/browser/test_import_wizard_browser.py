"""The generic import wizard in a real browser: a 系统管理员 imports the State Council holiday notice.

From the holiday page of the admin ("从 Excel 导入") to the upload, the suggested mapping, a preview that shows
the bad row with its reason, the start and the result with its counts (htmx polling on PostgreSQL, where the
runner is a real thread). Screenshots: ``var/screenshots/import-wizard.png`` (mapping and preview; copied to
``docs/screenshots/``) and ``import-wizard-result.png``.
"""

from __future__ import annotations

from datetime import date, datetime

import openpyxl
import pytest

from civicgrid.accounts.roles import Role
from civicgrid.core.models import CalendarOverride

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def real_runner(settings, tmp_path):
    from django.db import connection

    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    settings.BACKGROUND_RUN_INLINE = connection.vendor == "sqlite"


def test_admin_imports_the_holiday_notice(
    page, live_server, browser_login, make_user, real_runner, tmp_path, screenshot_dir
):
    admin = make_user(Role.SYSTEM_ADMIN, is_staff=True)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["国务院办公厅关于2027年部分节假日安排的通知"])
    ws.append(["调整日期", "安排", "节日", "备注"])
    ws.append([datetime(2027, 10, 1), "放假", "国庆节", ""])
    ws.append(["2027-10-02", "放假", "国庆节", ""])
    ws.append(["2027-10-09", "加班", "国庆节", "写错的安排"])
    ws.append(["2027年10月10日", "调休上班", "国庆节调休", ""])
    path = tmp_path / "2027年国庆放假安排.xlsx"
    wb.save(path)

    csp_errors: list[str] = []
    page.on("console", lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None)

    browser_login(page, admin)
    page.goto(f"{live_server.url}/admin/core/calendaroverride/")
    page.click("[data-testid=calendar-import-link]")
    page.wait_for_selector("[data-testid=upload-form]")
    assert "工作日历调整导入" in page.inner_text("h1")
    page.set_input_files("input[type=file]", str(path))
    page.click("[data-testid=upload-form] button")

    page.wait_for_selector("[data-testid=mapping-form]")
    assert page.inner_text("[data-testid=header-row]") == "2"  # the title row is skipped
    assert page.locator("#id_map_date option:checked").inner_text() == "调整日期"
    assert page.locator("#id_map_is_workday option:checked").inner_text() == "安排"
    page.click("[data-testid=save-mapping]")
    page.wait_for_selector("[data-testid=preview-table]")
    assert page.inner_text("[data-testid=preview-ok]") == "3"
    assert page.inner_text("[data-testid=preview-bad]") == "1"
    bad = page.inner_text("[data-testid=preview-row-5]")
    assert "第 5 行" in bad and "上班/放假应为" in bad and "加班" in bad
    page.screenshot(path=str(screenshot_dir / "import-wizard.png"), full_page=True)

    page.click("[data-testid=start-import]")
    page.wait_for_selector("[data-testid=import-progress][data-status=partial]", timeout=30_000)
    assert page.inner_text("[data-testid=count-created]") == "3"
    assert page.inner_text("[data-testid=count-failed]") == "1"
    assert "第 5 行" in page.inner_text("[data-testid=error-rows]")
    assert page.locator("[data-testid=error-report-link]").is_visible()
    page.screenshot(path=str(screenshot_dir / "import-wizard-result.png"), full_page=True)

    assert dict(CalendarOverride.objects.values_list("date", "is_workday")) == {
        date(2027, 10, 1): False,
        date(2027, 10, 2): False,
        date(2027, 10, 10): True,
    }
    with page.expect_download() as info:
        page.click("[data-testid=error-report-link]")
    saved = tmp_path / "errors.xlsx"
    info.value.save_as(saved)
    rows = list(openpyxl.load_workbook(saved).active.iter_rows(values_only=True))
    assert rows[0][:2] == ("行号", "日期") and rows[1][0] == 5 and "加班" in rows[1][2]
    assert csp_errors == []
