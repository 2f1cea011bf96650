"""Point → grid and address → grid through the selectors (database-backed index)."""

from __future__ import annotations

import pytest
from shapely.geometry import mapping

from civicgrid.accounts.roles import Role
from civicgrid.core import geoindex, revisions
from civicgrid.places import selectors, services, signals
from civicgrid.places.models import Grid
from tests.factories import BuildingFactory, GridFactory, UnitFactory, bump_on_another_server
from tests.places.helpers import cell, collection, feature, point, two_by_two

pytestmark = pytest.mark.django_db


@pytest.fixture
def grids(community):
    """Ordinary grids 001..004 over cells (0..2, 0..2); 专属网格 901 inside 001."""
    school = feature(
        cell(0.25, 0.25, 0.5, 0.5), code="330106001001901", name="示范学校", parent_code="330106001001001"
    )
    services.import_grids(actor=None, data=collection(*two_by_two(), school), filename="grids.geojson")
    return {g.code[-3:]: g for g in Grid.objects.all()}


def test_interior_edges_corners_outside(grids):
    at = selectors.locate_grid_id
    assert at(*point(1.5, 0.5)) == grids["002"].pk
    assert at(*point(1.0, 1.5)) == grids["003"].pk  # edge 003|004
    assert at(*point(0.5, 1.0)) == grids["001"].pk  # edge 001|003
    assert at(*point(1.0, 1.0)) == grids["001"].pk  # corner of all four
    assert at(*point(2.0, 2.0)) == grids["004"].pk  # outer corner
    assert at(*point(2.5, 0.5)) is None
    assert at(*point(-0.01, 1)) is None


def test_dedicated_grid_precedence(grids):
    assert selectors.locate_grid_id(*point(0.5, 0.5)) == grids["901"].pk
    assert selectors.locate_grid_id(*point(0.25, 0.5)) == grids["901"].pk  # its edge
    assert selectors.locate_grid_id(*point(0.1, 0.1)) == grids["001"].pk


def test_hole_resolves_to_none_then_to_the_grid_filling_it(community):
    from shapely.geometry import Polygon

    outer = cell(0, 0, 3, 3)
    inner = cell(1, 1)
    donut = Polygon(outer.exterior.coords, holes=[inner.exterior.coords])
    GridFactory(community=community, code="330106001001001", geometry=mapping(donut))
    assert selectors.locate_grid_id(*point(1.5, 1.5)) is None
    assert selectors.locate_grid_id(*point(0.5, 1.5)) is not None
    filler = GridFactory(community=community, code="330106001001002", geometry=mapping(inner))
    assert selectors.locate_grid_id(*point(1.5, 1.5)) == filler.pk


def test_inactive_grids_are_not_located(grids):
    Grid.objects.filter(pk=grids["002"].pk).update(is_active=False)
    geoindex.invalidate()
    assert selectors.locate_grid_id(*point(1.5, 0.5)) is None


def test_many_points_at_once(grids):
    lngs, lats = zip(point(1.5, 0.5), point(0.5, 0.5), point(5, 5), strict=True)
    assert geoindex.locate_many(lngs, lats) == [grids["002"].pk, grids["901"].pk, None]


class TestRebuild:
    def test_saving_a_grid_in_this_process_rebuilds_at_once(self, grids):
        assert selectors.locate_grid_id(*point(3.5, 0.5)) is None
        g = grids["002"]
        g.geometry = mapping(cell(3, 0))
        g.save()
        assert selectors.locate_grid_id(*point(3.5, 0.5)) == g.pk
        assert selectors.locate_grid_id(*point(1.5, 0.5)) is None

    def test_deleting_a_grid_bumps_the_revision(self, grids):
        before = revisions.current(signals.PLACES_REVISION)
        grids["901"].delete()
        assert revisions.current(signals.PLACES_REVISION) == before + 1
        assert selectors.locate_grid_id(*point(0.5, 0.5)) == grids["001"].pk

    def test_another_process_change_is_seen_after_the_check_interval(self, grids, monkeypatch):
        clock = [1000.0]
        monkeypatch.setattr(geoindex._index_cache, "now", lambda: clock[0])
        assert selectors.locate_grid_id(*point(3.5, 0.5)) is None  # builds and caches
        # another app server moved grid 002 and bumped the revision: no signal reaches this process
        Grid.objects.filter(pk=grids["002"].pk).update(geometry=mapping(cell(3, 0)))
        bump_on_another_server(signals.PLACES_REVISION)  # … and its bump, which this process is not told of
        clock[0] += 0.5
        assert selectors.locate_grid_id(*point(3.5, 0.5)) is None  # not checked yet (≤ once a second)
        clock[0] += 1.0
        assert selectors.locate_grid_id(*point(3.5, 0.5)) == grids["002"].pk

    def test_unchanged_revision_reuses_the_index(self, grids, monkeypatch):
        selectors.locate_grid_id(*point(0.5, 0.5))
        first = geoindex.get_index()
        monkeypatch.setattr(geoindex._index_cache, "check_interval", 0.0)
        loads = []
        real = geoindex._load_from_db
        monkeypatch.setattr(geoindex, "_load_from_db", lambda: loads.append(1) or real())
        selectors.locate_grid_id(*point(0.5, 0.5))
        assert geoindex.get_index() is first and loads == []

    def test_import_bumps_the_revision_once(self, grids):
        before = revisions.current(signals.PLACES_REVISION)
        services.import_grids(actor=None, data=collection(*two_by_two()), filename="again.geojson")
        assert revisions.current(signals.PLACES_REVISION) == before + 1


