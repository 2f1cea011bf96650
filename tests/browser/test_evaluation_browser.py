"""红黑榜 in a real browser: the 指挥中心 drafts June's 网格员 board and submits it, the 值班长 publishes it, and the
网格员 reads the published board (no buttons) and downloads its Excel; the 值班长 sees the 城市长效管理考核 chart
(ECharts) beside the platform's own 三率."""

from __future__ import annotations

import pytest

from civicgrid.evaluation import services
from civicgrid.evaluation.models import Board
from tests.evaluation.conftest import June

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_draft_submit_publish_and_read_the_board(browser, page, live_server, browser_login):
    w = June().build()
    street = w.grid.community.street
    services.save_settings(
        actor=w.leader, street=street,
        values={"w_response": 30, "w_resolve": 35, "w_satisfaction": 35, "min_cases": 1, "board_size": 1},
    )  # fmt: skip
    services.save_assessment(actor=w.leader, street=street, month="2026-06", score="93.5", rank=2, total=12)

    # 1. the desk drafts and submits
    browser_login(page, w.dispatcher)
    page.click("[data-testid=nav-evaluation]")
    page.wait_for_selector("[data-testid=draft-form]")
    page.select_option("[data-testid=draft-kind]", "grid_worker")
    page.fill("[data-testid=draft-month]", "2026-06")
    page.click("[data-testid=draft-submit]")
    page.wait_for_selector("[data-testid=board-state]")
    assert page.locator("[data-testid=board-state]").inner_text() == "草拟"
    assert w.grid_worker.username in page.locator("[data-testid=red-table]").inner_html()
    assert page.locator("[data-testid=move-publish]").count() == 0
    page.click("[data-testid=move-submit]")
    page.wait_for_function("() => document.querySelector('[data-testid=board-state]').innerText === '待审核'")
    board = Board.objects.get()

    # 2. the 值班长 publishes
    chief_ctx = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 860})
    page = chief_ctx.new_page()
    page.set_default_timeout(15_000)
    browser_login(page, w.shift_leader)
    page.goto(f"{live_server.url}/evaluation/boards/{board.pk}/")
    page.fill("[data-testid=move-note]", "同意发布")
    page.click("[data-testid=move-publish]")
    page.wait_for_function("() => document.querySelector('[data-testid=board-state]').innerText === '已发布'")
    assert page.locator("[data-testid=move-form]").count() == 0
    board.refresh_from_db()
    assert board.state == "published" and board.reviewed_by == w.shift_leader

    # 3. the chart of the higher-level assessment beside the platform's 三率
    page.click("[data-testid=tab-assessments]")
    page.wait_for_selector("[data-testid=assessment-chart][data-ready='1']")
    assert page.locator("[data-testid=assessment-chart] canvas").count() >= 1
    june_row = page.locator("[data-testid=assessment-table] tbody tr").nth(5).inner_text()
    assert june_row.split("\t")[:3] == ["2026-06", "93.5", "2/12"]

    # 4. the 网格员 reads it, and gets the one-page Excel
    ctx = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 860})
    worker_page = ctx.new_page()
    worker_page.set_default_timeout(15_000)
    browser_login(worker_page, w.grid_worker)
    worker_page.click("[data-testid=nav-evaluation]")
    worker_page.wait_for_selector(f"[data-testid=board-{board.pk}]")
    assert worker_page.locator("[data-testid=draft-form]").count() == 0
    worker_page.click(f"[data-testid=board-{board.pk}] a")
    worker_page.wait_for_selector("[data-testid=board-state]")
    assert worker_page.locator("[data-testid=board-state]").inner_text() == "已发布"
    assert worker_page.locator("[data-testid=move-form]").count() == 0
    with worker_page.expect_download() as info:
        worker_page.click("[data-testid=export-xlsx]")
    assert info.value.suggested_filename.endswith("网格员红黑榜.xlsx")
    ctx.close()
    chief_ctx.close()
