"""入户走访 and the patrol track offline, in a real browser (Debian chromium, 390×844, a fake GPS).

One online visit to 巡查打卡 and 一户一档 installs the service worker and keeps the 户 list and each 户's visit
form on the phone. In a dead spot the 网格员 starts a patrol (the GPS fixes go to IndexedDB, not localStorage),
records a home visit whose finding is filed as a 安全隐患, and stops the patrol: nothing reaches the server. Back
online the visit arrives once (with its 隐患), every queued fix arrives once, and re-sending the visit stores
nothing. Then the 一户一档 card on the phone and as an A4 PDF (one page). Screenshots:
docs/screenshots/registers-visit-offline.png, registers-household-card.png."""

from __future__ import annotations

from datetime import date

import pytest

from civicgrid.cases.models import Case
from civicgrid.gridwork import defaults as gw_defaults
from civicgrid.gridwork.models import GridworkRule, Patrol, TrackPoint
from civicgrid.registers import services
from civicgrid.registers.models import AssistancePayment, Visit
from tests.conftest import REPO
from tests.gridwork.conftest import inside

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = REPO / "docs" / "screenshots"


def test_an_offline_visit_and_track_arrive_exactly_once_after_reconnect(browser, live_server, browser_login):
    from tests.registers.conftest import RegWorld

    rw = RegWorld()
    gw_defaults.ensure()
    rule = GridworkRule.current()
    rule.gps_seconds = 1
    rule.save()
    here = inside(0, 0.4, 0.4)
    ctx = browser.new_context(
        locale="zh-CN",
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
        geolocation={"longitude": here[0], "latitude": here[1], "accuracy": 10},
        permissions=["geolocation"],
        service_workers="allow",
    )
    phone = ctx.new_page()
    phone.set_default_timeout(15_000)
    base = live_server.url
    ready = "() => document.documentElement.dataset.cgOffline === 'ready'"
    try:
        browser_login(phone, rw.grid_worker)
        phone.goto(f"{base}/gridwork/")
        phone.wait_for_function(ready, timeout=30_000)
        phone.goto(f"{base}/registers/households/")
        phone.wait_for_function(ready, timeout=30_000)
        assert int(phone.evaluate("() => document.documentElement.dataset.cgWarmed")) == 2  # list + 1 form

        # --- a dead spot: patrol, visit, stop ------------------------------------------------------
        ctx.set_offline(True)
        phone.goto(f"{base}/gridwork/")
        phone.click("[data-testid=gw-start]")
        phone.wait_for_selector("[data-testid=gw-status]:text-is('巡查中（等待网络）')")
        phone.wait_for_function("() => +document.getElementById('gw-queue').textContent >= 2")
        assert phone.evaluate("() => localStorage.getItem('cg.gw.queue')") is None  # fixes live in IndexedDB

        phone.goto(f"{base}/registers/households/")
        phone.click(f"[data-testid=visit-hh-{rw.household.pk}]")
        phone.wait_for_selector("[data-testid=visit-target]:has-text('示范小区1幢302室')")
        phone.click("label[for=m-home]")
        phone.fill("[data-testid=visit-notes]", "独居老人，精神状态良好")
        phone.check("[data-testid=to-case]")
        phone.check("[data-testid=report-as-hazard]")
        phone.fill("[data-testid=finding]", "厨房燃气软管老化开裂")
        phone.click("[data-testid=visit-submit]")
        phone.wait_for_url(f"{base}/registers/households/")
        phone.wait_for_function("() => document.getElementById('cg-sync').dataset.count === '1'")
        assert "入户走访" in phone.inner_text("[data-testid=cg-sync-list]")
        phone.screenshot(path=str(SHOTS / "registers-visit-offline.png"))

        phone.goto(f"{base}/gridwork/")
        phone.wait_for_selector("[data-testid=gw-status]:text-is('巡查中（等待网络）')")
        phone.click("[data-testid=gw-stop]")
        queued = phone.evaluate("() => CGQueue.fixes.all().then((fs) => fs.map((f) => f.id))")
        assert len(queued) >= 2
        assert not Visit.objects.exists() and not Patrol.objects.exists() and not Case.objects.exists()

        # --- the network is back ---------------------------------------------------------------------
        ctx.set_offline(False)
        phone.wait_for_function(
            "() => document.getElementById('gw-panel').dataset.state === 'stopped'"
            " && document.getElementById('cg-sync').dataset.count === '0'",
            timeout=45_000,
        )
        visit = Visit.objects.get()
        assert (
            visit.household_id == rw.household.pk
            and visit.method == "home"
            and visit.visitor == rw.grid_worker
        )
        assert visit.case.procedure == "hazard" and "燃气软管" in visit.case.description
        patrol = Patrol.objects.get(worker=rw.grid_worker)
        stored = list(TrackPoint.objects.filter(patrol=patrol).values_list("client_id", flat=True))
        assert sorted(stored) == sorted(queued) and patrol.ended_at is not None
        assert phone.evaluate("() => CGQueue.fixes.all().then((fs) => fs.length)") == 0

        # the same visit sent again (a lost answer) is stored once; a second sync sends nothing
        again = phone.evaluate(
            """(body) => fetch('/api/v1/registers/visits', {method: 'POST', credentials: 'same-origin',
                 headers: {'Content-Type': 'application/json', 'X-CSRFToken': document.cookie.match(/csrftoken=([^;]+)/)[1]},
                 body: JSON.stringify(body)}).then((r) => r.json())""",
            {"client_id": visit.client_id, "target_kind": "household", "target_id": rw.household.pk,
             "method": "home", "finding": "厨房燃气软管老化开裂", "report_as": "hazard"},
        )  # fmt: skip
        assert again["id"] == visit.pk and again["replayed"] is True
        assert phone.evaluate("() => CGQueue.sync()") == {"sent": 0}
        assert Visit.objects.count() == 1 and Case.objects.count() == 1
        assert TrackPoint.objects.count() == len(queued)
    finally:
        ctx.close()


