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


def test_a_district_leader_drafts_the_whole_districts_report(page, live_server, browser_login):
    """区领导 picks 全区 on the drafting form: the report is the 区's, with the 街道 compared in a table."""
    from civicgrid.accounts.roles import Role
    from civicgrid.cases import services as case_services
    from civicgrid.core import clock
    from civicgrid.metrics import services as metric_services
    from tests.cases.factories import CategoryFactory
    from tests.factories import CommunityFactory, GridFactory, StreetFactory, UserFactory

    category = CategoryFactory()
    streets, leaders = [], {}
    for i, name in enumerate(("甲街道", "乙街道")):
        street = StreetFactory(code=f"33010600{i + 1}", name=name, division_code="330106")
        grid = GridFactory(
            community=CommunityFactory(street=street), col=4 * i, code=f"33010600{i + 1}{4 * i:06d}"
        )
        dispatcher = UserFactory(role=Role.DISPATCHER, street=street)
        for n in range(i + 1):  # 甲 one case, 乙 two
            case_services.create_case(
                actor=dispatcher,
                source="dispatcher",
                description=f"{name}诉求{n}",
                category=category,
                grid=grid,
            )
        streets.append(street)
        leaders[name] = UserFactory(role=Role.LEADER, street=street)
    district = streets[0].district
    qu_leader = UserFactory(role=Role.LEADER, street=None, district=district)
    metric_services.refresh()
    today = clock.local_now().date()
    browser_login(page, qu_leader)
    page.goto(f"{live_server.url}/reports/")
    page.wait_for_selector("[data-testid=draft-form]")
    page.select_option("[data-testid=scope]", f"district:{district.pk}")
    page.select_option("[data-testid=period]", "custom")
    page.fill("#id_start", f"{today.year}-01-01")
    page.fill("#id_end", today.isoformat())
    page.click("[data-testid=draft-submit]")
    page.wait_for_selector("[data-testid=report-title]")
    report = Report.objects.get(district=district)
    assert page.locator("[data-testid=report-title]").inner_text() == report.title
    assert report.title.startswith(district.name)
    figures = page.locator("[data-testid=figures]")
    assert figures.locator("[data-key='cases.received']").inner_text() == "3件"
    assert figures.locator(f"[data-key='by_street.{streets[0].code}.received']").inner_text() == "1件"
    assert figures.locator(f"[data-key='by_street.{streets[1].code}.received']").inner_text() == "2件"

    with page.expect_download() as info:
        page.click("[data-testid=version-1] [data-testid=download-docx]")
    doc = Document(io.BytesIO(Path(info.value.path()).read_bytes()))
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in doc.tables]
    compared = next(t for t in tables if t[0] == ["街道", "受理", "办结", "按期办结率", "满意率"])
    assert [row[:2] for row in compared[1:]] == [["甲街道", "1件"], ["乙街道", "2件"]]

    # a 街道 account is not offered 全区 and does not see the 区's report
    page.context.clear_cookies()
    browser_login(page, leaders["甲街道"])
    page.goto(f"{live_server.url}/reports/")
    assert page.locator("[data-testid=scope]").count() == 0
    assert report.title not in page.locator("[data-testid=report-list]").inner_text()