class TestScopedLookup:
    def test_grid_worker_sees_only_own_grids(self, grids, make_user):
        worker = make_user(Role.GRID_WORKER, grids=[grids["002"]])
        assert (
            selectors.locate_grid(user=worker, lng=point(1.5, 0.5)[0], lat=point(1.5, 0.5)[1]) == grids["002"]
        )
        assert selectors.locate_grid(user=worker, lng=point(0.5, 1.5)[0], lat=point(0.5, 1.5)[1]) is None

    def test_parent_grid_worker_sees_the_dedicated_grid(self, grids, make_user):
        worker = make_user(Role.GRID_WORKER, grids=[grids["001"]])
        lng, lat = point(0.5, 0.5)
        assert selectors.locate_grid(user=worker, lng=lng, lat=lat) == grids["901"]

    def test_dispatcher_and_audit_admin(self, grids, make_user):
        lng, lat = point(0.5, 1.5)
        assert selectors.locate_grid(user=make_user(Role.DISPATCHER), lng=lng, lat=lat) == grids["003"]
        assert selectors.locate_grid(user=make_user(Role.AUDIT_ADMIN), lng=lng, lat=lat) is None


class TestAddress:
    @pytest.fixture
    def places(self, grids):
        b12 = BuildingFactory(
            grid=grids["002"], name="阳光小区3幢", address="示范路12号", aliases="阳光花园3幢|三号楼"
        )
        b7 = BuildingFactory(grid=grids["003"], name="星河大厦", address="示范路7号")
        shop = UnitFactory(grid=grids["004"], building=None, name="老王面馆", address="建设大道188号")
        return {"b12": b12, "b7": b7, "shop": shop}

    def test_exact_and_prefixed_full_width_address(self, places, grids):
        grid, building, score = selectors.locate_by_address(text="浙江省杭州市西湖区示范街道示范路１２号")
        assert (grid, building) == (grids["002"], places["b12"]) and score >= 90
        grid, building, _ = selectors.locate_by_address(text="示范路 12 号 3 单元 501 室")
        assert building == places["b12"]

    def test_another_house_number_does_not_match(self, places):
        grid, building, score = selectors.locate_by_address(text="示范路13号")
        assert (grid, building) == (None, None) and score < selectors.ADDRESS_MIN_SCORE

    def test_alias_and_name(self, places, grids):
        assert selectors.locate_by_address(text="阳光花园3幢")[1] == places["b12"]
        assert selectors.locate_by_address(text="星河大厦")[0] == grids["003"]

    def test_unit_address_fallback(self, places, grids):
        grid, building, score = selectors.locate_by_address(text="杭州市建设大道188号")
        assert grid == grids["004"] and building is None and score >= 90

    def test_nothing_similar(self, places):
        assert selectors.locate_by_address(text="完全无关的地方")[:2] == (None, None)
        assert selectors.locate_by_address(text="") == (None, None, 0.0)

    def test_scoped_by_user(self, places, grids, make_user):
        worker = make_user(Role.GRID_WORKER, grids=[grids["003"]])
        assert selectors.locate_by_address(text="示范路12号", user=worker)[:2] == (None, None)
        assert selectors.locate_by_address(text="示范路7号", user=worker)[0] == grids["003"]

    def test_normalise_address(self):
        assert selectors.normalise_address("浙江省杭州市西湖区示范街道示范路１２号") == "示范路12号"
        assert selectors.normalise_address("新区路8号") == "新区路8号"  # a road, not a district
        assert selectors.normalise_address("北京市朝阳区建国路88号") == "建国路88号"
