"""Importing grid and community boundaries: good files, every kind of bad file, all-or-nothing."""

from __future__ import annotations

import pytest
import shapely
from pyproj import CRS
from shapely.geometry import Polygon, shape

from civicgrid.accounts.roles import Role
from civicgrid.core import revisions
from civicgrid.core.errors import PermissionDenied, ValidationFailed
from civicgrid.core.models import AuditLog
from civicgrid.places import services, signals
from civicgrid.places.models import Community, Grid, GridKind
from tests.factories import GridFactory
from tests.places.helpers import (
    COMMUNITY_CODE,
    cell,
    collection,
    feature,
    grid_feature,
    point,
    records_of,
    shapefile_zip,
    two_by_two,
)

pytestmark = pytest.mark.django_db

CELL_AREA_M2 = 266_500  # 0.005° x 0.005° at 30.25°N, roughly


def _import(data: bytes, filename: str = "grids.geojson", **kw):
    return services.import_grids(actor=kw.pop("actor", None), data=data, filename=filename, **kw)


def _errors(data: bytes, filename: str = "grids.geojson", **kw) -> list[dict]:
    with pytest.raises(ValidationFailed) as exc:
        _import(data, filename, **kw)
    assert exc.value.status == 422
    assert exc.value.details, "a failed import lists its problems"
    return exc.value.details


def _same(geometry: dict, expected, tolerance: float = 1e-7) -> bool:
    return shapely.normalize(shape(geometry)).equals_exact(shapely.normalize(expected), tolerance=tolerance)


def _only(errors: list[dict], field: str) -> list[dict]:
    return [e for e in errors if e["field"] == field]


class TestGoodFiles:
    def test_geojson_creates_grids_with_area_bbox_and_audit(self, community, admin):
        before = revisions.current(signals.PLACES_REVISION)
        result = _import(collection(*two_by_two()), actor=admin)

        assert (result.grids_created, result.grids_updated, result.features) == (4, 0, 4)
        assert result.crs.startswith("EPSG:4326")
        g = Grid.objects.get(code="330106001001001")
        assert g.community == community and g.kind == GridKind.ORDINARY and g.name == "网格001"
        assert g.area_m2 == pytest.approx(CELL_AREA_M2, rel=0.01)
        assert (g.min_lng, g.min_lat) == pytest.approx(point(0, 0))
        assert (g.max_lng, g.max_lat) == pytest.approx(point(1, 1))
        assert shape(g.geometry).equals(cell(0, 0))
        log = AuditLog.objects.get(action="places.import")
        assert log.actor == admin and log.after["grids_created"] == 4
        # one bump for the whole import
        assert revisions.current(signals.PLACES_REVISION) == before + 1

    def test_reimport_updates_existing_codes(self, community):
        _import(collection(*two_by_two()))
        features = two_by_two()
        features[0]["properties"]["name"] = "改名网格"
        result = _import(collection(*features))
        assert (result.grids_created, result.grids_updated) == (0, 4)
        assert Grid.objects.count() == 4
        assert Grid.objects.get(code="330106001001001").name == "改名网格"

    def test_dedicated_grid_nested_in_parent_from_same_file(self, community):
        dedicated = feature(
            cell(0.25, 0.25, 0.5, 0.5),
            code="330106001001901",
            name="示范学校",
            kind="专属网格",
            parent_code="330106001001001",
        )
        _import(collection(*two_by_two(), dedicated))
        d = Grid.objects.get(code="330106001001901")
        assert d.kind == GridKind.DEDICATED
        assert d.parent.code == "330106001001001"
        assert d.community == community  # inherited from the parent grid

    def test_outlined_community_fully_covered_is_fine(self, outlined_community):
        assert _import(collection(*two_by_two())).grids_created == 4

    def test_dry_run_counts_without_writing(self, community):
        result = _import(collection(*two_by_two()), dry_run=True)
        assert result.dry_run and result.grids_created == 4
        assert Grid.objects.count() == 0
        assert not AuditLog.objects.filter(action="places.import").exists()

    def test_geojson_crs_member_cgcs2000(self, community):
        result = _import(collection(*two_by_two(), crs="urn:ogc:def:crs:EPSG::4490"))
        assert result.crs.startswith("EPSG:4490")
        g = Grid.objects.get(code="330106001001004")
        assert _same(g.geometry, cell(1, 1))

    def test_communities_then_grids_in_one_file(self, street):
        community = feature(
            cell(0, 0, 2, 2), level="community", code=COMMUNITY_CODE, name="新社区", street_code=street.code
        )
        result = _import(collection(community, *two_by_two()))
        assert (result.communities_created, result.grids_created) == (1, 4)
        c = Community.objects.get(code=COMMUNITY_CODE)
        assert c.name == "新社区" and c.geometry is not None
        assert c.grids.count() == 4

    def test_community_level_argument(self, street):
        data = collection(
            feature(None, code="330106001002", name="二社区", street_code=street.code, kind="村")
        )
        result = _import(data, level="community")
        assert result.communities_created == 1
        assert Community.objects.get(code="330106001002").kind == "village"


