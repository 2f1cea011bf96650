"""The 网格员 phone app offline, in a real browser (Debian chromium, a phone viewport, a fake GPS).

One online visit to 巡查上报 and 巡查打卡 installs the service worker and keeps those pages (and the check-in
forms of the worker's points) on the phone. In a dead spot the worker starts a patrol, checks in at two points
(the second with a finding reported as a case) and files a case report with a photo: nothing reaches the server,
the 待同步 panel lists the three items. Back online everything arrives exactly once (asserted in the database) and
a second sync sends nothing. A report the server refuses for good is shown with its reason and can be discarded.
Screenshots: docs/screenshots/pwa-*.png."""

from __future__ import annotations

import pytest

from civicgrid.cases.models import Case
from civicgrid.gridwork.models import GridworkRule, Patrol, PointCheck, TrackPoint
from tests.conftest import REPO

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = REPO / "docs" / "screenshots"


def _count(page) -> int:
    return int(page.locator("[data-testid=cg-sync-count]").inner_text())


def _phone(browser, where):
    return browser.new_context(
        locale="zh-CN",
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
        geolocation={"longitude": where[0], "latitude": where[1], "accuracy": 10},
        permissions=["geolocation"],
        service_workers="allow",
    )


def _installed(phone, url):
    """Open ``url`` online and wait until the service worker has saved it (and what it links to)."""
    phone.goto(url)
    # the first visit installs the worker (precaching the app shell) before it saves the pages
    phone.wait_for_function("() => document.documentElement.dataset.cgOffline === 'ready'", timeout=30_000)


