"""基础台账 in a real browser. A 网格员 on a phone (390×844) opens the 重点人员 list, sees 王阿婆 (独居高龄) overdue,
goes to her 户, records a home visit with the "1+4+X" items, marks one as a problem and turns the finding into a
case in one tap; she drops off the overdue list. A 领导 at a desk sees her masked on the list and the detail page,
opens the full ID number with a reason, and the access is listed. Screenshots: docs/screenshots/registers-*.png."""

from __future__ import annotations

from datetime import timedelta

import pytest

from civicgrid.core import clock
from civicgrid.registers.models import AccessLog, Person, Visit
from tests.conftest import REPO
from tests.registers.conftest import id_number

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = REPO / "docs" / "screenshots"


def test_phone_visit_of_an_overdue_key_person_finding_to_case_and_the_leaders_masked_and_full_view(
    phone_page, page, live_server, browser_login
):
    from tests.registers.conftest import RegWorld

    rw = RegWorld()
    Person.objects.filter(pk=rw.granny.pk).update(created_at=clock.now() - timedelta(days=45))
    phone = phone_page
    # 1. the 网格员's overdue list
    browser_login(phone, rw.grid_worker)
    phone.goto(f"{live_server.url}/registers/overdue/")
    phone.wait_for_selector("[data-testid=overdue-list] >> text=王阿婆")
    assert phone.inner_text("[data-testid=overdue-count]") == "1"
    assert phone.locator("text=超期 15 天").count() == 1
    phone.screenshot(path=str(SHOTS / "registers-overdue.png"))
    # 2. to the 户 and the visit form
    phone.click("[data-testid=overdue-visit]")
    phone.wait_for_selector("[data-testid=visit-target]:has-text('示范小区1幢302室')")
    phone.click("label[for=m-home]")
    bad = phone.locator("[data-testid=item-bad-1]")
    phone.click(f"label[for={bad.get_attribute('id')}]")
    phone.fill("[data-testid=visit-notes]", "老人独居，身体尚可；已宣传反诈知识")
    phone.check("[data-testid=to-case]")
    phone.fill("[data-testid=finding]", "楼道内电动车充电，存在火灾隐患")
    phone.locator("[data-testid=finding]").scroll_into_view_if_needed()
    phone.screenshot(path=str(SHOTS / "registers-visit.png"))
    phone.click("[data-testid=visit-submit]")
    phone.wait_for_selector("[data-testid=visit-case]")
    phone.screenshot(path=str(SHOTS / "registers-visit-done.png"))
    visit = Visit.objects.get()
    assert visit.case is not None and "电动车充电" in visit.case.description
    assert list(visit.persons.all()) == [rw.granny] and visit.results.filter(ok=False).count() == 1
    # no horizontal scrolling on the phone
    assert phone.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
    phone.goto(f"{live_server.url}/registers/overdue/")
    phone.wait_for_selector("[data-testid=overdue-count]:text-is('0')")

    # 3. the 领导: masked on the list and detail, full only with a reason, logged
    browser_login(page, rw.leader)
    page.goto(f"{live_server.url}/registers/?tag=duju")
    page.wait_for_selector("[data-testid=person-list] >> text=王阿婆")
    list_text = page.inner_text("[data-testid=person-list]")
    assert rw.granny.id_masked in list_text and id_number(1) not in list_text
    page.click("text=王阿婆")
    page.wait_for_selector("[data-testid=person-id]")
    assert page.inner_text("[data-testid=person-id]") == rw.granny.id_masked
    assert page.inner_text("[data-testid=person-phone]") == "138****5678"
    page.screenshot(path=str(SHOTS / "registers-masked.png"))
    page.fill("[data-testid=reveal-reason]", "低保复核核对身份")
    page.click("[data-testid=reveal]")
    page.wait_for_selector("[data-testid=full-shown]")
    assert page.inner_text("[data-testid=person-id]") == id_number(1)
    assert page.inner_text("[data-testid=person-phone]") == "13812345678"
    page.screenshot(path=str(SHOTS / "registers-full.png"))
    log = AccessLog.objects.get()
    assert (log.user, log.person, log.reason) == (rw.leader, rw.granny, "低保复核核对身份")
    # a reload is masked again and lists the access
    page.goto(f"{live_server.url}/registers/persons/{rw.granny.pk}/")
    page.wait_for_selector("[data-testid=access-log] >> text=低保复核核对身份")
    assert page.inner_text("[data-testid=person-id]") == rw.granny.id_masked
