"""A 信访-style case counted in 自然日, seen in a real browser: the due moment reads "末日 24:00" on the case page
and in the list, and the 延期 form offers the stage's own unit, 自然日."""

from __future__ import annotations

from datetime import datetime

import pytest

from civicgrid.core import clock

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_natural_days_due_reads_24_00(page, live_server, browser_login, screenshot_dir):
    from tests.cases.factories import World

    world = World()
    world.category.handle_limit_amount = 5
    world.category.handle_limit_unit = "natural_days"
    world.category.save()
    with clock.frozen(clock.aware(datetime(2026, 9, 28, 9, 0))):  # Monday; + 5 = Sat 10-03 (国庆) → 10-08
        case = world.to_state("handling")

    browser_login(page, world.handler)
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    due = page.locator("[data-testid=due]").first
    assert "10月8日 24:00" in due.inner_text()
    assert "（5自然日）" in page.content()
    page.click("[data-testid=action-request_extension]")
    form = page.locator("details[data-move=request_extension] form")
    form.wait_for(state="visible")
    unit = form.locator("[data-field=unit]").inner_text()
    assert "自然日" in unit and "工作日" not in unit and "自然时" not in unit
    page.screenshot(path=str(screenshot_dir / "natural_days_detail.png"), full_page=False)

    page.goto(f"{live_server.url}/cases/")
    assert "10月8日 24:00" in page.locator("[data-testid=due]").first.inner_text()
