"""舆情 in a real browser, end to end: the desk registers a 微博 post (the link is checked), 研判 it 较大, hands it to
the department with a 处置时限 within the level's bounds; the department reports its 处置; the desk publishes the
回应 and 办结; the printable record and the figures show it. Screenshots: docs/screenshots/opinion-*.png."""

from __future__ import annotations

import pytest

from civicgrid.opinion.models import OpinionDetail
from tests.browser.test_enforcement_browser import act, fresh_page
from tests.conftest import REPO

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = REPO / "docs" / "screenshots"


def test_an_opinion_from_collection_to_closing(browser, page, live_server, browser_login):
    from tests.opinion.conftest import OpinionWorld

    ow = OpinionWorld()
    browser_login(page, ow.dispatcher)
    page.goto(f"{live_server.url}/opinion/new/")
    page.select_option("[data-testid=platform]", "weibo")
    page.fill("[data-testid=media-name]", "@示范生活圈")
    page.fill("[data-testid=url]", "weibo.com/123")  # no scheme: refused
    page.fill("[data-testid=title]", "网友反映示范路工地夜间施工噪声扰民")
    page.fill("[data-testid=content]", "多名网友转发评论，称连续多晚22点后仍在施工")
    page.click("[data-testid=opinion-submit]")
    page.wait_for_selector("[data-testid=form-error]")
    assert "http:// 或 https://" in page.locator("[data-testid=form-error]").inner_text()
    page.fill("[data-testid=url]", "https://weibo.com/1234567890/NxYz")
    page.screenshot(path=str(SHOTS / "opinion-register.png"), full_page=True)
    page.click("[data-testid=opinion-submit]")
    page.wait_for_selector("[data-testid=opinion-record]")
    d = OpinionDetail.objects.select_related("case").get()

    page.goto(f"{live_server.url}/cases/{d.case_id}/")
    page.wait_for_selector("[data-testid=state]:text-is('已收集')")
    act(page, "assess", fill={"assessment": "涉及施工扰民，转发量上升，需快速处置回应"}, select={"level": "较大"},
        shot="opinion-assess.png")  # fmt: skip
    page.wait_for_selector("[data-testid=state]:text-is('已研判')")
    act(page, "assign_handling", fill={"amount": "5"}, select={"department": "城管中队"})
    page.wait_for_selector("details[data-move=assign_handling][open] [data-testid=field-error]")
    assert "1 到 3 个自然日" in page.locator("details[data-move=assign_handling]").inner_text()
    form = page.locator("details[data-move=assign_handling] form")
    form.locator("[name=assign_handling-amount]").fill("2")
    form.locator("[data-testid=submit-assign_handling]").click()
    page.wait_for_selector("[data-testid=state]:text-is('处置中')")

    ctx, dept_page = fresh_page(browser)
    browser_login(dept_page, ow.handler)
    dept_page.goto(f"{live_server.url}/cases/{d.case_id}/")
    dept_page.wait_for_selector("[data-testid=state]:text-is('处置中')")
    act(
        dept_page,
        "report_handled",
        fill={"actions": "约谈施工单位，责令22时后停止施工", "note": "已现场核实"},
    )
    dept_page.wait_for_selector("[data-testid=state]:text-is('待回应')")
    ctx.close()

    page.goto(f"{live_server.url}/cases/{d.case_id}/")
    act(
        page,
        "respond",
        fill={
            "response_text": "经核实，已责令施工单位夜间停工，感谢网友监督。",
            "response_channel": "示范街道官方微博",
        },
    )
    page.wait_for_selector("[data-testid=state]:text-is('已回应')")
    act(page, "conclude")
    page.wait_for_selector("[data-testid=state]:text-is('办结')")

    page.goto(f"{live_server.url}/opinion/{d.case_id}/")
    assert page.locator("[data-testid=record-level]").inner_text() == "较大"
    assert "夜间停工" in page.locator("[data-testid=record-response]").inner_text()
    page.screenshot(path=str(SHOTS / "opinion-record.png"), full_page=True)
    page.goto(f"{live_server.url}/opinion/figures/")
    assert page.locator("[data-testid=fig-collected]").inner_text() == "1"
    assert page.locator("[data-testid=fig-rate]").inner_text() == "100.0%"
    page.screenshot(path=str(SHOTS / "opinion-figures.png"), full_page=True)
