"""综合执法案件 in a real browser, end to end: the desk registers a 违法建设 线索 with the form; the 执法队员 立案 it,
告知 the party of their rights, records the 处罚决定 (法律依据, 决定书文号, 罚款) and the 拆除 (㎡, 处) with the
procedure's generated buttons, and 结案; the printable record and the figures show it. Screenshots:
docs/screenshots/enforcement-*.png."""

from __future__ import annotations

from datetime import timedelta

import pytest

from civicgrid.core import clock
from civicgrid.enforcement.models import EnforcementDetail
from tests.conftest import REPO

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = REPO / "docs" / "screenshots"


def act(page, move: str, fill: dict | None = None, select: dict | None = None, shot: str | None = None):
    page.click(f"[data-testid=action-{move}]")
    form = page.locator(f"details[data-move={move}] form")
    form.wait_for(state="visible")
    for name, value in (select or {}).items():
        form.locator(f"select[name={move}-{name}]").select_option(label=value)
    for name, value in (fill or {}).items():
        form.locator(f"[name={move}-{name}]").fill(value)
    form.locator(f"[data-testid=submit-{move}]").scroll_into_view_if_needed()
    if shot:
        page.screenshot(path=str(SHOTS / shot), full_page=False)
    form.locator(f"[data-testid=submit-{move}]").click()


def fresh_page(browser):
    ctx = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 860})
    pg = ctx.new_page()
    pg.set_default_timeout(15_000)
    return ctx, pg


def test_a_general_procedure_case_from_registration_to_closing(browser, page, live_server, browser_login):
    from tests.enforcement.conftest import EnforcementWorld

    ew = EnforcementWorld()
    # 1. the desk registers the 线索
    browser_login(page, ew.dispatcher)
    page.goto(f"{live_server.url}/enforcement/new/")
    page.fill("[data-testid=party-name]", "陈某")
    page.select_option("[data-testid=violation-type]", label="违法建设")
    page.select_option("[data-testid=department]", label="城管中队")
    found = clock.local_now() - timedelta(days=2)
    page.fill("input[name=discovered_at]", found.strftime("%Y-%m-%dT%H:%M"))
    page.fill("[data-testid=address]", "示范路18号楼顶")
    page.fill("[data-testid=description]", "楼顶擅自搭建彩钢板房约24平方米")
    page.screenshot(path=str(SHOTS / "enforcement-register.png"), full_page=True)
    page.click("[data-testid=enforcement-submit]")
    page.wait_for_selector("[data-testid=enforcement-record]")
    assert page.locator("[data-testid=record-state]").inner_text() == "待立案"
    d = EnforcementDetail.objects.select_related("case").get()
    assert d.case.stage == "file" and d.case.limit_amount == 13  # 15 日 from 发现, 2 used

    # 2. the 执法队员 works the case with the generated buttons
    desk_page = page
    ctx, page = fresh_page(browser)
    browser_login(page, ew.handler)
    page.goto(f"{live_server.url}/cases/{d.case_id}/")
    page.wait_for_selector("[data-testid=state]:text-is('待立案')")
    act(page, "file_case", fill={"note": "经审查符合立案条件，予以立案"})
    page.wait_for_selector("[data-testid=state]:text-is('调查取证')")
    act(page, "notify_rights", fill={"note": "送达行政处罚事先告知书，告知陈述申辩权"})
    page.wait_for_selector("[data-testid=state]:text-is('已告知')")
    act(
        page,
        "decide",
        fill={
            "legal_basis": "《中华人民共和国城乡规划法》第四十条、第六十四条",
            "penalty": "责令限期拆除并处罚款",
            "decision_no": "示执罚〔2026〕18号",
            "fine_amount": "5000",
        },
        select={"rights_response": "已陈述申辩"},
        shot="enforcement-decide.png",
    )
    page.wait_for_selector("[data-testid=state]:text-is('已决定')")
    act(
        page,
        "execute",
        fill={"note": "当事人已自行拆除并缴纳罚款", "demolished_area": "24.5", "demolished_sites": "1"},
    )
    page.wait_for_selector("[data-testid=state]:text-is('执行完毕')")
    act(page, "close_case")
    page.wait_for_selector("[data-testid=state]:text-is('已结案')")

    # 3. the printable record and the figures
    page.goto(f"{live_server.url}/enforcement/{d.case_id}/")
    page.wait_for_selector("[data-testid=enforcement-record]")
    assert page.locator("[data-testid=decision-no]").inner_text() == "示执罚〔2026〕18号"
    assert page.locator("[data-testid=area]").inner_text() == "24.50"
    page.screenshot(path=str(SHOTS / "enforcement-record.png"), full_page=True)
    ctx.close()
    page = desk_page
    page.goto(f"{live_server.url}/enforcement/figures/")
    page.wait_for_selector("[data-testid=enforcement-figures]")
    assert page.locator("[data-testid=fig-general]").inner_text() == "1"
    assert page.locator("[data-testid=fig-area]").inner_text() == "24.50"
    assert page.locator("[data-testid=fig-fines]").inner_text() == "5000.00"
    page.screenshot(path=str(SHOTS / "enforcement-figures.png"), full_page=True)
    d.refresh_from_db()
    assert d.case.state == "closed" and d.procedure_kind == "general" and d.rights_response == "statement"
