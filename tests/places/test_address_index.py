"""The per-process address index behind ``locate_by_address``: built once, rebuilt when places data changes."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from civicgrid.core import revisions
from civicgrid.places import addressindex, selectors, signals
from civicgrid.places.models import Building, Grid, Unit
from tests.factories import (
    BuildingFactory,
    CommunityFactory,
    GridFactory,
    StreetFactory,
    UnitFactory,
    bump_on_another_server,
)

pytestmark = pytest.mark.django_db


def _uncached_locate(text: str) -> tuple[int | None, int | None, float]:
    """The lookup as it was before the cache: load and normalise every candidate, scan for the road number."""
    from rapidfuzz import fuzz, process

    query = addressindex.normalise_address(text)
    if len(query) < 2:
        return None, None, 0.0
    query_roads = addressindex.road_numbers(query)
    strings, owners = [], []
    for pk, grid_id, name, address, aliases in Building.objects.values_list(
        "pk", "grid_id", "name", "address", "aliases"
    ):
        for raw in (address, name, *(aliases or "").split("|")):
            norm = addressindex.normalise_address(raw)
            if len(norm) >= 2:
                strings.append(norm)
                owners.append((pk, grid_id))
    for building_id, grid_id, name, address in Unit.objects.values_list(
        "building_id", "grid_id", "name", "address"
    ):
        for raw in (address, name):
            norm = addressindex.normalise_address(raw)
            if len(norm) >= 2:
                strings.append(norm)
                owners.append((building_id, grid_id))
    if not strings:
        return None, None, 0.0
    shortlist = {
        i for _s, _sc, i in process.extract(query, strings, scorer=fuzz.WRatio, limit=30, score_cutoff=40)
    }
    if query_roads:
        shortlist |= {i for i, s in enumerate(strings) if query_roads & addressindex.road_numbers(s)}
    best_i, best = None, 0.0
    for i in sorted(shortlist):
        score = addressindex.address_score(query, query_roads, strings[i])
        if score > best:
            best_i, best = i, score
    if best_i is None or best < addressindex.ADDRESS_MIN_SCORE:
        return None, None, round(best, 1)
    building_id, grid_id = owners[best_i]
    return grid_id, building_id, round(best, 1)


@pytest.fixture
def grids():
    community = CommunityFactory(street=StreetFactory(code="330106001"), code="330106001001")
    return [GridFactory(community=community, code=f"330106001001{n:03d}") for n in range(1, 4)]


@pytest.fixture
def places(grids):
    g1, g2, g3 = grids
    estate = BuildingFactory(
        grid=g1, kind="estate", name="阳光小区", address="示范路12号", aliases="阳光花园"
    )
    BuildingFactory(grid=g1, parent=estate, name="阳光小区3幢", address="示范路12号3幢", aliases="三号楼")
    BuildingFactory(grid=g2, name="星河大厦", address="示范路7号")
    BuildingFactory(grid=g2, name="幸福家园", address="幸福路18号", aliases="幸福家园小区|幸福苑")
    BuildingFactory(grid=g3, name="新区路8号院", address="新区路8号")
    UnitFactory(grid=g3, building=None, name="老王面馆", address="建设大道188号")
    UnitFactory(
        grid=g2, building=Building.objects.get(name="星河大厦"), name="星河便利店", address="示范路7号底商"
    )
    for n in range(20, 40):  # filler, so the fuzzy shortlist has something to choose from
        BuildingFactory(grid=grids[n % 3], name=f"{n}幢", address=f"和平路{n}号")


def _touches(queries, table: str) -> list[str]:
    return [q["sql"] for q in queries if f'"{table}"' in q["sql"]]


def test_second_lookup_does_not_reload_buildings_or_units(places, monkeypatch):
    monkeypatch.setattr(addressindex, "CHECK_INTERVAL", 3600.0)  # no periodic revision check in between
    with CaptureQueriesContext(connection) as first:
        grid, building, _ = selectors.locate_by_address(text="示范路7号")
    assert building.name == "星河大厦"
    assert _touches(first.captured_queries, "places_unit")  # the first call builds the index

    with CaptureQueriesContext(connection) as second:
        assert selectors.locate_by_address(text="示范路7号")[1] == building
        assert selectors.locate_by_address(text="建设大道188号")[1] is None
    assert _touches(second.captured_queries, "places_unit") == []
    # only the matched building itself, by primary key
    assert all(
        '"places_building"."id" =' in sql for sql in _touches(second.captured_queries, "places_building")
    )
    assert len(second.captured_queries) == 3  # grid + building, then grid

    with CaptureQueriesContext(connection) as bulk:
        index = addressindex.address_index()
        assert index.locate("星河便利店").building_id == building.pk
        assert index.locate("完全无关的地方") is None
    assert bulk.captured_queries == []


def test_new_and_renamed_building_found_right_after_save(places, grids, monkeypatch):
    monkeypatch.setattr(addressindex, "CHECK_INTERVAL", 3600.0)  # only the save may make it rebuild
    assert selectors.locate_by_address(text="光明路99号")[0] is None

    new = BuildingFactory(grid=grids[2], name="光明大楼", address="光明路99号")
    grid, building, score = selectors.locate_by_address(text="光明路99号")
    assert (grid, building) == (grids[2], new) and score >= 90

    star = Building.objects.get(name="星河大厦")
    star.address, star.name = "银河路3号", "银河大厦"
    star.save()
    assert selectors.locate_by_address(text="银河路3号")[1] == star
    assert selectors.locate_by_address(text="银河大厦")[1] == star

    new.delete()
    assert selectors.locate_by_address(text="光明路99号")[0] is None


def test_unit_changes_invalidate(places, grids, monkeypatch):
    monkeypatch.setattr(addressindex, "CHECK_INTERVAL", 3600.0)
    assert selectors.locate_by_address(text="老李修车铺")[0] is None
    shop = Unit.objects.get(name="老王面馆")
    shop.name = "老李修车铺"
    shop.save()
    assert selectors.locate_by_address(text="老李修车铺")[0] == grids[2]
    shop.delete()
    assert selectors.locate_by_address(text="老李修车铺")[0] is None


def test_bulk_writers_bump_once(places, grids, monkeypatch):
    monkeypatch.setattr(addressindex, "CHECK_INTERVAL", 3600.0)
    assert selectors.locate_by_address(text="长江路5号")[0] is None
    before = revisions.current(signals.PLACES_REVISION)
    Building.objects.bulk_create([Building(grid=grids[1], name="长江大厦", address="长江路5号")])  # no signal
    signals.bump_revision()
    assert revisions.current(signals.PLACES_REVISION) == before + 1
    assert selectors.locate_by_address(text="长江路5号")[0] == grids[1]

    with signals.batched():
        BuildingFactory(grid=grids[0], name="黄河大厦", address="黄河路6号")
        BuildingFactory(grid=grids[0], name="淮河大厦", address="淮河路7号")
    assert revisions.current(signals.PLACES_REVISION) == before + 2
    assert selectors.locate_by_address(text="淮河路7号")[0] == grids[0]


def test_another_process_changing_places_is_seen_after_the_check_interval(places, grids, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(addressindex._index_cache, "now", lambda: clock[0])
    assert selectors.locate_by_address(text="珠江路1号")[0] is None
    # another process: writes the row and bumps the revision, but cannot touch this process's index
    Building.objects.bulk_create([Building(grid=grids[1], name="珠江大厦", address="珠江路1号")])
    bump_on_another_server(signals.PLACES_REVISION)  # … and its bump, which this process is not told of
    assert selectors.locate_by_address(text="珠江路1号")[0] is None  # within the interval: the cached index
    clock[0] += addressindex._index_cache.check_interval + 0.1
    assert selectors.locate_by_address(text="珠江路1号")[0] == grids[1]


QUERIES = [
    "示范路7号",
    "浙江省杭州市西湖区示范街道示范路１２号",
    "示范路 12 号 3 单元 501 室",
    "示范路12号3幢",
    "示范路13号",
    "阳光花园",
    "三号楼",
    "幸福家园小区东门",
    "幸福苑",
    "幸福路19号",
    "新区路8号",
    "杭州市建设大道188号",
    "星河便利店",
    "和平路25号",
    "和平路",
    "完全无关的地方",
    "路",
    "",
]


def test_results_equal_the_uncached_computation(places):
    index = addressindex.address_index()
    for q in QUERIES:
        expected = _uncached_locate(q)
        assert tuple(index.best(q)) == expected, q
        grid, building, score = selectors.locate_by_address(text=q)
        assert (grid.pk if grid else None, building.pk if building else None, score) == expected, q


def test_results_equal_the_uncached_computation_without_places(grids):
    assert Grid.objects.count() == 3
    for q in ("示范路7号", "阳光花园", ""):
        assert selectors.locate_by_address(text=q) == (None, None, 0.0) == _uncached_locate(q)


# --- the fast path and the fuzzy memo (no database: an index over given candidates) ---------------------------

SYNTHETIC = [
    ("示范路1号", 1, 10),
    ("示范小区1幢", 1, 10),
    ("示范路12号", 2, 10),
    ("示范路12号3单元", 3, 11),  # the same (road, number) as building 2, later: building 2 wins ties
    ("示范路012号", 4, 12),  # a third carrier of (示范路, 12)
    ("阳光花园", 5, 12),
    ("阳光花园", 6, 13),  # the same string twice: the first wins
    ("幸福路19号", 7, 13),
    ("幸福大道19号", 8, 14),
    ("建设大道188号", 9, 14),
    ("星河便利店", 10, 14),
    ("浙江省杭州市西湖区示范街道和平路25号", 11, 15),
    ("三号楼", 12, 15),
]
FAST_QUERIES = [
    *(text for text, _b, _g in SYNTHETIC),
    "示范路 12 号 3 单元 501 室",
    "杭州市示范路１２号",
    "示范路13号",
    "示范路12号和示范路1号之间",
    "和平路25号",
    "阳光花园东门",
    "阳 光 花 园",
    "幸福路",
    "无名巷12弄",
    "完全无关的地方",
    "路",
    "",
]


def _full_scan(index: addressindex.AddressIndex, text: str) -> addressindex.AddressMatch:
    query = addressindex.normalise_address(text)
    if len(query) < 2 or not index.strings:
        return addressindex.AddressMatch(None, None, 0.0)
    return index._fuzzy_best(query, addressindex.road_numbers(query))


@pytest.mark.parametrize("query", FAST_QUERIES)
def test_fast_path_gives_the_full_scans_answer(query):
    index = addressindex.AddressIndex(SYNTHETIC)
    assert index.best(query) == _full_scan(index, query)


def test_an_exact_road_and_number_or_an_exact_string_skips_fuzzy_scoring(monkeypatch):
    index = addressindex.AddressIndex(SYNTHETIC)

    def no_fuzzy(*args, **kwargs):
        raise AssertionError("fuzzy scoring on the fast path")

    monkeypatch.setattr(index, "_fuzzy_best", no_fuzzy)
    assert index.best("示范路12号3单元501室") == (10, 2, 100.0)  # the earliest carrier of (示范路, 12)
    assert index.best("阳光花园") == (12, 5, 100.0)  # the earliest equal string
    with pytest.raises(AssertionError):
        index.best("阳光花园东门")


def test_fuzzy_answers_are_remembered_and_the_memo_stays_bounded(monkeypatch):
    monkeypatch.setattr(addressindex, "FUZZY_MEMO_SIZE", 3)
    index = addressindex.AddressIndex(SYNTHETIC)
    expected = {q: _full_scan(index, q) for q in ("阳光花园东门", "无名巷5弄")}
    calls = []
    real = index._fuzzy_best
    monkeypatch.setattr(index, "_fuzzy_best", lambda q, r: calls.append(q) or real(q, r))
    assert index.best("阳光花园东门") == index.best("阳光花园东门") == expected["阳光花园东门"]
    assert len(calls) == 1
    for q in ("无名巷1弄", "无名巷2弄", "无名巷3弄", "无名巷4弄", "无名巷5弄"):
        index.best(q)
        assert len(index._fuzzy_memo) <= 3
    assert index.best("无名巷5弄") == expected["无名巷5弄"]
