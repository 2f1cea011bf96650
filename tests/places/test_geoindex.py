"""The in-memory point → grid index, without the database."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Polygon, box

from civicgrid.core.geoindex import build_index

# a 3 x 2 tiling of unit boxes; ids 1..6 in code order, row by row
#   row 1:  4 5 6
#   row 0:  1 2 3
TILES = [box(c, r, c + 1, r + 1) for r in range(2) for c in range(3)]
IDS = [1, 2, 3, 4, 5, 6]


@pytest.fixture(scope="module")
def tiling():
    return build_index(IDS, TILES)


def test_interior_points(tiling):
    assert tiling.locate(0.5, 0.5) == 1
    assert tiling.locate(2.5, 1.5) == 6
    assert tiling.locate_many([0.5, 1.5, 2.5], [1.5, 1.5, 0.5]) == [4, 5, 3]


def test_outside_is_none(tiling):
    assert tiling.locate(-0.001, 0.5) is None
    assert tiling.locate(3.0001, 1) is None
    assert tiling.locate_many([10, float("nan")], [10, 0.5]) == [None, None]


def test_shared_edges_resolve_to_the_lowest_code(tiling):
    assert tiling.locate(1.0, 0.5) == 1  # between 1 and 2
    assert tiling.locate(2.0, 1.5) == 5  # between 5 and 6
    assert tiling.locate(1.5, 1.0) == 2  # between 2 and 5


def test_shared_corners_and_outer_boundary(tiling):
    assert tiling.locate(1.0, 1.0) == 1  # corner of 1, 2, 4, 5
    assert tiling.locate(2.0, 1.0) == 2  # corner of 2, 3, 5, 6
    assert tiling.locate(3.0, 2.0) == 6  # outer corner: polygons are closed
    assert tiling.locate(0.0, 0.3) == 1


def test_rank_overrides_input_order():
    index = build_index([10, 20], [box(0, 0, 1, 1), box(1, 0, 2, 1)], ranks=[2, 1])
    assert index.locate(1.0, 0.5) == 20


def test_hole_is_none_unless_a_grid_fills_it():
    donut = Polygon([(0, 0), (4, 0), (4, 4), (0, 4)], holes=[[(1, 1), (3, 1), (3, 3), (1, 3)]])
    index = build_index([1], [donut])
    assert index.locate(2, 2) is None
    assert index.locate(0.5, 2) == 1
    assert index.locate(1, 2) == 1  # the hole's rim belongs to the donut

    filled = build_index([1, 2], [donut, box(1, 1, 3, 3)])
    assert filled.locate(2, 2) == 2
    assert filled.locate(1, 2) == 1  # on both: lower rank (the donut here)


def test_dedicated_grid_wins_over_its_parent():
    parent, school = box(0, 0, 2, 2), box(0.5, 0.5, 1, 1)
    # the places app ranks 专属网格 first: pass them first
    index = build_index([900, 1], [school, parent])
    assert index.locate(0.75, 0.75) == 900
    assert index.locate(0.5, 0.75) == 900  # on the school's edge
    assert index.locate(1.5, 1.5) == 1


def test_empty_index():
    index = build_index([], [])
    assert index.locate(0, 0) is None
    assert index.locate_many([1, 2], [3, 4]) == [None, None]


def test_bulk_agrees_with_naive_on_irregular_tiling():
    rng = np.random.default_rng(7)
    n = 12
    xs, ys = np.meshgrid(np.arange(n + 1, dtype=float), np.arange(n + 1, dtype=float), indexing="ij")
    xs[1:-1, :] += rng.uniform(-0.3, 0.3, (n - 1, n + 1))
    ys[:, 1:-1] += rng.uniform(-0.3, 0.3, (n + 1, n - 1))
    polys = [
        Polygon(
            [
                (xs[i, j], ys[i, j]),
                (xs[i + 1, j], ys[i + 1, j]),
                (xs[i + 1, j + 1], ys[i + 1, j + 1]),
                (xs[i, j + 1], ys[i, j + 1]),
            ]
        )
        for i in range(n)
        for j in range(n)
    ]
    index = build_index(list(range(len(polys))), polys, cells_per_polygon=8)
    px, py = rng.uniform(-0.5, n + 0.5, 5000), rng.uniform(-0.5, n + 0.5, 5000)
    # add every shared vertex and edge midpoint: never None inside the tiling
    vx, vy = xs[:, :].ravel(), ys[:, :].ravel()
    mx, my = (xs[:-1, :] + xs[1:, :]).ravel() / 2, (ys[:-1, :] + ys[1:, :]).ravel() / 2
    px, py = np.concatenate([px, vx, mx]), np.concatenate([py, vy, my])
    bulk = index.locate_many(px, py)
    assert bulk == [index.locate_naive(x, y) for x, y in zip(px, py, strict=True)]
    assert None not in bulk[5000:]
    # one point at a time (what a request does) gives the same answers as the bulk lookup
    assert [index.locate(float(x), float(y)) for x, y in zip(px, py, strict=True)] == bulk
    assert index.locate(float("nan"), 1.0) is None
    # brute force over every polygon for a sample
    for x, y, got in list(zip(px, py, bulk, strict=True))[:300]:
        hits = [i for i, p in enumerate(polys) if p.intersects(shapely.Point(x, y))]
        assert got == (min(hits) if hits else None)


@st.composite
def tilings_and_points(draw):
    def cuts():
        inner = draw(st.lists(st.integers(1, 999), min_size=0, max_size=6, unique=True))
        return [0, *sorted(inner), 1000]

    xcuts, ycuts = cuts(), cuts()
    scale = draw(st.sampled_from([1e-5, 1e-3, 1.0]))
    origin = draw(st.sampled_from([(0.0, 0.0), (120.1, 30.25), (-73.5, -40.0)]))
    boxes = []
    for j in range(len(ycuts) - 1):
        for i in range(len(xcuts) - 1):
            boxes.append((xcuts[i], ycuts[j], xcuts[i + 1], ycuts[j + 1]))
    # points: anywhere, or exactly on a cut line (edges and corners)
    coord = st.one_of(st.floats(0, 1000, allow_nan=False), st.sampled_from(xcuts).map(float))
    ycoord = st.one_of(st.floats(0, 1000, allow_nan=False), st.sampled_from(ycuts).map(float))
    points = draw(st.lists(st.tuples(coord, ycoord), min_size=1, max_size=40))
    return origin, scale, boxes, points


@settings(max_examples=150, deadline=None)
@given(tilings_and_points())
def test_property_random_rectangular_tiling(case):
    (ox, oy), scale, boxes, points = case

    def tx(v):
        return ox + v * scale

    def ty(v):
        return oy + v * scale

    polys = [box(tx(a), ty(b), tx(c), ty(d)) for a, b, c, d in boxes]
    codes = list(range(100, 100 + len(boxes)))
    index = build_index(codes, polys, cells_per_polygon=4)
    lngs = [tx(x) for x, _ in points]
    lats = [ty(y) for _, y in points]
    got = index.locate_many(lngs, lats)
    for lng, lat, grid in zip(lngs, lats, got, strict=True):
        containing = [code for code, p in zip(codes, polys, strict=True) if p.covers(shapely.Point(lng, lat))]
        # every point of the tiled area maps to exactly the (lowest-code) closed box containing it
        assert containing, "test points lie in the tiling"
        assert grid == min(containing)
        assert index.locate(lng, lat) == grid


def test_process_cache_is_built_once_under_concurrency(monkeypatch):
    import threading

    from civicgrid.core import geoindex

    loads = []

    def load():
        loads.append(1)
        return build_index(IDS, TILES)

    monkeypatch.setattr(geoindex._index_cache, "_snap", None)
    monkeypatch.setattr(geoindex, "_read_revision", lambda: 7)
    monkeypatch.setattr(geoindex, "_load_from_db", load)
    results = []
    barrier = threading.Barrier(8)

    def worker():
        barrier.wait()
        results.append(geoindex.locate(0.5, 1.5))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [4] * 8
    assert len(loads) == 1
    geoindex.invalidate()  # the next DB-backed test must not see this synthetic index
