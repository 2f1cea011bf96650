"""/places/lookup-address: the create form's address → proposed point (building coordinates, else a point
inside the grid), scoped to the grids the user may see."""

from __future__ import annotations

import pytest

from civicgrid.accounts.roles import Role
from civicgrid.core import geoindex
from tests.factories import ORIGIN_LAT, ORIGIN_LNG, BuildingFactory, GridFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def places(db):
    g1 = GridFactory(col=0, name="翠苑第一网格")
    g2 = GridFactory(col=3, name="翠苑第二网格")
    BuildingFactory(
        grid=g1, name="翠苑一区3幢", address="文三路 18 号", lng=ORIGIN_LNG + 0.001, lat=ORIGIN_LAT + 0.001
    )
    BuildingFactory(grid=g2, name="学院商厦", address="学院路 77 号")  # no coordinates
    geoindex.invalidate()
    return g1, g2


def test_address_with_building_coordinates(client, places):
    client.force_login(UserFactory(role=Role.DISPATCHER))
    d = client.get("/places/lookup-address", {"q": "文三路18号"}).json()
    assert d["found"] and d["grid"]["name"] == "翠苑第一网格" and d["building"]["name"] == "翠苑一区3幢"
    assert d["point"] == {"lng": round(ORIGIN_LNG + 0.001, 6), "lat": round(ORIGIN_LAT + 0.001, 6)}
    assert d["point_source"] == "building"


def test_building_without_coordinates_gets_a_point_inside_its_grid(client, places):
    _g1, g2 = places
    client.force_login(UserFactory(role=Role.DISPATCHER))
    d = client.get("/places/lookup-address", {"q": "学院路77号"}).json()
    assert d["found"] and d["point_source"] == "grid" and d["grid"]["code"] == g2.code
    assert g2.min_lng < d["point"]["lng"] < g2.max_lng and g2.min_lat < d["point"]["lat"] < g2.max_lat
    assert geoindex.locate(d["point"]["lng"], d["point"]["lat"]) == g2.pk


def test_unknown_address_bad_input_and_scope(client, places):
    g1, _g2 = places
    client.force_login(UserFactory(role=Role.DISPATCHER))
    assert client.get("/places/lookup-address", {"q": "火星基地一号"}).json()["found"] is False
    r = client.get("/places/lookup-address", {"q": "x"})
    assert r.status_code == 422 and r.json()["field"] == "q"
    # a grid worker sees only their own grid: an address elsewhere is not proposed
    client.force_login(UserFactory(role=Role.GRID_WORKER, grids=[g1]))
    assert client.get("/places/lookup-address", {"q": "学院路77号"}).json()["found"] is False
    assert client.get("/places/lookup-address", {"q": "文三路18号"}).json()["found"] is True
    client.logout()
    assert client.get("/places/lookup-address", {"q": "文三路18号"}).status_code == 302


def test_create_form_wires_the_lookup_without_inline_script(client, places):
    client.force_login(UserFactory(role=Role.DISPATCHER))
    html = client.get("/cases/new/").content.decode()
    assert 'data-address-url="/places/lookup-address"' in html and 'data-testid="address-proposal"' in html
    form = html[html.index('id="case-create-form"') : html.index("</form>")]
    assert "<script" not in form and "onclick" not in form and "oninput" not in form
