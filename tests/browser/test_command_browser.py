"""指挥中心 in a real browser at 1920×1080: the 大屏 over the demo 街道 (two months of cases and ledgers) draws
every chart (ECharts canvases), the grid heat map (Leaflet), the open warnings (a warning opens its page), the
overdue list and the ledger cards; its figures
are the server's; it reloads itself; a chart saves as PNG; a grid opens its case list. The leader view draws its
charts, its 预警 card and a headline number opens its list. Screenshots: docs/screenshots/command-*.png."""

from __future__ import annotations

import pytest

from civicgrid.accounts.roles import Role
from civicgrid.command import selectors
from tests.conftest import REPO
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = REPO / "docs" / "screenshots"
CHARTS = ["ch-intake", "ch-lights", "ch-categories", "ch-trend"]


@pytest.fixture
def big_page(browser):
    ctx = browser.new_context(locale="zh-CN", viewport={"width": 1920, "height": 1080})
    pg = ctx.new_page()
    pg.set_default_timeout(20_000)
    yield pg
    ctx.close()


def test_the_screen_and_the_leader_view(big_page, live_server, browser_login):
    from civicgrid.cases.categories import load_categories
    from civicgrid.demo.builder import build_demo
    from civicgrid.metrics import services

    load_categories()  # a transactional test starts from a flushed database
    demo = build_demo(cases_options={"days": 60, "live_days": 5, "scale": 0.3})
    services.rebuild()
    street = demo.street
    leader = UserFactory(role=Role.LEADER, street=street, full_name="李主任")
    expected = selectors.screen(user=leader)

    page = big_page
    browser_login(page, leader)
    page.click("[data-testid=nav-command]")
    page.wait_for_selector("[data-testid=headline]")
    page.wait_for_function("() => document.body.dataset.chartsReady === '1'")
    for chart in ("chart-trend", "chart-categories"):
        assert page.locator(f"[data-testid={chart}] canvas").count() >= 1
    received = page.locator("[data-testid=value-received]").inner_text()
    alerts = expected["alerts"]
    assert alerts["registered"] and alerts["total"] >= 1  # the demo keeps the last week's warnings open
    assert page.locator("[data-testid=alerts-total]").inner_text() == str(alerts["total"])
    assert page.locator("[data-testid=alerts-item]").count() == min(
        alerts["total"], selectors.LEADER_ALERT_LIMIT
    )
    page.screenshot(path=str(SHOTS / "command-leader.png"), full_page=True)
    # editing the dates switches the picker to 自定义
    from datetime import timedelta

    from civicgrid.core import clock

    today = clock.local_now().date()
    start = today - timedelta(days=9)
    page.fill("[data-testid=pick-from]", start.isoformat())
    page.dispatch_event("[data-testid=pick-from]", "change")
    assert page.locator("[data-testid=pick-period]").input_value() == "custom"
    page.click("[data-testid=apply]")
    page.wait_for_url("**/command/?period=custom*")
    title = page.locator("[data-testid=period-title]").inner_text()
    assert f"{start.isoformat()} 至 {today.isoformat()}" in title
    page.wait_for_function("() => document.body.dataset.chartsReady === '1'")
    received = page.locator("[data-testid=value-received]").inner_text()
    page.click("[data-testid=card-received]")
    page.wait_for_selector("#case-table, [data-testid=case-table], table")
    assert "metric=received" in page.url and f"date_from={start.isoformat()}" in page.url
    assert page.locator("#id_metric").input_value() == "received"
    assert received.isdigit()

    page.goto(f"{live_server.url}/command/screen/?refresh=10")
    page.wait_for_function("() => Number(document.getElementById('cg-screen').dataset.loaded || 0) >= 1")
    for chart in CHARTS:
        assert page.locator(f"#{chart} canvas").count() == 1, chart
    grids = len(expected["grids"]["features"])
    assert grids >= 60
    assert page.locator("#cgs-map").get_attribute("data-grids") == str(grids)
    assert page.locator("#cgs-map path.leaflet-interactive").count() == grids
    h = expected["headline"]
    assert page.locator("[data-testid=kpi-open] b").inner_text() == str(h["open"])
    assert page.locator("[data-testid=kpi-overdue] b").inner_text() == str(h["overdue"])
    assert page.locator("[data-testid=kpi-month_received] b").inner_text() == str(h["month_received"])
    drawn = page.evaluate("() => window.CGCommand.data.headline")
    assert drawn["received_today"] == h["received_today"]
    assert page.locator("#cgs-overdue tbody tr").count() == max(1, len(expected["overdue"]))
    assert page.locator("#cgs-ledgers .cgs-ledger").count() == len(expected["ledgers"]) >= 5
    assert page.locator("#cgs-depts tbody tr").count() == max(1, len(expected["departments"]))
    assert page.locator("[data-testid=screen-warnings-total]").inner_text() == str(alerts["total"])
    shown = page.locator("#cgs-warnings .cgs-warn")
    assert shown.count() == len(alerts["items"]) == min(alerts["total"], selectors.ALERT_LIMIT)
    assert shown.first.inner_text().startswith(alerts["items"][0]["at"])
    assert alerts["items"][0]["title"] in shown.first.inner_text()
    page.screenshot(path=str(SHOTS / "command-screen.png"))

    # PNG export of a chart (the toolbox's 保存为PNG uses the same call)
    png = page.evaluate("() => window.CGCommand.charts['ch-trend'].getDataURL({type: 'png'})")
    assert png.startswith("data:image/png;base64,") and len(png) > 2000
    assert page.locator("#ch-trend [title='保存为PNG'], #ch-trend canvas").count() >= 1

    # the page reloads its data by itself
    page.wait_for_function(
        "() => Number(document.getElementById('cg-screen').dataset.loaded || 0) >= 2", timeout=30_000
    )

    # a grid on the heat map opens the case list filtered to it
    page.locator("#cgs-map path.leaflet-interactive").first.click(force=True)
    page.wait_for_url("**/cases/?*")
    assert "grid=" in page.url and "metric=received" in page.url

    # a warning on the screen opens its page
    page.goto(f"{live_server.url}/command/screen/")
    page.wait_for_function("() => Number(document.getElementById('cg-screen').dataset.loaded || 0) >= 1")
    page.locator("#cgs-warnings .cgs-warn").first.click()
    page.wait_for_url("**" + alerts["items"][0]["url"])
    assert alerts["items"][0]["title"] in page.content()
