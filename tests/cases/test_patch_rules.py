"""A 网格员 / 社区工作人员 reports (and 立案s) only inside their own grids / community: by grid id, by point and
by address alike — through the API and through the web form."""

from __future__ import annotations

import pytest

from civicgrid.cases.models import Case
from civicgrid.core import geoindex
from tests.factories import ORIGIN_LAT, ORIGIN_LNG, STEP, BuildingFactory

pytestmark = pytest.mark.django_db


def middle(grid_col: int) -> tuple[float, float]:
    return ORIGIN_LNG + (grid_col + 0.5) * STEP, ORIGIN_LAT + 0.5 * STEP


OWN = middle(0)  # world.grid (the grid worker's)
GRID2 = middle(1)  # world.grid2: same community, not the worker's
OTHER = middle(5)  # world.other_grid: another community
NOWHERE = (ORIGIN_LNG + 1, ORIGIN_LAT + 1)


@pytest.fixture(autouse=True)
def _index():
    geoindex.invalidate()


def _report(api, point=None, **body):
    data = {"source": "grid_patrol", "description": "路口暴露垃圾约两立方米", **body}
    if point is not None:
        data.update(lng=point[0], lat=point[1])
    return api.post("/cases", data)


def test_grid_worker_cannot_report_and_file_in_another_community_by_coordinates(api_client, world):
    api = api_client.login(world.grid_worker)
    r = _report(api, OTHER, category=world.minor.pk, auto_accept=True)
    assert r.status_code == 403, r.content
    body = r.json()
    assert (
        body["field"] == "lng"
        and body["detail"].startswith("经纬度：")
        and "不在您负责的网格内" in body["detail"]
    )
    # a grid of the same community that is not theirs, and a point in no grid at all
    r = _report(api, GRID2, category=world.minor.pk, auto_accept=True)
    assert r.status_code == 403 and r.json()["field"] == "lng"
    r = _report(api, NOWHERE, category=world.minor.pk)
    assert r.status_code == 422 and r.json()["field"] == "lng" and "不在任何网格内" in r.json()["detail"]
    # an own grid id does not launder a point elsewhere
    r = _report(api, OTHER, grid=world.grid.pk)
    assert r.status_code == 403 and r.json()["field"] == "lng"
    assert not Case.objects.exists()

    r = _report(api, OWN, category=world.minor.pk, auto_accept=True)
    assert r.status_code == 201, r.content
    assert r.json()["state"] == "accepted" and r.json()["grid"]["id"] == world.grid.pk


def test_grid_worker_address_in_another_grid_is_refused(api_client, world):
    BuildingFactory(grid=world.other_grid, address="邻社区路9号")
    r = _report(api_client.login(world.grid_worker), address="邻社区路9号")
    assert r.status_code == 403 and r.json()["field"] == "address"
    assert not Case.objects.exists()


def test_community_staff_report_stays_in_their_community(api_client, world):
    api = api_client.login(world.community_staff)
    r = _report(api, OTHER, source="other")
    assert r.status_code == 403 and r.json()["field"] == "lng" and "不在本社区内" in r.json()["detail"]
    r = _report(api, source="other", grid=world.other_grid.pk)
    assert r.status_code == 422 and r.json()["field"] == "grid"  # not even visible to them
    assert not Case.objects.exists()
    r = _report(api, GRID2, source="other")  # any grid of their community
    assert r.status_code == 201 and r.json()["community"]["id"] == world.community.pk


def test_dispatcher_reports_anywhere(api_client, world):
    r = _report(api_client.login(world.dispatcher), OTHER, source="hotline_12345")
    assert r.status_code == 201 and r.json()["grid"]["id"] == world.other_grid.pk


def test_web_form_refuses_a_point_in_another_community(client, world):
    client.force_login(world.grid_worker)
    data = {
        "description": "路口暴露垃圾约两立方米",
        "category": world.minor.pk,
        "lng": OTHER[0],
        "lat": OTHER[1],
        "auto_accept": "on",
        "idempotency_key": "web-1",
    }
    r = client.post("/cases/new/", data)
    assert r.status_code == 422
    assert "不在您负责的网格内" in r.content.decode()
    assert not Case.objects.exists()
    r = client.post("/cases/new/", {**data, "lng": OWN[0], "lat": OWN[1], "idempotency_key": "web-2"})
    assert r.status_code == 302
    assert Case.objects.get().state == "accepted"


def test_community_staff_web_form_reports_in_their_community_only(client, world):
    client.force_login(world.community_staff)
    assert client.get("/cases/new/").status_code == 200  # no 立案 box for them
    data = {"description": "楼道堆放杂物", "lng": OTHER[0], "lat": OTHER[1], "idempotency_key": "cs-1"}
    r = client.post("/cases/new/", data)
    assert r.status_code == 422 and "不在本社区内" in r.content.decode()
    r = client.post("/cases/new/", {**data, "lng": GRID2[0], "lat": GRID2[1], "idempotency_key": "cs-2"})
    assert r.status_code == 302
    assert Case.objects.get().community == world.community
