"""矛盾纠纷 in a real browser: the desk registers a police transfer (the 派出所/警情号 fields appear for that
source), 受理 with the generated form, records a 调解 session, 调解成功 with the agreement's terms, downloads the
协议书, 回访 and 结案; the detail page prints as a 调解登记表. Screenshots: docs/screenshots/disputes-*.png."""

from __future__ import annotations

import pytest

from civicgrid.cases.models import Case
from civicgrid.disputes import agreement
from civicgrid.disputes.models import DisputeDetail
from tests.conftest import REPO

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = REPO / "docs" / "screenshots"


def act(page, move, fill=None, select=None):
    """Open a generated action of the dispute page, fill it in, submit, wait for the page to come back."""
    page.click(f"[data-testid=action-{move}]")
    form = page.locator(f"details[data-move={move}] form")
    form.wait_for(state="visible")
    for name, value in (fill or {}).items():
        form.locator(f"[name={move}-{name}]").fill(value)
    for name, value in (select or {}).items():
        form.locator(f"[name={move}-{name}]").select_option(value)
    form.locator(f"[data-testid=submit-{move}]").click()
    page.wait_for_selector(".alert-success")


def test_register_mediate_agree_print_revisit_and_close(page, live_server, browser_login, tmp_path):
    from tests.disputes.conftest import DisputeWorld

    dw = DisputeWorld()
    browser_login(page, dw.dispatcher)

    # 1. 登记: a police transfer; its own fields show for that source only
    page.goto(f"{live_server.url}/disputes/new/")
    page.wait_for_function("() => document.documentElement.dataset.disputesReady === '1'")
    assert not page.locator("[name=police_ref]").is_visible()
    page.select_option("[name=source]", "police")
    page.locator("[name=police_ref]").wait_for(state="visible")
    page.fill("[name=police_station]", "示范派出所")
    page.fill("[name=police_ref]", "JQ202611260015")
    page.select_option("[name=dispute_type]", str(dw.types["neighbour"].pk))
    page.select_option("[name=org]", str(dw.studio.pk))
    page.select_option("[name=grid]", str(dw.grid.pk))
    page.fill("[name=address]", "示范路1号3单元")
    page.fill("[name=amount]", "3000")
    page.fill("[name=description]", "楼上卫生间漏水致楼下天花板受损，双方争执，派出所出警后移交调解")
    page.fill("[name=party0_name]", "张建国")
    page.fill("[name=party0_phone]", "13812345678")
    page.fill("[name=party1_name]", "李秀英")
    page.fill("[name=party1_phone]", "13987654321")
    page.screenshot(path=str(SHOTS / "disputes-register.png"), full_page=True)
    page.click("[data-testid=register-submit]")
    page.wait_for_selector("[data-testid=state]:text-is('待受理')")
    case = Case.objects.get(procedure="dispute")
    assert case.dispute_detail.police_ref == "JQ202611260015"

    # 2. 受理 (调解期限 30 自然日 by default), one session, 调解成功
    act(page, "admit")
    page.wait_for_selector("[data-testid=state]:text-is('调解中')")
    page.click("[data-testid=add-session]")
    page.fill("[name=mediators]", "王建华、李淑芬")
    page.fill("[name=notes]", "召集双方面对面调解，查看漏水现场，释明相邻关系的法律规定")
    page.click("[data-testid=session-submit]")
    page.wait_for_selector("[data-testid=session]")
    act(
        page,
        "settle",
        fill={"agreement_terms": "李秀英一次性赔偿张建国维修费 3000 元，于 12 月 5 日前付清；双方再无争议。"},
    )
    page.wait_for_selector("[data-testid=state]:text-is('调解成功')")
    assert "调协字" in page.locator("[data-testid=fact-agreement-no]").inner_text()

    # 3. the 协议书 (Word), filled from the template
    with page.expect_download() as dl:
        page.click("[data-testid=agreement-docx]")
    path = tmp_path / "agreement.docx"
    dl.value.save_as(path)
    text = agreement.text_of(path.read_bytes())
    assert "人民调解协议书" in text and "李秀英一次性赔偿张建国维修费 3000 元" in text and "王建华" in text

    # 4. 回访 with 履行情况, then 结案
    act(page, "revisit", fill={"followup_result": "已按协议付清，双方满意"}, select={"fulfilment": "full"})
    page.wait_for_selector("[data-testid=state]:text-is('已回访')")
    act(page, "conclude")
    page.wait_for_selector("[data-testid=state]:text-is('已结案')")
    d = DisputeDetail.objects.get(case=case)
    assert (d.outcome, d.fulfilment, d.case.state) == ("success", "full", "closed")
    assert page.locator("[data-testid=fact-fulfilment]").inner_text() == "已履行"
    page.screenshot(path=str(SHOTS / "disputes-detail.png"), full_page=True)

    # 5. the printed 调解登记表: no menu, no buttons
    page.emulate_media(media="print")
    assert not page.locator("[data-testid=actions]").is_visible()
    assert not page.locator("[data-testid=print]").is_visible()
    page.screenshot(path=str(SHOTS / "disputes-print.png"), full_page=True)
    page.emulate_media(media="screen")

    # 6. the ledger and the figures
    page.goto(f"{live_server.url}/disputes/")
    page.wait_for_selector("[data-testid=dispute-row]")
    page.goto(f"{live_server.url}/disputes/figures/")
    assert page.locator("[data-testid=fig-rate]").inner_text() == "100.0%"
    page.screenshot(path=str(SHOTS / "disputes-figures.png"), full_page=True)
