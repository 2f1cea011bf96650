"""出租房 / 专项排查 / 楼宇 in a real browser. A 网格员 on a phone (390×844) opens the 出租房 list of her grid (the
other community's rental is not there), records an inspection of a 群租 room and turns the finding into a case;
then works through the 燃气安全 campaign: a problem with a finding → case, on to the next target, and the progress
page shows her grid half covered. A 领导 at a desk sees the 重点楼宇 with the 楼宇注册率. Screenshots:
docs/screenshots/estates-*.png."""

from __future__ import annotations

import pytest

from civicgrid.estates.models import CampaignTarget, RentalInspection
from tests.conftest import REPO

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = REPO / "docs" / "screenshots"


def _no_sideways_scroll(pg) -> bool:
    return pg.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_phone_inspection_and_campaign_results_and_the_leaders_buildings(
    phone_page, page, live_server, browser_login
):
    from tests.estates.conftest import EstWorld

    ew = EstWorld()
    phone = phone_page
    browser_login(phone, ew.grid_worker)
    # 1. the rentals of her grid
    phone.goto(f"{live_server.url}/estates/")
    phone.wait_for_selector("[data-testid=rental-list] >> text=示范小区3幢501室")
    assert "外区5幢" not in phone.inner_text("[data-testid=rental-list]")
    assert "139****5678" in phone.inner_text("[data-testid=rental-list]")
    assert _no_sideways_scroll(phone)
    phone.screenshot(path=str(SHOTS / "estates-rentals.png"))
    # 2. an inspection whose finding becomes a case
    phone.click("text=示范小区3幢501室")
    phone.wait_for_selector("[data-testid=inspect-form]")
    phone.click("label[for=res-rectify]")
    phone.fill("[data-testid=inspect-findings]", "楼道内电动车充电，群租隔断")
    phone.select_option("[data-testid=inspect-to]", "case")
    phone.locator("[data-testid=inspect-submit]").scroll_into_view_if_needed()
    phone.screenshot(path=str(SHOTS / "estates-inspection.png"))
    phone.click("[data-testid=inspect-submit]")
    phone.wait_for_selector("[data-testid=inspection-case]")
    i = RentalInspection.objects.get()
    assert i.result == "rectify" and i.case is not None and "群租隔断" in i.case.description
    assert _no_sideways_scroll(phone)
    # 3. the campaign: the first target has a problem → case, then on to the next one
    t1, t2, _ = ew.targets
    phone.goto(f"{live_server.url}/estates/campaigns/{ew.campaign.pk}/")
    phone.wait_for_selector("[data-testid=target-list] >> text=示范小区3幢101")
    assert "外区5幢201" not in phone.inner_text("[data-testid=target-list]")
    phone.click("text=示范小区3幢101")
    phone.wait_for_selector("[data-testid=target-form]")
    phone.click("[data-testid=result-problem]")
    phone.fill("[data-testid=target-note]", "燃气软管老化")
    phone.check("[data-testid=target-to-case]")
    phone.fill("[data-testid=target-finding]", "燃气软管老化，需更换")
    phone.screenshot(path=str(SHOTS / "estates-target.png"))
    phone.click("[data-testid=target-submit]")
    phone.wait_for_selector("[data-testid=target-title]:text-is('示范小区3幢102')")
    t1.refresh_from_db()
    assert t1.result == "problem" and t1.case is not None
    # 4. progress: her grid is half covered
    phone.goto(f"{live_server.url}/estates/campaigns/{ew.campaign.pk}/?by=grid")
    phone.wait_for_selector("[data-testid=coverage-total] >> text=50.0%")
    assert _no_sideways_scroll(phone)
    phone.screenshot(path=str(SHOTS / "estates-campaign.png"), full_page=True)
    assert CampaignTarget.objects.get(pk=t2.pk).result == "pending"

    # 5. the 领导: 重点楼宇 with the 楼宇注册率 (3 of 3 occupants registered here)
    browser_login(page, ew.leader)
    page.goto(f"{live_server.url}/estates/buildings/")
    page.wait_for_selector("[data-testid=building-list] >> text=钱江大厦")
    assert page.inner_text("[data-testid=street-rate]") == "100.0%"
    page.screenshot(path=str(SHOTS / "estates-buildings.png"))
    page.click("text=钱江大厦")
    page.wait_for_selector("[data-testid=building-rate]")
    assert "100.0%" in page.inner_text("[data-testid=building-rate]")