class TestShapefile:
    @pytest.mark.parametrize("epsg", [4490, 4549])
    def test_zipped_shapefile_with_prj(self, community, epsg):
        crs = CRS.from_epsg(epsg)
        data = shapefile_zip(records_of(two_by_two()), prj_crs=crs)
        result = _import(data, "grids.zip")
        assert result.grids_created == 4
        assert result.crs.startswith(f"EPSG:{epsg}")
        g = Grid.objects.get(code="330106001001004")
        # back in WGS84: the projected round trip is exact to well under a centimetre
        assert _same(g.geometry, cell(1, 1))
        assert g.area_m2 == pytest.approx(CELL_AREA_M2, rel=0.01)

    def test_projected_shapefile_with_outlined_community(self, outlined_community):
        data = shapefile_zip(records_of(two_by_two()), prj_crs=CRS.from_epsg(4549))
        assert _import(data, "grids.zip").grids_created == 4

    def test_crs_override_without_prj(self, community):
        data = shapefile_zip(records_of(two_by_two()), prj_crs=CRS.from_epsg(4549))
        # strip the .prj: without it, the projected metres are out of lon/lat range
        import io
        import zipfile

        src = zipfile.ZipFile(io.BytesIO(data))
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            for name in src.namelist():
                if not name.endswith(".prj"):
                    z.writestr(name, src.read(name))
        errors = _errors(buf.getvalue(), "grids.zip")
        assert {e["field"] for e in errors} == {"geometry"}
        assert "经纬度范围" in errors[0]["message"]
        assert _import(buf.getvalue(), "grids.zip", crs="EPSG:4549").grids_created == 4

    def test_gbk_attributes(self, community):
        features = two_by_two()
        features[0]["properties"]["name"] = "东湖网格"
        data = shapefile_zip(records_of(features), prj_crs=None, encoding="gbk")
        _import(data, "grids.zip")
        assert Grid.objects.get(code="330106001001001").name == "东湖网格"


