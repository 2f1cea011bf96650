"""活动台账 in a real browser: the 街道's 领导 opens the demo year's ledger (totals per kind), records an activity with
the form, finds it with the filters and sees the totals move; then the 应急预案 register (one overdue) and the
志愿者·时间银行 register. Screenshots: docs/screenshots/activities-*.png."""

from __future__ import annotations

import random

import pytest

from civicgrid.accounts.roles import Role
from civicgrid.activities.models import Activity
from civicgrid.core import clock
from civicgrid.demo.activities import load_activities
from tests.conftest import REPO
from tests.factories import CommunityFactory, StreetFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = REPO / "docs" / "screenshots"


def test_record_an_activity_and_see_the_totals(page, live_server, browser_login):
    street = StreetFactory()
    for name in ("翠苑一区社区", "文华社区", "古荡湾社区"):
        CommunityFactory(street=street, name=name)
    load_activities(street, random.Random("demo:activities"), staff=None)
    leader = UserFactory(role=Role.LEADER, street=street, full_name="王主任")

    browser_login(page, leader)
    page.click("[data-testid=nav-activities]")
    page.wait_for_selector("[data-testid=activity-totals]")
    assert page.locator("[data-testid=total-count]").inner_text() == "150"
    assert page.locator("[data-testid=totals-by-kind] tbody tr").count() == 7
    page.screenshot(path=str(SHOTS / "activities-list.png"), full_page=True)

    today = clock.local_now().date().isoformat()
    page.goto(f"{live_server.url}/activities/?kind=drill&start={today}&end={today}")
    page.wait_for_selector("[data-testid=activity-totals]")
    before = int(page.locator("[data-testid=total-attendance]").inner_text())

    page.click("[data-testid=activity-new]")
    page.wait_for_selector("[data-testid=activity-form]")
    page.fill("[data-testid=activity-name]", "高层住宅消防疏散演练")
    page.select_option("[data-testid=activity-kind]", "drill")
    page.select_option("[data-testid=activity-community]", label="文华社区")
    page.fill("[data-testid=activity-place]", "文华社区3幢")
    page.fill("[data-testid=activity-sessions]", "2")
    page.fill("[data-testid=activity-attendance]", "136")
    page.fill("[data-testid=activity-households]", "58")
    page.click("[data-testid=activity-submit]")
    page.wait_for_selector(".alert-success")
    a = Activity.objects.get(name="高层住宅消防疏散演练")
    assert (a.community.name, a.sessions, a.attendance, a.created_by) == ("文华社区", 2, 136, leader)

    page.goto(f"{live_server.url}/activities/?kind=drill&start={today}&end={today}")
    page.wait_for_function(
        "n => document.querySelector('[data-testid=total-attendance]').innerText === String(n)",
        arg=before + 136,
    )
    assert "高层住宅消防疏散演练" in page.locator("[data-testid=activity-list]").inner_text()

    page.click("[data-testid=tab-plans]")
    page.wait_for_selector("[data-testid=plan-list]")
    assert page.locator("[data-testid=plan-overdue]").inner_text() == "1"
    assert page.locator("[data-testid=overdue-badge]").count() == 1
    page.screenshot(path=str(SHOTS / "activities-plans.png"), full_page=True)

    page.click("[data-testid=tab-volunteers]")
    page.wait_for_selector("[data-testid=volunteer-list]")
    page.locator("[data-testid=volunteer-list] tbody a").first.click()
    page.wait_for_selector("[data-testid=entry-form]")
    balance = page.locator("[data-testid=balance]").inner_text()
    page.fill("[data-testid=entry-hours]", str(float(balance) + 100))
    page.select_option("select[name=kind]", "spend")
    page.click("[data-testid=entry-submit]")
    page.wait_for_selector("[data-testid=entry-error]")
    assert "余额不足" in page.locator("[data-testid=entry-error]").inner_text()
    page.screenshot(path=str(SHOTS / "activities-volunteer.png"), full_page=True)


@pytest.fixture
def real_runner(settings, tmp_path):
    from django.db import connection

    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    settings.BACKGROUND_RUN_INLINE = connection.vendor == "sqlite"


def test_import_time_bank_records_and_see_the_overdraft_refused(
    page, live_server, browser_login, real_runner, tmp_path
):
    import openpyxl

    from civicgrid.activities import selectors, services

    street = StreetFactory()
    community = CommunityFactory(street=street, name="文华社区")
    leader = UserFactory(role=Role.LEADER, street=street, full_name="王主任")
    sun = services.create_volunteer(actor=leader, data=services.VolunteerData(
        name="孙丽", phone="13700001111", community=community.pk, registered_on="2026-01-05"))  # fmt: skip
    wb = openpyxl.Workbook()
    wb.active.append(["姓名", "联系电话", "社区", "日期", "类型", "小时", "说明"])
    wb.active.append(["孙丽", "13700001111", "文华社区", "2026-03-01", "存入", 6, "助老服务"])
    wb.active.append(["孙丽", "13700001111", "文华社区", "2026-03-02", "支取", 8, "兑换理发"])  # 8 > 6
    wb.active.append(["王五", "", "文华社区", "2026-03-03", "存入", 1, ""])  # no such volunteer
    path = tmp_path / "时间银行.xlsx"
    wb.save(path)

    browser_login(page, leader)
    page.goto(f"{live_server.url}/activities/volunteers/")
    page.click("[data-testid=entries-import]")
    page.wait_for_selector("[data-testid=upload-form]")
    page.set_input_files("input[type=file]", str(path))
    page.click("[data-testid=upload-form] button")
    page.wait_for_selector("[data-testid=mapping-form]")
    page.click("[data-testid=save-mapping]")
    page.wait_for_selector("[data-testid=preview-table]")
    assert "没有名为「王五」的志愿者" in page.inner_text("[data-testid=preview-row-4]")
    page.click("[data-testid=start-import]")
    page.wait_for_selector("[data-testid=import-progress][data-status=partial]", timeout=30_000)
    assert page.inner_text("[data-testid=count-created]") == "1"
    assert page.inner_text("[data-testid=count-failed]") == "2"
    errors = page.inner_text("[data-testid=error-rows]")
    assert "第 3 行" in errors and "余额不足：当前余额 6.0 小时，不能支取 8.0 小时" in errors
    assert selectors.balance(sun) == 6
