"""重点项目 on the map in a real browser: the demo's ten projects sit inside the 街道's communities; the board's map
shows them (red: 滞后, green: on track) with a popup linking to the project; on a project the 领导 clicks the map
to move its point and saves. Screenshots: docs/screenshots/goals-map.png, goals-project-map.png."""

from __future__ import annotations

import random

import pytest
from shapely.geometry import Point, box, mapping, shape

from civicgrid.accounts.roles import Role
from civicgrid.demo import goals as demo_goals
from civicgrid.goals.models import Project
from tests.conftest import REPO
from tests.factories import CommunityFactory, StreetFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = REPO / "docs" / "screenshots"


def test_the_board_map_and_setting_a_point(page, live_server, browser_login):
    street = StreetFactory(center_lng=120.11, center_lat=30.26)
    communities = [
        CommunityFactory(
            street=street, geometry=mapping(box(120.10 + 0.01 * i, 30.25, 120.11 + 0.01 * i, 30.27))
        )
        for i in range(3)
    ]
    demo_goals.load_goals(street, random.Random(20260101), year=2026, month=10)
    projects = list(Project.objects.filter(street=street))
    areas = [shape(c.geometry) for c in communities]
    assert len(projects) == 10
    assert all(any(a.contains(Point(p.lng, p.lat)) for a in areas) for p in projects)
    leader = UserFactory(role=Role.LEADER, street=street, full_name="王主任")
    browser_login(page, leader)

    # 1. the board: ten markers, the lagging ones red; a popup links to its project
    page.goto(f"{live_server.url}/goals/projects/?year=2026&month=10")
    page.wait_for_selector("#goals-map .leaflet-marker-icon")
    page.wait_for_function("document.getElementById('goals-map').dataset.loaded === '10'")
    assert page.locator("#goals-map .leaflet-marker-icon").count() == 10
    lagging = page.locator("[data-testid=project-card] [data-testid=lagging]").count()
    assert lagging >= 1
    assert page.locator("#goals-map .goals-pin-lag").count() == lagging
    page.screenshot(
        path=str(SHOTS / "goals-map.png"),
        full_page=False,
        clip={"x": 0, "y": 0, "width": 1366, "height": 860},
    )
    school = Project.objects.get(street=street, name="九年一贯制学校新建工程")
    page.locator(f"#goals-map .leaflet-marker-icon[title='{school.name}']").click()
    page.wait_for_selector(".leaflet-popup-content a")
    page.click(".leaflet-popup-content a")

    # 2. the project: its point; a click on the map moves it, 保存 writes it
    page.wait_for_selector("#project-map .leaflet-marker-icon")
    assert page.url.endswith(f"/goals/projects/{school.pk}/")
    before = (school.lng, school.lat)
    box_ = page.locator("#project-map").bounding_box()
    page.mouse.click(box_["x"] + box_["width"] * 0.25, box_["y"] + box_["height"] * 0.3)
    page.wait_for_function("document.getElementById('location-form').dataset.picked === '1'")
    page.click("[data-testid=location-save]")
    page.wait_for_selector(".alert-success")
    school.refresh_from_db()
    assert (school.lng, school.lat) != before
    assert school.lng < before[0] and school.lat > before[1]  # up and to the left of the centre
    assert f"经度 {school.lng}" in page.inner_text("[data-testid=location-text]")
    page.wait_for_selector("#project-map .leaflet-marker-icon")
    page.locator("[data-testid=location-card]").screenshot(path=str(SHOTS / "goals-project-map.png"))

    # 3. a bad value: refused naming the field
    page.fill("[data-testid=location-lat]", "91")
    page.click("[data-testid=location-save]")
    page.wait_for_selector("[data-testid=location-error]")
    assert "纬度" in page.inner_text("[data-testid=location-error]")
