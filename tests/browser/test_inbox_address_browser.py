"""In a real browser: the dispatcher's 待办 opens on active work with 回访 in its own tab (htmx, paginated), and
on the create form a typed address is proposed on the map (marker + grid) and adopted with one click."""

from __future__ import annotations

from datetime import timedelta

import pytest

from civicgrid.core import clock, geoindex

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_inbox_tabs_and_address_proposal(page, live_server, browser_login, screenshot_dir):
    from civicgrid.cases import services
    from civicgrid.cases.services import HistoricalCase
    from tests.cases.factories import World
    from tests.factories import ORIGIN_LAT, ORIGIN_LNG, STEP, BuildingFactory

    world = World()
    now = clock.now()
    services.import_closed_cases(
        actor=world.dispatcher,
        rows=[
            HistoricalCase(
                source_ref=f"H{i}",
                description="已办结待回访",
                category_id=world.category.pk,
                created_at=now - timedelta(days=3),
                closed_at=now - timedelta(days=1),
            )
            for i in range(23)
        ],
        source="hotline_12345",
        batch_note="历史工单",
    )
    world.to_state("reported")
    world.move(world.to_state("dispatched"), "return", actor=world.handler, reason="非本部门职责")
    world.to_state("accepted")
    BuildingFactory(
        grid=world.grid,
        name="翠苑一区3幢",
        address="文三路18号",
        lng=ORIGIN_LNG + STEP / 3,
        lat=ORIGIN_LAT + STEP / 3,
    )
    geoindex.invalidate()

    browser_login(page, world.dispatcher)
    url = live_server.url

    # --- 待办: active work only, 回访 counted apart ---
    page.goto(f"{url}/cases/inbox/")
    assert page.locator("[data-testid=inbox-item]").count() == 3
    assert page.locator("[data-testid=inbox-count]").inner_text() == "3"
    assert page.locator("[data-testid=followup-count]").inner_text() == "回访 23"
    assert page.locator("[data-testid=tab-followup-count]").inner_text() == "23"
    groups = page.locator("[data-testid=inbox-group]").all_inner_texts()
    assert groups == ["上报待受理", "被退回待改派", "立案待派遣"]
    page.screenshot(path=str(screenshot_dir / "inbox-tabs.png"), full_page=True)

    page.click("[data-testid=tab-followup]")
    page.wait_for_selector("#inbox-list[data-tab=followup]")
    assert page.url.endswith("/cases/inbox/?tab=followup")  # htmx pushed the tab into the address bar
    assert page.locator("[data-testid=inbox-item]").count() == 20
    assert "第 1/2 页" in page.locator("[data-testid=inbox-page-info]").inner_text()
    page.click("[data-testid=inbox-next]")
    page.wait_for_selector("[data-testid=inbox-page-info]:has-text('第 2/2 页')")
    assert page.locator("[data-testid=inbox-item]").count() == 3
    page.screenshot(path=str(screenshot_dir / "inbox-followup.png"), full_page=True)

    # --- create form: address → proposed point → adopted ---
    page.goto(f"{url}/cases/new/")
    page.wait_for_selector("#picker-map[data-loaded]")
    page.fill("#id_address", "文三路18号")
    proposal = page.locator("[data-testid=address-proposal]")
    proposal.wait_for(state="visible")
    assert "翠苑一区3幢" in proposal.inner_text() and world.grid.name in proposal.inner_text()
    assert page.locator(".cg-proposal-pin").count() == 1
    assert page.input_value("input[name=lng]") == ""  # nothing set until the user confirms
    page.screenshot(path=str(screenshot_dir / "create-address-proposal.png"), full_page=False)
    page.click("[data-testid=address-accept]")
    page.wait_for_selector("[data-testid=grid-hint].text-success")
    assert world.grid.name in page.locator("[data-testid=grid-hint]").inner_text()
    assert abs(float(page.input_value("input[name=lng]")) - (ORIGIN_LNG + STEP / 3)) < 1e-5
    assert page.locator(".cg-proposal-pin").count() == 0

    # an address nobody knows says so, in text
    page.fill("#id_address", "<img src=x onerror=alert(1)>无此地址")
    page.wait_for_selector("[data-testid=address-proposal]:has-text('未找到')")
    assert page.locator("[data-testid=address-proposal] img").count() == 0
