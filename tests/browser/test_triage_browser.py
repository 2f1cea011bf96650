"""智能分拨 in a real browser: a dispatcher opens a reported 12345 complaint, sees the three suggested categories
with the words behind them and the suggested department, clicks 采用 on the first — the 受理立案 form is filled
and opened — and files the case; the suggestion and the final choice are recorded.
Screenshots: docs/screenshots/triage-panel.png, triage-picked.png."""

from __future__ import annotations

import pytest

from civicgrid.triage.models import Outcome, TriageSuggestion
from tests.conftest import REPO

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = REPO / "docs" / "screenshots"


def test_dispatcher_sees_suggestions_with_reasons_and_accepts_one(
    page, live_server, browser_login, settings, tmp_path
):
    from civicgrid.triage import modelstore
    from tests.triage.conftest import TriageWorld

    settings.DATA_DIR = tmp_path  # no learned model: the cold start
    modelstore.forget()
    tw = TriageWorld()
    oil = tw.cat["油烟污染"]
    oil.default_department = tw.dept2
    oil.save()
    case = tw.complaint(
        "市民来电反映：文一路88号楼下烧烤店油烟直排，每天傍晚熏得楼上住户开不了窗，\n多次反映未解决，请尽快处理。",
        source="hotline_12345",
    )

    browser_login(page, tw.dispatcher)
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    page.wait_for_selector("[data-testid=triage-panel]")
    items = page.locator("[data-testid=triage-item]")
    assert 1 <= items.count() <= 3
    first = items.nth(0)
    assert "油烟污染" in first.locator("[data-testid=triage-name]").inner_text()
    terms = first.locator("[data-testid=triage-terms]").inner_text()
    assert "油烟直排" in terms and "烧烤店" in terms
    assert page.locator("[data-testid=triage-department]").inner_text() == tw.dept2.name
    page.locator("[data-testid=triage-panel]").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "triage-panel.png"))

    first.locator("[data-testid=triage-use]").click()
    page.wait_for_selector("[data-testid=triage-picked]")
    page.wait_for_function(
        "(id) => document.querySelector('select[name=\"accept-category\"]').value === String(id)", arg=oil.pk
    )
    assert page.locator("details[data-move=accept]").get_attribute("open") is not None
    page.screenshot(path=str(SHOTS / "triage-picked.png"))

    page.click("[data-testid=submit-accept]")
    page.wait_for_selector(".alert-success")
    case.refresh_from_db()
    assert case.state == "accepted" and case.category_id == oil.pk
    row = TriageSuggestion.objects.get(case=case)
    assert row.picked_category_id == oil.pk and row.shown_to == tw.dispatcher
    row.refresh_from_db()
    assert row.final_category_id == oil.pk and row.outcome == Outcome.ACCEPTED
