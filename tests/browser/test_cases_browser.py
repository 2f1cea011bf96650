"""The case story in a real browser: 上报 → 立案 → 派遣 → 签收 → 处置 → 核查 → 结案 → 回访.

A dispatcher reports a case through the create form (map click → grid), accepts and dispatches it to 城管中队; the
department handler signs and finishes it with an after-photo; the grid worker verifies it on a phone; the
dispatcher closes and rates it. The state badge and the timeline are checked after every step, and screenshots
of the list, the detail page and the phone-size detail go to ``var/screenshots``.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageDraw

from civicgrid.cases.models import Case, CaseEvent, CaseState

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def png_photo() -> bytes:
    img = Image.new("RGB", (640, 480), (70, 140, 90))
    d = ImageDraw.Draw(img)
    d.rectangle((160, 120, 480, 360), fill=(230, 230, 230))
    d.ellipse((280, 200, 360, 280), fill=(200, 40, 40))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def expect_state(page, label: str, events: int):
    page.wait_for_selector(f"[data-testid=state]:text-is('{label}')")
    assert page.locator("[data-testid=state]").first.inner_text() == label
    assert page.locator("[data-testid=timeline] [data-testid=event]").count() == events


def act(page, move: str):
    """Open the action's <details> and return its form."""
    page.click(f"[data-testid=action-{move}]")
    form = page.locator(f"details[data-move={move}] form")
    form.wait_for(state="visible")
    return form


def phone_login(page, live_server, user):
    """The real login form on a phone (``browser_login`` waits for the user name to be *visible*, but at 390 px
    it sits in the collapsed navbar)."""
    from tests.factories import PASSWORD

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=whoami]", state="attached")


def new_page(browser, phone=False):
    if phone:
        ctx = browser.new_context(
            locale="zh-CN",
            viewport={"width": 390, "height": 844},
            is_mobile=True,
            has_touch=True,
            device_scale_factor=2,
        )
    else:
        ctx = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 860})
    pg = ctx.new_page()
    pg.set_default_timeout(15_000)
    return pg


