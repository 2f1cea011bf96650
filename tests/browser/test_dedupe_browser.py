"""合并 in a real browser: the same overflowing bin is reported twice; the dispatcher opens the later case, sees the
earlier one offered as a near-duplicate with its score and reasons (distance, text and address similarity, same
grid, same category), merges in one click — the page reloads showing the case merged into the first one, which
lists it. Screenshots: docs/screenshots/dedupe-panel.png, dedupe-merged.png."""

from __future__ import annotations

import pytest

from civicgrid.cases.models import CaseState
from civicgrid.triage import duplicates
from civicgrid.triage.models import DuplicateCandidate, DuplicateStatus
from tests.conftest import REPO
from tests.factories import ORIGIN_LAT, ORIGIN_LNG, STEP

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = REPO / "docs" / "screenshots"


def test_dispatcher_merges_a_near_duplicate_from_the_case_page(
    page, live_server, browser_login, settings, tmp_path
):
    from civicgrid.triage import modelstore
    from tests.triage.conftest import TriageWorld

    settings.DATA_DIR = tmp_path
    modelstore.forget()
    duplicates.STORE.reset()
    tw = TriageWorld()
    where = {"lng": ORIGIN_LNG + STEP / 2, "lat": ORIGIN_LAT + STEP / 2, "address": "文一路88号院"}
    first = tw.report(
        description="文一路88号院门口的垃圾桶已经满了好几天没人清运，味道很大",
        category=tw.cat["暴露垃圾"],
        **where,
    )
    later = tw.report(
        description="市民来电：文一路88号院门口垃圾桶满了好几天都没有人来清运，气味很大，请尽快处理。",
        category=tw.cat["暴露垃圾"],
        **{**where, "lng": where["lng"] + 0.0002},
    )
    from civicgrid.triage import services

    services.process_intake(settle_seconds=0)  # the intake round (every few seconds on a server)
    row = DuplicateCandidate.objects.get(case=later)
    assert row.candidate_id == first.pk

    browser_login(page, tw.dispatcher)
    page.goto(f"{live_server.url}/cases/{later.pk}/")
    page.wait_for_selector("[data-testid=dup-panel]")
    page.wait_for_selector("[data-testid=triage-source]")  # the 智能分拨 panel above has loaded too
    item = page.locator("[data-testid=dup-item]")
    assert item.count() == 1
    assert item.locator("[data-testid=dup-number]").inner_text() == first.display_number
    reasons = item.locator("[data-testid=dup-reasons]").inner_text()
    assert "相距 19 米" in reasons or "相距 2" in reasons or "相距 1" in reasons
    assert "同一网格" in reasons and "同一小类" in reasons and "地址相似 1.00" in reasons
    page.locator("[data-testid=dup-panel]").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "dedupe-panel.png"))

    page.once("dialog", lambda d: d.accept())
    item.locator("[data-testid=dup-merge]").click()
    page.wait_for_selector("[data-testid=dup-master]")
    assert first.display_number in page.locator("[data-testid=dup-master]").inner_text()
    later.refresh_from_db()
    row.refresh_from_db()
    assert later.state == CaseState.MERGED and later.duplicate_of_id == first.pk
    assert row.status == DuplicateStatus.MERGED and row.decided_by == tw.dispatcher
    page.locator("[data-testid=dup-panel]").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "dedupe-merged.png"))

    page.goto(f"{live_server.url}/cases/{first.pk}/")
    page.wait_for_selector("[data-testid=dup-merged-in]")
    assert later.display_number in page.locator("[data-testid=dup-merged-in]").inner_text()
