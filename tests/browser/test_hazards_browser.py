"""安全隐患 in a real browser: a 网格员 on a phone works through the checklist at a shop, marks an item 不合格 and
turns it into a hazard in the same submit; after the department's 整改 the 网格员 does the 复查 on the phone with
the generated button; the desk looks at the 四色地图 with its legend. Screenshots: docs/screenshots/hazards-*.png."""

from __future__ import annotations

import pytest

from civicgrid.cases import services as case_services
from civicgrid.hazards.models import HazardDetail, Inspection
from tests.cases.factories import photo
from tests.conftest import REPO

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = REPO / "docs" / "screenshots"
# the page scrolls only vertically at the phone's width
NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= window.innerWidth"


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
    # a photo of the inspection as a whole; nothing on the page is wider than the phone
    phone_page.set_input_files(
        "[data-testid=inspection-photos-input]",
        files=[{"name": "scene.png", "mimeType": "image/png", "buffer": photo("scene.png")[1]}],
    )
    assert phone_page.evaluate(NO_SIDEWAYS_SCROLL)
    phone_page.click("[data-testid=inspect-submit]")
    phone_page.wait_for_selector("[data-testid=inspection-hazards]")
    phone_page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=inspection-photos] img')]"
        ".some(img => img.complete && img.naturalWidth > 0)"
    )
    assert phone_page.evaluate(NO_SIDEWAYS_SCROLL)
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
    assert phone_page.evaluate(NO_SIDEWAYS_SCROLL)
    assert phone_page.inner_text("[data-testid=detail-rectify_due_at]").endswith("24:00")
    # already 挂牌督办: the desk's button is not offered again (nor to the 网格员 at all)
    assert phone_page.locator("[data-testid=action-list_supervise]").count() == 0
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


@pytest.fixture
def real_runner(settings, tmp_path):
    from django.db import connection

    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    settings.BACKGROUND_RUN_INLINE = connection.vendor == "sqlite"


def test_the_desk_imports_its_excel_ledger_and_sees_the_rows(
    page, live_server, browser_login, real_runner, tmp_path
):
    """The 指挥中心 takes its 隐患台账 over from Excel: from the ledger's 导入台账 to the wizard (suggested mapping,
    preview naming the bad row and column), the run, and the imported hazards in the ledger with their states."""
    from datetime import timedelta

    import openpyxl

    from civicgrid.core import clock
    from tests.hazards.conftest import HazardWorld

    hw = HazardWorld()
    today = clock.local_now().date()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(
        [
            "序号",
            "检查日期",
            "单位名称",
            "地址",
            "隐患类别",
            "隐患描述",
            "隐患等级",
            "整改期限",
            "整改责任人",
            "整改情况",
            "销号日期",
            "所属社区",
        ]
    )
    c = hw.community.name
    ws.append(
        [
            1,
            today - timedelta(days=40),
            "示范小吃店",
            "",
            "消防设施",
            "灭火器过期未更换",
            "一般",
            today - timedelta(days=30),
            "王老板",
            "已销号",
            today - timedelta(days=33),
            c,
        ]
    )
    ws.append(
        [
            2,
            today - timedelta(days=5),
            "老街早餐摊",
            "老街5号",
            "燃气/液化气",
            "液化气瓶无减压阀",
            "较大",
            "",
            "",
            "未整改",
            "",
            c,
        ]
    )
    ws.append(
        [
            3,
            today - timedelta(days=5),
            "示范小区1幢",
            "",
            "电动车",
            "楼道充电",
            "重大",
            "20天",
            "",
            "整改中",
            "",
            c,
        ]
    )
    path = tmp_path / "示范街道隐患台账.xlsx"
    wb.save(path)

    browser_login(page, hw.dispatcher)
    page.goto(f"{live_server.url}/hazards/")
    page.click("[data-testid=hazard-import-link]")
    page.wait_for_selector("[data-testid=upload-form]")
    page.set_input_files("input[type=file]", str(path))
    page.click("[data-testid=upload-form] button")
    page.wait_for_selector("[data-testid=mapping-form]")
    assert page.locator("#id_map_target_name option:checked").inner_text() == "单位名称"
    assert page.locator("#id_map_status option:checked").inner_text() == "整改情况"
    page.click("[data-testid=save-mapping]")
    page.wait_for_selector("[data-testid=preview-table]")
    assert page.inner_text("[data-testid=preview-ok]") == "2"
    assert page.inner_text("[data-testid=preview-bad]") == "1"
    bad = page.inner_text("[data-testid=preview-row-4]")
    assert "整改期限" in bad and "1–7 个自然日" in bad
    page.screenshot(path=str(SHOTS / "hazards-import.png"), full_page=True)

    page.click("[data-testid=start-import]")
    page.wait_for_selector("[data-testid=import-progress][data-status=partial]", timeout=30_000)
    assert page.inner_text("[data-testid=count-created]") == "2"
    assert page.inner_text("[data-testid=count-failed]") == "1"

    page.goto(f"{live_server.url}/hazards/")
    ledger = page.inner_text("[data-testid=hazard-ledger]")
    assert "灭火器过期未更换" in ledger and "液化气瓶无减压阀" in ledger and "楼道充电" not in ledger
    assert "已销号" in ledger and "发现" in ledger
    assert (today - timedelta(days=40)).strftime("%m-%d") in ledger  # found on the 检查日期, not today
