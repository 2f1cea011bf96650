"""WGS-84 ↔ GCJ-02: the published reference pairs, sub-metre round trips inside China, no shift outside."""

from __future__ import annotations

import random

import pytest
from pyproj import Geod

from civicgrid.core import gcj02

# (WGS-84 lat, lng, GCJ-02 lat, lng): the reference pairs published with googollee/eviltransform
# (上海, 深圳, 北京), which every port of the GCJ-02 formulas tests against
REFERENCE_PAIRS = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),
]
GEOD = Geod(ellps="WGS84")


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    return GEOD.inv(a[0], a[1], b[0], b[1])[2]


@pytest.mark.parametrize(("wlat", "wlng", "glat", "glng"), REFERENCE_PAIRS)
def test_reference_pairs_both_ways(wlat, wlng, glat, glng):
    assert gcj02.wgs_to_gcj(wlng, wlat) == pytest.approx((glng, glat), abs=1e-9)
    assert metres(gcj02.gcj_to_wgs(glng, glat), (wlng, wlat)) < 0.01


def test_the_shift_in_hangzhou_is_hundreds_of_metres():
    # 示范街道 (杭州西湖区): the tiles of 高德/腾讯 sit about 500 m off the WGS-84 data
    shift = metres(gcj02.wgs_to_gcj(120.13, 30.275), (120.13, 30.275))
    assert 300 < shift < 700


def test_round_trip_inside_china_is_under_a_metre_both_ways():
    rng = random.Random(2026)
    worst = 0.0
    for _ in range(2000):
        p = (rng.uniform(73.5, 134.8), rng.uniform(18.2, 53.5))
        worst = max(worst, metres(gcj02.gcj_to_wgs(*gcj02.wgs_to_gcj(*p)), p))
        worst = max(worst, metres(gcj02.wgs_to_gcj(*gcj02.gcj_to_wgs(*p)), p))
    assert worst < 0.001  # the inverse iterates to the exact point, far below the 1 m asked for


@pytest.mark.parametrize(
    "point",
    [
        (2.3522, 48.8566),
        (-74.006, 40.7128),
        (151.2093, -33.8688),
        (139.6917, 35.6895),
        (60.0, 40.0),
        (120.0, 0.5),
    ],
)
def test_outside_china_nothing_moves(point):
    assert gcj02.out_of_china(*point)
    assert gcj02.wgs_to_gcj(*point) == point
    assert gcj02.gcj_to_wgs(*point) == point
