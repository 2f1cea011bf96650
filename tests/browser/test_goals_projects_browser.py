"""重点项目 节点 and 民生微实事 in a real browser: the 街道's 领导 opens the Gantt of the demo projects (planned vs actual,
late 节点 flagged), enters a project's 节点 and raises a problem (→ a 工单), moves an elevator to its next stage, and
runs 民生微实事 through the flow with its buttons. Screenshots: docs/screenshots/goals-{gantt,project,micro}.png."""

from __future__ import annotations

import random

import pytest

from civicgrid.accounts.roles import Role
from civicgrid.demo import goals as demo_goals
from civicgrid.goals.models import MicroProject, Project, ProjectIssue
from tests.conftest import REPO
from tests.factories import StreetFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = REPO / "docs" / "screenshots"


def test_gantt_project_milestones_and_micro_flow(page, live_server, browser_login):
    street = StreetFactory()
    demo_goals.load_goals(street, random.Random(20260101), year=2026, month=10)
    leader = UserFactory(role=Role.LEADER, street=street, full_name="王主任")
    browser_login(page, leader)

    # 1. the Gantt: ten projects, planned and actual marks, late ones flagged
    page.goto(f"{live_server.url}/goals/gantt/?year=2026")
    page.wait_for_selector("[data-testid=gantt-row]")
    assert page.locator("[data-testid=gantt-row]").count() == 10
    assert page.locator("[data-testid=mark-plan]").count() == 59
    assert page.locator("[data-testid=mark-actual]").count() > 20
    assert page.locator("[data-testid=gantt-late]").count() >= 3
    # the marks sit inside their track (positions computed on the server)
    assert page.evaluate(
        """() => [...document.querySelectorAll('[data-testid=mark-plan]')].every(m => {
            const t = m.parentElement.getBoundingClientRect(), r = m.getBoundingClientRect();
            return r.left >= t.left - 8 && r.right <= t.right + 8 && r.width > 0; })"""
    )
    page.screenshot(path=str(SHOTS / "goals-gantt.png"), full_page=True)

    # 2. a project: enter its 竣工 plan, raise a problem (→ 工单)
    school = Project.objects.get(name="九年一贯制学校新建工程")
    page.click(f"a[href='/goals/projects/{school.pk}/']")
    page.wait_for_selector("[data-testid=milestones]")
    assert page.locator("[data-testid=permit-state]").get_attribute("data-state") == "late_done"
    page.fill("[data-testid=completed-planned]", "2027-08-30")
    page.click("[data-testid=milestones-save]")
    page.wait_for_selector(".alert-success")
    assert page.locator("[data-testid=completed-state]").get_attribute("data-state") == "pending"
    page.fill("[data-testid=issue-text]", "东侧地块高压线迁改未完成，影响桩基施工")
    page.click("[data-testid=issue-raise]")
    page.wait_for_selector("[data-testid=issue-case]")
    issue = ProjectIssue.objects.get(project=school)
    assert issue.case.description.startswith("【重点项目问题】九年一贯制学校新建工程")

    # 3. 电梯加装: one elevator from 完工待交付 to 投用
    lift = Project.objects.get(category="elevator")
    page.goto(f"{live_server.url}/goals/projects/{lift.pk}/")
    page.wait_for_selector("[data-testid=stage-items]")
    assert (
        page.locator("[data-testid=stage-text]")
        .inner_text()
        .startswith("38台已投入使用，5台已完工待交付，11台正在施工，16台正在按程序申报")
    )
    row = page.locator("[data-testid=stage-item]", has_text="完工待交付").first
    row.locator("[data-testid=item-advance]").click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=stage-text]').innerText.startsWith('39台已投入使用，4台')"
    )
    page.screenshot(path=str(SHOTS / "goals-project.png"), full_page=True)

    # 4. 民生微实事: 17 decided; one more passes 议事; one refused needs a reason
    page.click("[data-testid=tab-micro]")
    page.wait_for_selector("[data-testid=micro-table]")
    assert page.locator("[data-testid=micro-sentence]").inner_text() == "确定2026年民生微实事项目17件"
    row = page.locator("[data-testid=micro-row]", has_text="西溪社区休闲座椅")
    row.locator("[data-testid=micro-advance]").click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=micro-sentence]').innerText.endsWith('18件')"
    )
    assert (
        page.locator("[data-testid=micro-row]", has_text="西溪社区休闲座椅").get_attribute("data-step")
        == "decide"
    )
    row = page.locator("[data-testid=micro-row]", has_text="文新社区屋顶花园")
    row.locator("[data-testid=micro-drop]").click()
    page.wait_for_selector(".alert-danger")
    assert "请填写不予采纳的理由" in page.content()
    row = page.locator("[data-testid=micro-row]", has_text="文新社区屋顶花园")
    row.locator("[data-testid=micro-note]").fill("预算超过微实事上限，转入年度民生实事")
    row.locator("[data-testid=micro-drop]").click()
    page.wait_for_selector("[data-testid=micro-row][data-step=dropped] >> text=文新社区屋顶花园")
    assert MicroProject.objects.get(name="文新社区屋顶花园").step == "dropped"
    page.screenshot(path=str(SHOTS / "goals-micro.png"), full_page=True)
