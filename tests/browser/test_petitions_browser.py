"""信访 in a real browser: the 信访办 registers a 信访 on the form, then on its case page gives the 受理告知,
hands it to a department, replies and closes it with the procedure's generated buttons; the detail page prints;
a 网格员 of that grid cannot open it. Screenshots: docs/screenshots/petitions-*.png."""

from __future__ import annotations

import pytest

from civicgrid.petitions.models import PetitionDetail
from tests.conftest import REPO

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = REPO / "docs" / "screenshots"


def _do(page, move: str, fill: dict | None = None, state: str = ""):
    page.click(f"[data-testid=action-{move}]")
    form = page.locator(f"details[data-move={move}] form")
    form.wait_for(state="visible")
    for name, value in (fill or {}).items():
        field = form.locator(f"[name={move}-{name}]")
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    form.locator(f"[data-testid=submit-{move}]").click()
    if state:
        page.wait_for_selector(f"[data-testid=state]:text-is('{state}')")


def test_desk_registers_accepts_handles_replies_and_closes_a_petition(page, live_server, browser_login):
    from tests.petitions.conftest import PetitionWorld

    pw = PetitionWorld()
    browser_login(page, pw.desk)
    page.goto(f"{live_server.url}/petitions/new/")
    page.select_option("[data-testid=f-form]", "visit")
    page.fill("[data-testid=f-name]", "张建国")
    page.fill("#f-phone", "13812345678")
    page.fill("[data-testid=f-summary]", "小区加装电梯意见分歧，要求街道协调")
    page.select_option("[data-testid=f-lead]", str(pw.lead.pk))
    page.select_option("[data-testid=f-grid]", str(pw.grid.pk))
    page.screenshot(path=str(SHOTS / "petitions-register.png"), full_page=True)
    page.click("[data-testid=petition-submit]")
    page.wait_for_selector("[data-testid=petition-detail]")
    d = PetitionDetail.objects.get()
    assert d.petitioner_name == "张建国" and d.lead == pw.lead and d.case.state == "registered"
    assert "受理告知期限" in page.locator("[data-testid=petition-due]").inner_text()

    page.click("[data-testid=petition-handle]")
    page.wait_for_selector("[data-testid=state]:text-is('待受理')")
    _do(page, "notify_accept", {"note": "已当面告知受理"}, "办理中")
    _do(page, "assign_dept", {"department": str(pw.dept.pk)}, "部门办理")
    d.case.refresh_from_db()
    assert d.case.department == pw.dept and d.case.stage == "handle"

    # the department reports back (its own login), the desk replies and closes
    from civicgrid.petitions import services

    services.move(actor=pw.handler, case=d.case, name="report_result", note="已协调",
                  detail={"opinion": "召开业主协商会，达成一致意见"})  # fmt: skip
    page.reload()
    page.wait_for_selector("[data-testid=state]:text-is('办理中')")
    _do(page, "reply", {"reply": "支持加装电梯，按程序公示后实施"}, "已答复")
    page.screenshot(path=str(SHOTS / "petitions-handle.png"), full_page=True)
    _do(page, "close", {}, "已办结")
    d.refresh_from_db()
    assert d.done_at is not None and d.done_on_time is True and d.case.state == "closed"

    page.goto(f"{live_server.url}/petitions/{d.case_id}/")
    page.wait_for_selector("[data-testid=petition-print]")
    assert "（按期）" in page.locator("[data-testid=petition-done]").inner_text()
    page.emulate_media(media="print")
    page.screenshot(path=str(SHOTS / "petitions-print.png"), full_page=True)
    page.emulate_media(media="screen")
    page.goto(f"{live_server.url}/petitions/")
    page.wait_for_selector("[data-testid=petition-ledger]")
    assert "张**" in page.locator("[data-testid=petition-ledger]").inner_text()
    page.screenshot(path=str(SHOTS / "petitions-ledger.png"), full_page=True)

    # a 网格员 of that very grid sees nothing of it
    page.context.clear_cookies()
    browser_login(page, pw.grid_worker)
    r = page.goto(f"{live_server.url}/petitions/{d.case_id}/")
    assert r.status == 404
    r = page.goto(f"{live_server.url}/cases/{d.case_id}/")
    assert r.status == 404
    page.goto(f"{live_server.url}/cases/")
    assert "加装电梯" not in page.content()
