"""工作总结 in a real browser: the 街道's 领导 opens 工作总结 from the menu, drafts the June report with the 截尾 rule
and a line of 下步计划, reads the figures with their formulas on the report page, downloads the Word document
and generates a second version. Screenshot: docs/screenshots/reports-detail.png."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from docx import Document

from civicgrid.reports.models import Report
from tests.conftest import REPO
from tests.metrics.conftest import story  # noqa: F401  (fixture)
from tests.metrics.test_figures import june  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = REPO / "docs" / "screenshots"


def test_a_leader_drafts_reads_and_downloads(page, live_server, browser_login, june):  # noqa: F811
    browser_login(page, june.leader)
    page.click("[data-testid=nav-reports]")
    page.wait_for_selector("[data-testid=draft-form]")
    page.select_option("[data-testid=period]", "custom")
    page.fill("#id_start", "2026-06-01")
    page.fill("#id_end", "2026-06-30")
    page.select_option("[data-testid=rounding]", "truncate")
    page.fill("#id_manual_plans", "一是深化网格治理；二是提升处置时效。")
    page.click("[data-testid=draft-submit]")
    page.wait_for_selector("[data-testid=report-title]")
    street = june.community.street
    assert page.locator("[data-testid=report-title]").inner_text() == f"{street.name}2026年6月工作总结"
    figures = page.locator("[data-testid=figures]")
    assert figures.locator("[data-key='cases.received']").inner_text() == "6件"
    assert figures.locator("[data-key='cases.response_rate']").inner_text() == "66.6%"  # 2/3 truncated
    assert "÷" in figures.inner_text()
    page.screenshot(path=str(SHOTS / "reports-detail.png"), full_page=True)

    with page.expect_download() as info:
        page.click("[data-testid=version-1] [data-testid=download-docx]")
    body = "\n".join(p.text for p in Document(io.BytesIO(Path(info.value.path()).read_bytes())).paragraphs)
    assert "一是深化网格治理；二是提升处置时效。" in body and "响应率66.6%" in body

    page.click("[data-testid=redraft]")
    page.wait_for_selector("[data-testid=version-2]")
    assert Report.objects.get().versions.count() == 2