def test_offline_patrol_two_check_ins_and_a_photo_report_arrive_exactly_once(
    browser, live_server, browser_login
):
    from tests.gridwork.conftest import PatrolWorld
    from tests.intake.imaging import jpeg_bytes

    pw = PatrolWorld()
    rule = GridworkRule.current()
    rule.gps_seconds = 1
    rule.save()
    market = (pw.market.lng, pw.market.lat)
    ctx = _phone(browser, market)
    phone = ctx.new_page()
    phone.set_default_timeout(15_000)
    base = live_server.url
    try:
        browser_login(phone, pw.grid_worker)
        _installed(phone, f"{base}/field/")
        _installed(phone, f"{base}/gridwork/")
        assert int(phone.evaluate("() => document.documentElement.dataset.cgWarmed")) == 4  # page + 3 points
        manifest = phone.evaluate("() => document.querySelector('link[rel=manifest]').href")
        assert manifest.endswith("/manifest.webmanifest")

        # --- a dead spot ---------------------------------------------------------------------------
        ctx.set_offline(True)
        phone.click("[data-testid=gw-start]")
        phone.wait_for_selector("[data-testid=gw-status]:text-is('巡查中（等待网络）')")
        phone.wait_for_function("() => +document.getElementById('gw-queue').textContent >= 2")

        # check-in 1 at the market: the form comes from the phone's cache, the check-in goes to the queue
        phone.click(f"[data-testid=gw-check-{pw.market.pk}]")
        phone.wait_for_selector("[data-testid=gw-where]:has-text('在打卡范围内')")
        phone.click("label[for=score-90]")
        phone.click("[data-testid=check-submit]")
        phone.wait_for_url(f"{base}/gridwork/")
        phone.wait_for_function("() => document.getElementById('cg-sync').dataset.count === '1'")

        # check-in 2 at the river, with a finding to report as a case
        ctx.set_geolocation({"longitude": pw.river.lng, "latitude": pw.river.lat, "accuracy": 10})
        phone.click(f"[data-testid=gw-check-{pw.river.pk}]")
        phone.wait_for_selector("[data-testid=gw-where]:has-text('在打卡范围内')")
        phone.fill("[data-testid=check-findings]", "河岸护栏松动约3米，需尽快加固")
        phone.select_option("[data-testid=check-category]", str(pw.minor.pk))
        phone.click("[data-testid=check-report]")
        phone.wait_for_url(f"{base}/gridwork/")
        phone.wait_for_function("() => document.getElementById('cg-sync').dataset.count === '2'")

        # a case report with a photo on 巡查上报, from the cache too
        phone.goto(f"{base}/field/")
        phone.set_input_files(
            "#rs-photo-input", files=[{"name": "现场.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes()}]
        )
        phone.wait_for_function("() => document.getElementById('rs-photos').dataset.count === '1'")
        phone.click("#rs-locate")
        phone.wait_for_function("() => document.getElementById('rs-lng').value !== ''")
        phone.select_option("#rs-category", str(pw.minor.pk))
        phone.fill("#rs-description", "河边步道暴露垃圾两袋")
        phone.click("#rs-submit")
        phone.wait_for_selector("[data-testid=field-queued]:has-text('已保存在手机里')")
        phone.wait_for_function("() => document.getElementById('cg-sync').dataset.count === '3'")
        assert phone.locator("#rs-photos").get_attribute("data-count") == "0"  # a fresh form for the next one
        phone.evaluate("() => window.scrollTo(0, 0)")
        phone.screenshot(path=str(SHOTS / "pwa-offline-report.png"))

        phone.goto(f"{base}/gridwork/")
        phone.wait_for_function("() => document.getElementById('cg-sync').dataset.count === '3'")
        items = phone.locator("[data-testid=cg-sync-list] li")
        assert items.count() == 3
        assert "离线中" in phone.locator("[data-testid=cg-sync-net]").inner_text()
        phone.screenshot(path=str(SHOTS / "pwa-offline-queue.png"), full_page=True)
        assert not Patrol.objects.exists() and not PointCheck.objects.exists() and not Case.objects.exists()

        # --- the network is back ---------------------------------------------------------------------
        ctx.set_offline(False)
        phone.wait_for_function(
            "() => document.getElementById('cg-sync').dataset.count === '0'"
            " && +document.getElementById('gw-queue').textContent === 0",
            timeout=45_000,  # a refused-for-now answer (the test server's SQLite is busy) is retried in 1, 2, 4 … s
        )
        patrol = Patrol.objects.get(worker=pw.grid_worker)
        checks = list(PointCheck.objects.order_by("at"))
        assert [c.point_id for c in checks] == [pw.market.pk, pw.river.pk]
        assert all(c.patrol_id == patrol.pk and c.valid for c in checks)
        assert checks[0].score == 90 and checks[1].case is not None
        field_case = Case.objects.exclude(pk=checks[1].case_id).get()
        assert field_case.description == "河边步道暴露垃圾两袋" and field_case.attachments.count() == 1
        assert Case.objects.count() == 2 and TrackPoint.objects.filter(patrol=patrol).count() >= 2
        phone.screenshot(path=str(SHOTS / "pwa-synced.png"))

        # a second sync sends nothing, and nothing is filed twice
        posts = []  # (the patrol goes on recording: its fixes are not the queue's business)
        phone.on(
            "request",
            lambda r: posts.append(r.url) if r.method == "POST" and "/points" not in r.url else None,
        )
        assert phone.evaluate("() => CGQueue.sync()") == {"sent": 0}
        assert posts == []
        assert PointCheck.objects.count() == 2 and Case.objects.count() == 2
    finally:
        ctx.close()


def test_the_field_page_opens_offline_after_one_visit_and_a_refused_report_can_be_discarded(
    browser, live_server, browser_login
):
    from tests.gridwork.conftest import PatrolWorld, inside

    pw = PatrolWorld()
    ctx = _phone(browser, inside(0))
    phone = ctx.new_page()
    phone.set_default_timeout(15_000)
    base = live_server.url
    try:
        browser_login(phone, pw.grid_worker)
        _installed(phone, f"{base}/field/")
        ctx.set_offline(True)
        r = phone.goto(f"{base}/field/")
        assert r.from_service_worker and r.status == 200
        phone.wait_for_selector("#rs-form")
        assert phone.locator("[data-testid=cg-sync-net]").inner_text() == "离线中"
        # a page never opened online: the worker's small offline page, not the browser's error
        r = phone.goto(f"{base}/gridwork/points/{pw.far_point.pk}/check/")
        assert r.from_service_worker and r.status == 503
        assert "当前没有网络" in phone.inner_text("h1")

        # a report queued for a category that is disabled before it syncs: refused (422), shown, discarded
        phone.goto(f"{base}/field/")
        phone.evaluate(
            """([cat, x, y]) => CGQueue.add({id: 'case-refused-1', kind: 'case', url: '/field/', label: '测试',
                fields: [{name: 'idempotency_key', value: 'refused-0001'}, {name: 'category', value: String(cat)},
                         {name: 'description', value: '停用分类的上报'}, {name: 'lng', value: String(x)},
                         {name: 'lat', value: String(y)},
                         {name: 'photos', blob: new Blob(['x'], {type: 'image/jpeg'}), filename: 'a.jpg'}]})""",
            [pw.minor.pk, *inside(0)],
        )
        ctx.set_offline(False)
        phone.wait_for_selector("[data-testid=cg-sync-list] li[data-status=failed]")
        error = phone.locator("[data-testid=cg-sync-list] [data-cg=error]").inner_text()
        assert error.startswith("上传失败：") and "照片" in error
        assert not Case.objects.exists()
        # not retried: another sync leaves it as it is
        phone.evaluate("() => CGQueue.sync()")
        assert phone.locator("[data-testid=cg-sync-list] li[data-status=failed]").count() == 1
        phone.screenshot(path=str(SHOTS / "pwa-sync-error.png"))
        phone.once("dialog", lambda d: d.accept())
        phone.click("[data-testid=cg-sync-list] [data-cg=discard]")
        phone.wait_for_function("() => document.getElementById('cg-sync').dataset.count === '0'")
    finally:
        ctx.close()
