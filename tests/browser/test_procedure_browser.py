"""A case of another 办理程序 (tests/procedure_app.py: 测试整改) in a real browser: its detail page shows the
buttons generated from its table; 交办整改 opens a generated form (department + 整改期限 within bounds) and moves
the case, with no view code of its own. The header names the case's 街道."""

from __future__ import annotations

import pytest

from civicgrid.cases import services
from tests.procedure_app import CODE, RectifyDetail

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_generated_button_moves_a_case_of_another_procedure(page, live_server, browser_login):
    from tests.cases.factories import World

    world = World()
    case = services.create_case(
        actor=world.dispatcher,
        source="grid_patrol",
        description="消防通道被杂物堵塞",
        category=world.category,
        grid=world.grid,
        address="示范路2号",
        procedure=CODE,
    )
    browser_login(page, world.dispatcher)
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    page.wait_for_selector("[data-testid=state]:text-is('发现隐患')")
    assert page.locator("[data-testid=procedure]").inner_text() == "测试整改程序"
    # the header names the case's 街道
    assert page.locator("[data-testid=case-street]").inner_text() == world.grid.community.street.name

    page.click("[data-testid=action-assign_fix]")
    form = page.locator("details[data-move=assign_fix] form")
    form.wait_for(state="visible")
    form.locator("select[name=assign_fix-department]").select_option(label="城管中队")
    form.locator("input[name=assign_fix-amount]").fill("40")
    form.locator("[data-testid=submit-assign_fix]").click()
    page.wait_for_selector("details[data-move=assign_fix][open] [data-testid=field-error]")
    assert "1 到 30 个自然日" in page.locator("details[data-move=assign_fix]").inner_text()

    form = page.locator("details[data-move=assign_fix] form")
    form.locator("input[name=assign_fix-amount]").fill("10")
    form.locator("[data-testid=submit-assign_fix]").click()
    page.wait_for_selector("[data-testid=state]:text-is('已交办')")
    assert "已交办整改" in page.locator(".alert-success").inner_text()
    case.refresh_from_db()
    assert (case.state, case.stage, case.limit_amount, case.department_id) == (
        "assigned",
        "rectify",
        10,
        world.dept.pk,
    )
    RectifyDetail.objects.filter(
        case_id=case.pk
    ).delete()  # its table is not flushed between transactional tests
