"""巡访打卡 in a real browser: a 网格员 on a phone (390×844, a fake GPS) starts a patrol; the page records the track
every second here (the rule's 定位间隔) and uploads it in batches; they walk to the 农贸市场, check in there and turn
what they saw into a case with one tap, walk out of their grid and stop. The leader replays the track on the map
and reads the 考核表. Screenshots: docs/screenshots/gridwork-*.png."""

from __future__ import annotations

import pytest

from civicgrid.gridwork.models import GridworkRule, Patrol, PointCheck, TrackPoint
from tests.conftest import REPO

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = REPO / "docs" / "screenshots"


def _sent(page) -> int:
    return int(page.locator("[data-testid=gw-sent]").inner_text())


def test_phone_patrol_check_in_finding_to_case_and_the_leaders_replay(
    browser, page, live_server, browser_login
):
    from tests.gridwork.conftest import PatrolWorld, inside

    pw = PatrolWorld()
    rule = GridworkRule.current()
    rule.gps_seconds = 1
    rule.save()
    start = inside(0, 0.2, 0.3)
    ctx = browser.new_context(
        locale="zh-CN",
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
        geolocation={"longitude": start[0], "latitude": start[1], "accuracy": 10},
        permissions=["geolocation"],
    )
    phone = ctx.new_page()
    phone.set_default_timeout(15_000)
    try:
        # 1. start a patrol; the page records and uploads fixes
        browser_login(phone, pw.grid_worker)
        phone.goto(f"{live_server.url}/gridwork/")
        phone.click("[data-testid=gw-start]")
        phone.wait_for_selector("[data-testid=gw-status]:text-is('巡查中')")
        phone.wait_for_function("() => +document.getElementById('gw-sent').textContent >= 3")
        # a dead spot: the fixes queue on the phone and go up when the network is back, each stored once
        ctx.set_offline(True)
        phone.wait_for_function("() => +document.getElementById('gw-queue').textContent >= 3")
        queued = phone.evaluate("() => CGQueue.fixes.all().then((fs) => fs.map((f) => f.id))")
        ctx.set_offline(False)
        phone.wait_for_function("() => +document.getElementById('gw-queue').textContent === 0")
        stored = set(TrackPoint.objects.filter(client_id__in=queued).values_list("client_id", flat=True))
        assert stored == set(queued)
        # walking towards the market: the list sorts it first and offers the check-in
        ctx.set_geolocation({"longitude": pw.market.lng - 0.0004, "latitude": pw.market.lat, "accuracy": 10})
        phone.wait_for_function(
            f"() => document.querySelector('#gw-points li').dataset.testid === 'gw-point-{pw.market.pk}'"
            " && document.querySelector('#gw-points li').classList.contains('gw-near')"
        )
        sent = _sent(phone)
        phone.wait_for_function(f"() => +document.getElementById('gw-sent').textContent >= {sent + 2}")
        phone.screenshot(path=str(SHOTS / "gridwork-patrol.png"))
        patrol = Patrol.objects.get(worker=pw.grid_worker, ended_at__isnull=True)

        # 2. check in at the market with a finding → a case in one tap
        phone.click(f"[data-testid=gw-check-{pw.market.pk}]")
        phone.wait_for_selector("[data-testid=gw-where]:has-text('在打卡范围内')")
        phone.click("label[for=score-75]")
        phone.fill("[data-testid=check-findings]", "市场东门摊位占道经营，杂物堆放堵塞消防通道")
        phone.select_option("[data-testid=check-category]", str(pw.minor.pk))
        phone.locator("[data-testid=check-report]").scroll_into_view_if_needed()
        phone.screenshot(path=str(SHOTS / "gridwork-check.png"))
        phone.click("[data-testid=check-report]")
        phone.wait_for_selector(".alert-success:has-text('已上报工单')")
        check = PointCheck.objects.get()
        assert check.valid and check.inside and check.score == 75 and check.patrol_id == patrol.pk
        assert check.case.source == "grid_patrol" and check.case.state == "accepted"
        assert "占道经营" in check.case.description

        # 3. back on the patrol page the patrol goes on (its state restored from localStorage); out of the grid, then stop
        phone.wait_for_selector("[data-testid=gw-status]:text-is('巡查中')")
        for out in (inside(1, 0.3, 0.6), inside(1, 0.6, 0.7)):
            ctx.set_geolocation({"longitude": out[0], "latitude": out[1], "accuracy": 10})
            phone.wait_for_function(
                f"() => document.getElementById('gw-panel').dataset.lastLng === '{round(out[0], 6)}'"
            )
        sent = _sent(phone)
        phone.wait_for_function(f"() => +document.getElementById('gw-sent').textContent >= {sent + 3}")
        phone.click("[data-testid=gw-stop]")
        phone.wait_for_function("() => document.getElementById('gw-panel').dataset.state === 'stopped'")
        patrol.refresh_from_db()
        assert patrol.ended_at is not None and not patrol.auto_closed
        points = list(TrackPoint.objects.filter(patrol=patrol).order_by("at"))
        assert len(points) >= 6 and len({p.client_id for p in points}) == len(points)
        assert points[0].inside and not points[-1].inside and points[-1].grid_id == pw.grid2.pk
        assert patrol.point_count == len(points) and 0 < patrol.inside_s < patrol.tracked_s
        assert phone.evaluate("() => CGQueue.fixes.all().then((fs) => fs.length)") == 0
    finally:
        ctx.close()

    # 4. the leader replays the track and reads the 考核表
    browser_login(page, pw.leader)
    page.goto(f"{live_server.url}/gridwork/patrols/")
    page.click(f"[data-testid=replay-{patrol.pk}]")
    page.wait_for_function(
        f"() => document.getElementById('gw-replay-map').dataset.loaded === '{len(points)}'"
    )
    assert "示范农贸市场" in page.locator("[data-testid=replay-checks]").inner_text()
    page.click("[data-testid=replay-play]")
    page.wait_for_function("() => document.getElementById('gw-replay-map').dataset.played === '1'")
    assert "网格外" in page.locator("[data-testid=replay-time]").inner_text()
    page.screenshot(path=str(SHOTS / "gridwork-replay.png"))
    page.goto(f"{live_server.url}/gridwork/scores/")
    page.wait_for_selector("[data-testid=score-row]")
    assert "张三" in page.locator("[data-testid=scores-table]").inner_text()
    page.screenshot(path=str(SHOTS / "gridwork-scores.png"))