def test_the_household_card_on_a_phone_and_as_one_a4_page(phone_page, browser, live_server, browser_login):
    from tests.registers.conftest import RegWorld

    rw = RegWorld()
    item = services.save_assistance(
        actor=rw.community_staff, household=rw.household, kind="dibao", recognized_on=date(2024, 3, 1),
        review_on=date(2026, 3, 1), monthly_amount=1180, person=rw.granny,
    )  # fmt: skip
    AssistancePayment.objects.bulk_create(
        AssistancePayment(street_id=rw.household.street_id, household=rw.household, person=rw.granny, item=item,
                          kind="dibao", month=date(2026, m, 1), amount=1180)
        for m in range(1, 11)
    )  # fmt: skip
    browser_login(phone_page, rw.grid_worker)
    phone_page.goto(f"{live_server.url}/registers/households/{rw.household.pk}/card/")
    phone_page.wait_for_selector("[data-testid=payment-years]:has-text('2026 年累计发放 11800.00 元')")
    assert phone_page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
    phone_page.screenshot(path=str(SHOTS / "registers-household-card.png"), full_page=True)
    # printed: A4, one page, without the buttons
    ctx = browser.new_context(locale="zh-CN", viewport={"width": 1000, "height": 1400})
    desk = ctx.new_page()
    try:
        browser_login(desk, rw.grid_worker)
        desk.goto(f"{live_server.url}/registers/households/{rw.household.pk}/card/")
        desk.emulate_media(media="print")
        assert desk.locator("[data-testid=card-print]").is_hidden()
        pdf = desk.pdf(format="A4", prefer_css_page_size=True)
        assert pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page>") + pdf.count(b"/Type /Page ") == 1
    finally:
        ctx.close()
