"""目标考核 in a real browser: the 街道's 领导 opens the 1-10月 summary of the demo catalogue (the report's merged
header, 绿灯/攀高 counts), opens 地区生产总值 to see how its forecast was made, overrides it with a reason, enters a
month, and looks at the project board. Screenshots: docs/screenshots/goals-*.png."""

from __future__ import annotations

import random

import pytest

from civicgrid.accounts.roles import Role
from civicgrid.demo import goals as demo_goals
from civicgrid.goals.models import Actual, Indicator
from tests.conftest import REPO
from tests.factories import StreetFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = REPO / "docs" / "screenshots"


def test_summary_indicator_override_and_board(page, live_server, browser_login):
    street = StreetFactory()
    demo_goals.load_goals(street, random.Random(20260101), year=2026, month=10)
    leader = UserFactory(role=Role.LEADER, street=street, full_name="王主任")

    # 1. the summary table, as the report prints it
    browser_login(page, leader)
    page.click("[data-testid=nav-goals]")
    page.wait_for_selector("[data-testid=summary-table]")
    assert page.locator("[data-testid=summary-title]").inner_text().endswith("1-10月完成情况")
    head = page.locator("[data-testid=summary-table] thead").inner_text()
    for word in ("序号", "指标名称", "目标任务", "1-10月完成", "预计全年", "状态", "总量", "增幅"):
        assert word in head
    assert page.locator("[data-testid=summary-table] tbody tr").count() == 40
    green = int(page.locator("[data-testid=count-green]").inner_text())
    assert green == page.locator("tbody [data-light=green]").count() > 0
    assert "（截至9月）" in page.locator("[data-testid=line-10]").inner_text()  # its October is missing
    page.screenshot(path=str(SHOTS / "goals-summary.png"), full_page=True)

    # 2. one indicator: the method and inputs; a manual forecast needs a reason
    page.click("[data-testid=line-1] a")
    page.wait_for_selector("[data-testid=forecast]")
    assert "季节占比" in page.locator("[data-testid=forecast-method]").inner_text()
    assert "上年同期累计" in page.locator("[data-testid=forecast-inputs]").inner_text()
    page.fill("[data-testid=override-total]", "90")
    page.click("[data-testid=override-save]")
    page.wait_for_selector(".alert-danger, .invalid-feedback")
    assert "请填写人工预计的理由" in page.content()
    page.fill("[data-testid=override-total]", "90")
    page.fill("[data-testid=override-reason-input]", "四季度两个产业项目投产，预计超额完成")
    page.click("[data-testid=override-save]")
    page.wait_for_selector("[data-testid=override-reason]")
    assert page.locator("[data-testid=forecast-method]").inner_text() == "人工预计"
    assert page.locator("[data-testid=forecast-total]").inner_text() == "90"
    # …and the 1-11月 figures entered by hand
    page.select_option("[data-testid=actual-month]", "11")
    page.fill("[data-testid=actual-total]", "79.6")
    page.fill("[data-testid=actual-growth]", "6.4")
    page.click("[data-testid=actual-save]")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=actuals]').innerText.includes('1-11月')"
    )
    gdp = Indicator.objects.get(seq=1)
    assert Actual.objects.get(indicator=gdp, month=11).updated_by == leader
    page.screenshot(path=str(SHOTS / "goals-indicator.png"), full_page=True)

    # 3. the project board
    page.goto(f"{live_server.url}/goals/projects/?year=2026&month=10")
    page.wait_for_selector("[data-testid=project-card]")
    assert page.locator("[data-testid=project-card]").count() == 10
    summary = page.locator("[data-testid=board-summary]").inner_text()
    assert "共有项目 10 个" in summary and "时序进度 83.33%" in summary
    assert page.locator("[data-testid=lagging]").count() == int(
        page.locator("[data-testid=board-lagging]").inner_text()
    )
    assert page.locator("[data-testid=stages-elevator]").inner_text() == (
        "38台已投入使用，5台已完工待交付，11台正在施工，16台正在按程序申报"
    )
    page.screenshot(path=str(SHOTS / "goals-board.png"), full_page=True)
