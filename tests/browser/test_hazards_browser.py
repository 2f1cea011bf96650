"""安全隐患 in a real browser: a 网格员 on a phone works through the checklist at a shop, marks an item 不合格 and
turns it into a hazard in the same submit; after the department's 整改 the 网格员 does the 复查 on the phone with
the generated button; the desk looks at the 四色地图 with its legend. Screenshots: docs/screenshots/hazards-*.png."""

from __future__ import annotations

import pytest

from civicgrid.cases import services as case_services
from civicgrid.hazards.models import HazardDetail, Inspection
from tests.conftest import REPO

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = REPO / "docs" / "screenshots"


def move(case, name, actor, **kw):
    case.refresh_from_db()
    return case_services.perform(actor=actor, case=case, move=name, version=case.version, **kw)


def test_phone_checklist_review_and_the_four_colour_map(
    browser, phone_page, page, live_server, browser_login
):
    from tests.hazards.conftest import HazardWorld

    hw = HazardWorld()
    hw.block.lng, hw.block.lat = 120.1505, 30.2705
    hw.block.save()
    hw.shop.lng, hw.shop.lat = 120.1508, 30.2707
    hw.shop.save()

    # 1. the checklist on a phone
    browser_login(phone_page, hw.grid_worker)
    phone_page.goto(f"{live_server.url}/hazards/inspect/")
    phone_page.select_option("[data-testid=target-kind]", "unit")
    phone_page.select_option("[data-testid=target-unit]", str(hw.shop.pk))
    assert not phone_page.locator(
        "[data-testid=level-1]"
    ).is_visible()  # a passed item hides its hazard fields
    phone_page.click("[data-testid=fail-4]")  # 无住人“三合一”场所: 不合格
    phone_page.locator("[data-testid=level-4]").wait_for(state="visible")
    phone_page.select_option("[data-testid=level-4]", "major")
    phone_page.fill("[data-testid=desc-4]", "店铺阁楼住人，与经营区未分隔")
    phone_page.locator("[data-testid=desc-4]").scroll_into_view_if_needed()
    phone_page.screenshot(path=str(SHOTS / "hazards-inspect.png"))
    phone_page.click("[data-testid=inspect-submit]")
    phone_page.wait_for_selector("[data-testid=inspection-hazards]")
    assert "发现隐患 1 处" in phone_page.locator(".alert-success").inner_text()
    i = Inspection.objects.get()
    d = HazardDetail.objects.get(inspection=i)
    assert d.level == "major" and d.case.description == "店铺阁楼住人，与经营区未分隔"
    assert i.results.filter(passed=False).count() == 1 and i.results.count() == len(hw.items)

    # 2. the desk 交办 (重大: at most 7 days) and 挂牌督办; the department reports it fixed
    case = move(d.case, "assign_fix", hw.dispatcher, department=hw.dept, amount=5, unit="natural_days")
    case = move(case, "list_supervise", hw.dispatcher, note="挂牌督办")
    move(
        case, "report_fixed", hw.handler, note="已清退住人", detail={"measures": "拆除阁楼床铺，设置物理隔断"}
    )

    # 3. the 网格员's 复查 on the phone, with the procedure's generated button
    phone_page.goto(f"{live_server.url}/cases/{case.pk}/")
    phone_page.wait_for_selector("[data-testid=state]:text-is('待复查')")
    phone_page.click("[data-testid=action-review_pass]")
    form = phone_page.locator("details[data-move=review_pass] form")
    form.wait_for(state="visible")
    form.locator("[data-testid=submit-review_pass]").scroll_into_view_if_needed()
    phone_page.screenshot(path=str(SHOTS / "hazards-review.png"))
    form.locator("[data-testid=submit-review_pass]").click()
    phone_page.wait_for_selector("[data-testid=state]:text-is('复查合格')")
    case.refresh_from_db()
    assert case.state == "passed"

    # 4. the desk: the ledger with the 挂牌督办 badge, the 四色地图 with its legend
    browser_login(page, hw.dispatcher)
    page.goto(f"{live_server.url}/hazards/")
    page.wait_for_selector("[data-testid=badge-supervised]")
    page.goto(f"{live_server.url}/hazards/map/")
    page.wait_for_function("() => document.getElementById('hazard-map').dataset.loaded !== undefined")
    legend = page.locator("[data-testid=map-legend]").inner_text()
    assert "分值 ≥ 10" in legend and "重大隐患 × 10 分" in legend
    assert "红色 " in page.locator("#map-counts").inner_text()
    page.screenshot(path=str(SHOTS / "hazards-map.png"))