def test_case_story_through_the_ui(page, phone_page, browser, live_server, browser_login, screenshot_dir):
    from tests.cases.factories import World

    world = World()
    url = live_server.url

    # --- dispatcher: report through the create form ---
    browser_login(page, world.dispatcher)
    page.click("[data-testid=nav-new-case]")
    page.wait_for_selector("#picker-map[data-loaded]")
    page.fill("[data-select-search=id_category]", world.category.name)
    assert page.locator("#id_category").input_value() == str(world.category.pk)
    page.fill("#id_description", "示范路18号门口垃圾堆积，影响通行")
    page.fill("#id_address", "示范路18号")
    page.fill("#id_reporter_name", "王女士")
    page.fill("#id_reporter_phone", "13800138000")
    page.select_option("#id_source", "hotline_12345")
    page.locator("#picker-map path.leaflet-interactive").first.click()
    page.wait_for_selector("#grid-hint:has-text('已定位')")
    page.set_input_files(
        "#id_photos", files=[{"name": "before.png", "mimeType": "image/png", "buffer": png_photo()}]
    )
    page.screenshot(path=str(screenshot_dir / "cases-create.png"), full_page=True)
    page.click("[data-testid=create-submit]")
    page.wait_for_selector("[data-testid=case-number]")
    case = Case.objects.get(created_by=world.dispatcher)
    assert case.grid is not None and case.lng is not None
    expect_state(page, "上报", 1)
    assert page.locator("[data-testid=before-photos] img").count() == 1

    # --- dispatcher: accept and dispatch to 城管中队 ---
    act(page, "accept").locator("[data-testid=submit-accept]").click()
    expect_state(page, "已立案待派遣", 2)
    assert "已受理立案" in page.locator(".alert-success").inner_text()
    form = act(page, "dispatch")
    form.locator("select[name=dispatch-department]").select_option(label="城管中队")
    form.locator("[data-testid=submit-dispatch]").click()
    expect_state(page, "已派遣待签收", 3)
    assert page.locator("[data-testid=department]").inner_text() == "城管中队"
    page.wait_for_selector("#case-map[data-loaded='1']")
    page.screenshot(path=str(screenshot_dir / "cases-detail-dispatched.png"), full_page=True)

    page.goto(f"{url}/cases/")
    page.wait_for_selector(f"tr[data-case='{case.pk}']")
    # htmx filter: the table refreshes in place and the URL follows the filter
    page.select_option("#id_status", "dispatched")
    page.wait_for_url("**/cases/?*status=dispatched*")
    assert page.locator(f"tr[data-case='{case.pk}']").count() == 1
    page.select_option("#id_status", "closed")
    page.wait_for_selector("[data-testid=empty]")
    page.select_option("#id_status", "")
    page.wait_for_selector(f"tr[data-case='{case.pk}']")
    page.screenshot(path=str(screenshot_dir / "cases-list.png"), full_page=True)

    # --- department handler: sign, finish with an after-photo ---
    handler_page = new_page(browser)
    browser_login(handler_page, world.handler)
    handler_page.goto(f"{url}/cases/inbox/")
    handler_page.click(f"[data-testid=inbox-item][data-case='{case.pk}']")
    expect_state(handler_page, "已派遣待签收", 3)
    act(handler_page, "sign").locator("[data-testid=submit-sign]").click()
    expect_state(handler_page, "处置中", 4)
    form = act(handler_page, "finish")
    form.locator("textarea[name=finish-note]").fill("已清运垃圾并冲洗路面")
    form.locator("input[name=finish-attachments]").set_input_files(
        files=[{"name": "after.png", "mimeType": "image/png", "buffer": png_photo()}]
    )
    handler_page.screenshot(path=str(screenshot_dir / "cases-finish-form.png"), full_page=True)
    form.locator("[data-testid=submit-finish]").click()
    expect_state(handler_page, "处置完成待核查", 5)
    assert handler_page.locator("[data-testid=after-photos] img").count() == 1
    thumb = handler_page.locator("[data-testid=after-photos] img")
    thumb.scroll_into_view_if_needed()  # thumbnails load lazily
    handler_page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle())
    handler_page.context.close()

    # --- grid worker on a phone: verify (pass) ---
    phone_login(phone_page, live_server, world.grid_worker)
    phone_page.goto(f"{url}/cases/inbox/")
    phone_page.wait_for_selector(f"[data-testid=inbox-item][data-case='{case.pk}']")
    phone_page.screenshot(path=str(screenshot_dir / "cases-inbox-phone.png"), full_page=True)
    phone_page.click(f"[data-testid=inbox-item][data-case='{case.pk}']")
    expect_state(phone_page, "处置完成待核查", 5)
    # on a phone the action comes right after the header, before the long timeline
    action_box = phone_page.locator("[data-testid=action-verify_pass]").bounding_box()
    timeline_box = phone_page.locator("[data-testid=timeline]").bounding_box()
    assert action_box["y"] < timeline_box["y"]
    assert action_box["height"] >= 44 and action_box["width"] > 300
    phone_page.wait_for_selector("#case-map[data-loaded='1']")
    phone_page.screenshot(path=str(screenshot_dir / "cases-detail-phone.png"), full_page=True)
    form = act(phone_page, "verify_pass")
    form.locator("textarea[name=verify_pass-note]").fill("现场已恢复整洁")
    form.scroll_into_view_if_needed()
    phone_page.screenshot(path=str(screenshot_dir / "cases-verify-form-phone.png"))
    form.locator("[data-testid=submit-verify_pass]").click()
    expect_state(phone_page, "核查通过待结案", 6)
    # no horizontal scrolling at 390 px
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
    phone_page.goto(f"{url}/cases/inbox/")
    phone_page.wait_for_selector("[data-testid=inbox-empty]")
    phone_page.goto(f"{url}/cases/")
    phone_page.wait_for_selector(f"tr[data-case='{case.pk}']")
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
    phone_page.screenshot(path=str(screenshot_dir / "cases-list-phone.png"), full_page=True)

    # --- dispatcher: close and rate ---
    page.goto(f"{url}/cases/{case.pk}/")
    expect_state(page, "核查通过待结案", 6)
    act(page, "close").locator("[data-testid=submit-close]").click()
    expect_state(page, "已结案", 7)
    form = act(page, "rate")
    form.locator("label:text-is('满意')").click()
    form.locator("[data-testid=submit-rate]").click()
    expect_state(page, "已回访", 8)
    assert page.locator("[data-testid=rating]").inner_text() == "满意"
    timeline = page.locator("[data-testid=timeline]").inner_text()
    for text in (
        "上报",
        "受理立案",
        "派遣",
        "签收",
        "处置完成",
        "核查通过",
        "结案",
        "回访评价",
        "城管中队",
        "满意",
    ):
        assert text in timeline
    assert "已清运垃圾并冲洗路面" in timeline and "现场已恢复整洁" in timeline
    assert page.locator("[data-testid=no-actions]").count() == 1
    page.screenshot(path=str(screenshot_dir / "cases-detail-rated.png"), full_page=True)

    case.refresh_from_db()
    assert case.state == CaseState.RATED and case.rating == "satisfied"
    assert list(CaseEvent.objects.filter(case=case).values_list("move", flat=True)) == [
        "create",
        "accept",
        "dispatch",
        "sign",
        "finish",
        "verify_pass",
        "close",
        "rate",
    ]


def test_stale_form_shows_conflict_message(page, browser, live_server, browser_login, screenshot_dir):
    from tests.cases.factories import World

    world = World()
    case = world.to_state("accepted")
    browser_login(page, world.dispatcher)
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    expect_state(page, "已立案待派遣", 2)
    # meanwhile another dispatcher dispatches it
    world.move(case, "dispatch", actor=world.dispatcher2, department=world.dept2)
    form = act(page, "suspend")
    form.locator("textarea[name=suspend-reason]").fill("等待产权单位答复")
    form.locator("[data-testid=submit-suspend]").click()
    page.wait_for_selector("[data-testid=conflict]")
    assert "该工单已被他人处理，请刷新后重试" in page.locator("[data-testid=conflict]").inner_text()
    expect_state(page, "已派遣待签收", 3)
    assert page.locator("[data-testid=department]").inner_text() == "市场监管所"
    page.screenshot(path=str(screenshot_dir / "cases-detail-conflict.png"), full_page=True)
