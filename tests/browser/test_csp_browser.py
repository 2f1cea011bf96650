"""The pages work under the Content-Security-Policy (script-src 'self'): clicking through two roles' menus, the
Django admin's own scripts and the offline API docs raise no CSP violation and no script error."""

from __future__ import annotations

import pytest

from civicgrid.accounts.roles import Role
from tests.browser.test_xss_browser import Watch
from tests.cases.factories import World

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def assert_no_violations(watch: Watch, where: str):
    assert not watch.events, f"{where}: {watch.events}"


@pytest.mark.parametrize("role", [Role.DISPATCHER, Role.GRID_WORKER])
def test_clicking_through_the_menu_raises_no_csp_violation(page, live_server, browser_login, role):
    world = World()
    world.to_state("dispatched")
    watch = Watch(page)
    browser_login(page, world.by_role(role))
    page.wait_for_selector("#grid-map[data-loaded]")
    assert page.evaluate("htmx.config.allowEval") is False  # read from the htmx-config meta tag
    labels = page.locator("#cg-nav a.nav-link").all_inner_texts()
    assert len(labels) >= 5
    for i, label in enumerate(labels):
        page.locator("#cg-nav a.nav-link").nth(i).click()
        page.wait_for_load_state("load")
        assert page.locator("[data-testid=whoami]").count() == 1, label
        for map_id in ("picker-map", "rs-map", "placement-map", "grid-map"):
            if page.locator(f"#{map_id}").count():
                page.wait_for_selector(f"#{map_id}[data-loaded]")  # its script ran and drew the grids
        assert_no_violations(watch, label)
    # htmx under the policy: the list filter swaps the table in place
    page.goto(f"{live_server.url}/cases/")
    page.select_option("#id_status", "closed")
    page.wait_for_selector("[data-testid=empty]")
    # the phone-width menu button (was an inline onclick)
    page.set_viewport_size({"width": 390, "height": 800})
    page.click(".navbar-toggler")
    page.wait_for_selector("#cg-nav.show")
    assert_no_violations(watch, "list filter and menu button")


def test_django_admin_and_api_docs_work_under_the_policy(page, live_server, browser_login, screenshot_dir):
    world = World()
    world.sysadmin.is_staff = True
    world.sysadmin.save(update_fields=["is_staff"])
    watch = Watch(page)
    browser_login(page, world.sysadmin)
    page.click("[data-testid=nav-admin]")
    page.wait_for_selector("#site-name")
    # the user form's grid picker is built by the admin's SelectFilter script
    page.goto(f"{live_server.url}/admin/accounts/user/{world.grid_worker.pk}/change/")
    page.wait_for_selector(".selector-available select")
    page.screenshot(path=str(screenshot_dir / "admin-under-csp.png"))
    # the change list's select-all / actions script
    page.goto(f"{live_server.url}/admin/places/grid/")
    page.check("#action-toggle")
    assert page.locator("input.action-select:checked").count() == 3
    assert_no_violations(watch, "admin")

    docs = page.context.new_page()
    docs_watch = Watch(docs)
    docs.goto(f"{live_server.url}/api/v1/docs")
    docs.wait_for_selector(".swagger-ui .info .title")
    docs.wait_for_selector(".opblock")
    assert "CivicGrid" in docs.locator(".swagger-ui .info .title").inner_text()
    docs.screenshot(path=str(screenshot_dir / "api-docs-under-csp.png"))
    assert_no_violations(docs_watch, "api docs")