class TestBadFiles:
    """Every bad file names the feature (1-based) and the field, and imports nothing at all."""

    @pytest.fixture(autouse=True)
    def _nothing_imported(self, community):
        existing = GridFactory(community=community, code="330106001001050", col=10)
        counts = (Grid.objects.count(), Community.objects.count(), AuditLog.objects.count())
        yield
        assert (Grid.objects.count(), Community.objects.count(), AuditLog.objects.count()) == counts
        existing.refresh_from_db()
        assert existing.name.startswith("第")

    def test_self_intersecting_bow_tie(self):
        x0, y0 = point(0, 0)
        x1, y1 = point(1, 1)
        bow_tie = Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1), (x0, y0)])
        features = two_by_two()
        features[2] = grid_feature("330106001001003", bow_tie)
        [err] = _errors(collection(*features))
        assert (err["index"], err["code"], err["field"]) == (3, "330106001001003", "geometry")
        assert "自相交" in err["message"]

    def test_overlap_above_one_percent(self):
        features = two_by_two()
        features[1] = grid_feature("330106001001002", cell(0.8, 0))  # 20 % over grid 001
        [err] = _errors(collection(*features))
        assert (err["index"], err["code"], err["field"]) == (2, "330106001001002", "geometry")
        assert "重叠" in err["message"] and "330106001001001" in err["message"]

    def test_overlap_with_existing_grid_in_database(self):
        features = [grid_feature("330106001001007", cell(10.5, 0))]  # half over 330106001001050
        [err] = _errors(collection(*features))
        assert (err["index"], err["field"]) == (1, "geometry")
        assert "330106001001050" in err["message"]

    def test_tiny_overlap_is_tolerated(self):
        features = two_by_two()
        features[1] = grid_feature("330106001001002", cell(0.995, 0, 1.005, 1))  # 0.5 %
        assert _import(collection(*features), dry_run=True).grids_created == 4

    def test_gap_in_outlined_community(self, community):
        from shapely.geometry import mapping

        community.geometry = mapping(cell(0, 0, 2, 2))
        community.save()
        features = two_by_two()[:3]  # the fourth quarter is missing
        errors = _errors(collection(*features))
        [err] = _only(errors, "geometry")
        assert err["index"] == 1 and err["field"] == "geometry"
        assert "未被普通网格覆盖" in err["message"] and "25.0%" in err["message"]

    def test_unknown_community(self):
        features = two_by_two()
        features[3]["properties"]["community_code"] = "330106001999"
        errors = _errors(collection(*features))
        err = _only(errors, "community_code")[0]
        assert (err["index"], err["code"]) == (4, "330106001001004")
        assert "330106001999" in err["message"] and "不存在" in err["message"]

    def test_unknown_parent_grid(self):
        dedicated = feature(
            cell(0.2, 0.2, 0.2, 0.2), code="330106001001901", name="学校", parent_code="330106001001999"
        )
        [err] = _errors(collection(*two_by_two(), dedicated))
        assert (err["index"], err["field"]) == (5, "parent_code")
        assert "330106001001999" in err["message"]

    def test_duplicate_code(self):
        features = two_by_two()
        features[3]["properties"]["code"] = "330106001001002"
        [err] = _errors(collection(*features))
        assert (err["index"], err["code"], err["field"]) == (4, "330106001001002", "code")
        assert "第 2 个要素" in err["message"]

    @pytest.mark.parametrize(
        "bad", ["33010600100100", "33010600100100X", "３３０１０６００１００１００１", ""]
    )
    def test_bad_code_format(self, bad):
        features = two_by_two()
        features[1]["properties"]["code"] = bad
        errors = _errors(collection(*features))
        err = _only(errors, "code")[0]
        assert err["index"] == 2 and err["field"] == "code"

    def test_code_must_start_with_community_code(self):
        features = two_by_two()
        features[1]["properties"]["code"] = "330106001002002"
        [err] = _errors(collection(*features))
        assert (err["index"], err["field"]) == (2, "code")

    def test_dedicated_grid_outside_its_parent(self):
        dedicated = feature(
            cell(0.8, 0.2, 0.4, 0.4), code="330106001001901", name="学校", parent_code="330106001001001"
        )
        [err] = _errors(collection(*two_by_two(), dedicated))
        assert (err["index"], err["code"], err["field"]) == (5, "330106001001901", "geometry")
        assert "没有完全位于" in err["message"]

    def test_one_bad_feature_blocks_the_good_ones(self):
        features = two_by_two()
        features[0]["properties"]["name"] = ""
        [err] = _errors(collection(*features))
        assert (err["index"], err["field"]) == (1, "name")

    def test_several_errors_all_reported_in_order(self):
        features = two_by_two()
        features[0]["properties"]["code"] = "1"
        features[2]["properties"]["kind"] = "奇怪网格"
        errors = _errors(collection(*features))
        assert [(e["index"], e["field"]) for e in errors] == [(1, "code"), (3, "kind")]

    def test_not_a_polygon(self):
        from shapely.geometry import Point

        features = two_by_two()
        features[0] = grid_feature("330106001001001", Point(*point(0.5, 0.5)))
        [err] = _errors(collection(*features))
        assert (err["index"], err["field"]) == (1, "geometry") and "Point" in err["message"]

    def test_unreadable_file(self):
        [err] = _errors(b"{not json", "grids.geojson")
        assert err["field"] == "file" and err["index"] is None

    def test_zip_without_shapefile(self):
        import io
        import zipfile

        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("readme.txt", "no layer here")
        [err] = _errors(buf.getvalue(), "grids.zip")
        assert err["field"] == "file" and ".shp" in err["message"]

    def test_unknown_crs_override(self):
        with pytest.raises(ValidationFailed) as exc:
            _import(collection(*two_by_two()), crs="EPSG:999999")
        assert exc.value.field == "crs"


def test_only_system_admin_may_import(community, make_user):
    for role in (Role.DISPATCHER, Role.COMMUNITY_STAFF, Role.AUDIT_ADMIN):
        with pytest.raises(PermissionDenied):
            _import(collection(*two_by_two()), actor=make_user(role))
    assert Grid.objects.count() == 0


def test_format_error_line():
    line = services.format_error(
        {"index": 3, "code": "330106001001003", "field": "geometry", "message": "边界（geometry）无效"}
    )
    assert line == "第 3 个要素［330106001001003］ 边界（geometry）无效"
    assert (
        services.format_error({"index": None, "code": None, "field": "file", "message": "文件为空"})
        == "文件 文件为空"
    )


def test_failure_while_writing_rolls_everything_back(community, monkeypatch):
    from civicgrid.core import audit

    def boom(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(audit, "record", boom)
    revision = revisions.current(signals.PLACES_REVISION)
    with pytest.raises(RuntimeError):
        _import(collection(*two_by_two()))
    assert Grid.objects.count() == 0
    assert revisions.current(signals.PLACES_REVISION) == revision


def test_reimporting_a_village_keeps_its_kind(street):
    data = collection(feature(None, code="330106001002", name="二村", street_code=street.code, kind="村"))
    _import(data, level="community")
    again = collection(feature(None, code="330106001002", name="二村（新）", street_code=street.code))
    assert _import(again, level="community").communities_updated == 1
    c = Community.objects.get(code="330106001002")
    assert (c.name, c.kind) == ("二村（新）", "village")
