"""A dispatcher signs in through the real login page and sees the 街道's grids on the map."""

from __future__ import annotations

import pytest

from civicgrid.accounts.roles import Role
from tests.factories import CommunityFactory, GridFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def street_grids():
    east, west = CommunityFactory(name="东湖社区"), CommunityFactory(name="西溪社区")
    grids = [
        GridFactory(community=east, col=c, row=r, name=f"东湖第{c}{r}网格")
        for c in range(2)
        for r in range(2)
    ]
    grids += [
        GridFactory(community=west, col=2 + c, row=r, name=f"西溪第{c}{r}网格")
        for c in range(2)
        for r in range(2)
    ]
    return grids


def test_dispatcher_signs_in_and_sees_the_grid_map(
    page, live_server, browser_login, street_grids, screenshot_dir
):
    user = UserFactory(role=Role.DISPATCHER, full_name="陈调度")
    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url
    page.screenshot(path=str(screenshot_dir / "login.png"))
    browser_login(page, user)
    assert "陈调度" in page.inner_text("[data-testid=whoami]")
    page.wait_for_function("() => document.getElementById('grid-map').dataset.loaded === '8'")
    assert page.inner_text("[data-testid=stat-grids]") == "8"
    assert page.locator(".leaflet-interactive").count() >= 8
    assert "东湖社区" in page.inner_text(".cg-legend")
    page.screenshot(path=str(screenshot_dir / "map.png"))


def test_map_click_tells_which_grid_a_point_is_in(page, live_server, browser_login, street_grids):
    user = UserFactory(role=Role.DISPATCHER)
    browser_login(page, user)
    page.wait_for_function("() => document.getElementById('grid-map').dataset.loaded === '8'")
    # click the middle of the map: the 2x4 block of grids fills it
    box = page.locator("#grid-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2 + 5, box["y"] + box["height"] / 2 + 5)
    page.wait_for_function("() => document.getElementById('map-hint').textContent.includes('：')")
    assert "社区" in page.inner_text("#map-hint")


def test_wrong_password_shows_a_clear_message(page, live_server):
    user = UserFactory(role=Role.DISPATCHER)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "not-the-Passw0rd")
    page.click("button[type=submit]")
    assert "账号或密码错误" in page.inner_text(".alert-danger")
