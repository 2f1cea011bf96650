"""督办 and 预警 in a real browser: the 值班长 supervises a case from its page (note + 督办期限) and sees it tracked
on the case and in the 督办 list with its counts; the 指挥中心 filters the warnings, opens a repeat-address warning
and acknowledges it with a note. Screenshots: docs/screenshots/supervision-*.png."""

from __future__ import annotations

import pytest

from civicgrid.core import clock
from civicgrid.supervision import services
from civicgrid.supervision.models import EarlyWarning, Supervision
from tests.cases.factories import World
from tests.conftest import REPO
from tests.supervision.conftest import bulk_cases

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = REPO / "docs" / "screenshots"


def test_supervise_a_case_and_acknowledge_a_warning(page, live_server, browser_login):
    world = World()
    case = world.to_state("handling", description="小区门口垃圾桶满溢，无人清运")
    today = clock.to_local(clock.now()).date()
    bulk_cases(world, today, 4, address="文三路 88 号")
    bulk_cases(world, today, 1, address="文三路88号", reporter_phone="13600136000")
    services.run_warnings(street=world.community.street)

    # 1. the 值班长 supervises the case from its page
    browser_login(page, world.shift_leader)
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    page.wait_for_selector("[data-testid=supervise-form]")
    page.fill("[data-testid=supervise-note]", "居民多次反映，请今日内清运并反馈")
    page.click("[data-testid=supervise-submit]")
    page.wait_for_selector("[data-testid=supervision-row]")
    assert "居民多次反映" in page.locator("[data-testid=supervision-panel]").inner_text()
    s = Supervision.objects.get()
    assert s.created_by == world.shift_leader and s.case_id == case.pk
    page.screenshot(path=str(SHOTS / "supervision-case.png"), full_page=False)

    # 2. the 督办 list with its counts
    page.click("[data-testid=nav-supervision]")
    page.wait_for_selector("[data-testid=supervision-counts]")
    assert page.locator("[data-testid=total-total]").inner_text() == "1"
    assert page.locator("[data-testid=total-cleared]").inner_text() == "0"
    assert page.locator("[data-testid=supervision-item]").count() == 1
    assert page.locator("[data-testid=warnings-panel-item]").count() == EarlyWarning.objects.count() >= 1
    page.screenshot(path=str(SHOTS / "supervision-list.png"), full_page=True)

    # 3. the 指挥中心 filters the warnings and acknowledges one
    page.context.clear_cookies()
    browser_login(page, world.dispatcher)
    page.goto(f"{live_server.url}/supervision/warnings/")
    page.wait_for_selector("[data-testid=warning-list]")
    page.select_option("[data-testid=filter-rule]", "repeat_address")
    page.click("[data-testid=filter-submit]")
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=warning-row]')].every(r => r.dataset.rule === 'repeat_address')"
    )
    assert page.locator("[data-testid=warning-row]").count() == 1
    page.screenshot(path=str(SHOTS / "supervision-warnings.png"), full_page=True)
    page.click("[data-testid=warning-link]")
    page.wait_for_selector("[data-testid=warning-form]")
    assert "上报 5 件" in page.locator("[data-testid=warning-message]").inner_text()
    page.fill("[data-testid=warning-note]", "已转社区网格员现场核实")
    page.click("[data-testid=warning-acknowledge]")
    page.wait_for_selector("[data-testid=warning-handled]")
    assert page.locator("[data-testid=warning-state]").inner_text() == "已确认"
    assert EarlyWarning.objects.get(rule="repeat_address").handle_note == "已转社区网格员现场核实"
    page.screenshot(path=str(SHOTS / "supervision-warning.png"), full_page=True)
