"""/api/v1/places: lookups (scoped) and the import endpoint (system admin only)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from pyproj import CRS

from civicgrid.accounts.roles import Role
from civicgrid.places import services
from civicgrid.places.models import Grid
from tests.factories import BuildingFactory
from tests.places.helpers import collection, point, records_of, shapefile_zip, two_by_two

pytestmark = pytest.mark.django_db


@pytest.fixture
def grids(community):
    services.import_grids(actor=None, data=collection(*two_by_two()), filename="grids.geojson")
    return {g.code[-3:]: g for g in Grid.objects.all()}


def _lookup(api_client, col, row):
    lng, lat = point(col, row)
    return api_client.get("/places/lookup", lng=lng, lat=lat)


class TestLookup:
    def test_dispatcher_locates_any_grid(self, api_client, make_user, grids):
        api_client.login(make_user(Role.DISPATCHER))
        res = _lookup(api_client, 1.5, 1.5)
        assert res.status_code == 200
        body = res.json()
        assert body["grid"]["code"] == "330106001001004"
        assert body["grid"]["community_code"] == "330106001001"
        assert body["grid"]["area_m2"] > 260_000

    def test_outside_every_grid_is_null(self, api_client, make_user, grids):
        api_client.login(make_user(Role.DISPATCHER))
        assert _lookup(api_client, 7, 7).json()["grid"] is None

    def test_grid_worker_gets_null_for_other_grids(self, api_client, make_user, grids):
        api_client.login(make_user(Role.GRID_WORKER, grids=[grids["001"]]))
        assert _lookup(api_client, 0.5, 0.5).json()["grid"]["code"] == "330106001001001"
        assert _lookup(api_client, 1.5, 0.5).json()["grid"] is None
        assert api_client.get(f"/places/grids/{grids['002'].pk}").status_code == 404

    def test_bad_coordinates_are_422(self, api_client, make_user, grids):
        api_client.login(make_user(Role.DISPATCHER))
        res = api_client.get("/places/lookup", lng=200, lat=30)
        assert res.status_code == 422 and res.json()["field"] == "lng"
        assert api_client.get("/places/lookup", lng="东经", lat=30).status_code == 422

    def test_anonymous_is_401(self, api_client, grids):
        assert _lookup(api_client, 0.5, 0.5).status_code == 401


class TestLookupAddress:
    def test_match_and_scope(self, api_client, make_user, grids):
        b = BuildingFactory(grid=grids["002"], name="星河大厦", address="示范路12号")
        api_client.login(make_user(Role.DISPATCHER))
        body = api_client.get("/places/lookup-address", q="杭州市西湖区示范路１２号").json()
        assert body["grid"]["code"] == "330106001001002"
        assert body["building"] == {"id": b.pk, "name": "星河大厦", "address": "示范路12号", "kind": "block"}
        assert body["score"] >= 90

        api_client.login(make_user(Role.GRID_WORKER, grids=[grids["001"]]))
        body = api_client.get("/places/lookup-address", q="示范路12号").json()
        assert body["grid"] is None and body["building"] is None

    def test_no_match(self, api_client, make_user, grids):
        api_client.login(make_user(Role.DISPATCHER))
        body = api_client.get("/places/lookup-address", q="不存在的地址").json()
        assert body["grid"] is None and body["score"] < 80


class TestImport:
    def _post(self, api_client, data: bytes, name: str = "grids.geojson", **form):
        upload = SimpleUploadedFile(name, data, content_type="application/octet-stream")
        return api_client.c.post("/api/v1/places/import", {"file": upload, **form})

    def test_admin_imports_geojson(self, api_client, admin, community):
        api_client.login(admin)
        res = self._post(api_client, collection(*two_by_two()))
        assert res.status_code == 200, res.content
        body = res.json()
        assert (body["grids_created"], body["grids_updated"], body["features"]) == (4, 0, 4)
        assert Grid.objects.count() == 4

    def test_admin_imports_zipped_shapefile_dry_run(self, api_client, admin, community):
        api_client.login(admin)
        data = shapefile_zip(records_of(two_by_two()), prj_crs=CRS.from_epsg(4549))
        res = self._post(api_client, data, "grids.zip", dry_run="true")
        assert res.status_code == 200, res.content
        assert res.json()["dry_run"] is True and res.json()["grids_created"] == 4
        assert Grid.objects.count() == 0

    def test_errors_are_422_with_per_feature_details(self, api_client, admin, community):
        api_client.login(admin)
        features = two_by_two()
        features[1]["properties"]["code"] = "123"
        res = self._post(api_client, collection(*features))
        assert res.status_code == 422
        body = res.json()
        assert body["code"] == "validation_failed"
        assert body["details"] == [
            {"index": 2, "code": "123", "field": "code", "message": body["details"][0]["message"]}
        ]
        assert "15 位数字" in body["details"][0]["message"]
        assert Grid.objects.count() == 0

    @pytest.mark.parametrize(
        "role", [Role.DISPATCHER, Role.COMMUNITY_STAFF, Role.GRID_WORKER, Role.AUDIT_ADMIN]
    )
    def test_non_admin_is_403(self, api_client, make_user, community, role):
        api_client.login(make_user(role))
        res = self._post(api_client, collection(*two_by_two()))
        assert res.status_code == 403
        assert Grid.objects.count() == 0

    def test_missing_file_is_422(self, api_client, admin):
        api_client.login(admin)
        assert api_client.c.post("/api/v1/places/import", {}).status_code == 422
