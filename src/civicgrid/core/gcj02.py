"""WGS-84 ↔ GCJ-02 (the "Mars" datum of 高德/腾讯 base maps), for putting WGS-84/CGCS2000 data on those tiles.

CivicGrid stores every coordinate in WGS-84 (CGCS2000 differs by centimetres); 天地图 and ordinary XYZ tile servers
use it too. 高德 and 腾讯 draw their tiles in GCJ-02, offset by up to several hundred metres inside China, so a map on
those tiles shows WGS-84 data shifted (:func:`wgs_to_gcj`) and maps clicks back (:func:`gcj_to_wgs`). Outside China
GCJ-02 equals WGS-84 (no shift). The same formulas run in the browser (``static/js/basemap.js``); both are tested
against the same published reference pairs.

The forward transform is the published one; the inverse is found by fixed-point iteration to below 1e-9°
(≈ 0.1 mm), not the common one-step approximation (which errs by up to a couple of metres).
"""

from __future__ import annotations

import math

A = 6378245.0  # Krasovsky 1940 semi-major axis, as the GCJ-02 formulas use it
EE = 0.00669342162296594323  # its first eccentricity squared


def out_of_china(lng: float, lat: float) -> bool:
    """The rectangle GCJ-02 shifts (the usual bound: outside it the datum equals WGS-84)."""
    return not (72.004 <= lng <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _d_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _d_lng(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def wgs_to_gcj(lng: float, lat: float) -> tuple[float, float]:
    """(lng, lat) in WGS-84 → (lng, lat) in GCJ-02."""
    if out_of_china(lng, lat):
        return lng, lat
    d_lat = _d_lat(lng - 105.0, lat - 35.0)
    d_lng = _d_lng(lng - 105.0, lat - 35.0)
    rad = lat / 180.0 * math.pi
    magic = 1 - EE * math.sin(rad) ** 2
    sqrt_magic = math.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((A * (1 - EE)) / (magic * sqrt_magic) * math.pi)
    d_lng = (d_lng * 180.0) / (A / sqrt_magic * math.cos(rad) * math.pi)
    return lng + d_lng, lat + d_lat


def gcj_to_wgs(lng: float, lat: float) -> tuple[float, float]:
    """(lng, lat) in GCJ-02 → (lng, lat) in WGS-84: the point whose :func:`wgs_to_gcj` is the given one."""
    if out_of_china(lng, lat):
        return lng, lat
    w_lng, w_lat = lng, lat
    for _ in range(30):
        g_lng, g_lat = wgs_to_gcj(w_lng, w_lat)
        e_lng, e_lat = g_lng - lng, g_lat - lat
        w_lng, w_lat = w_lng - e_lng, w_lat - e_lat
        if abs(e_lng) < 1e-10 and abs(e_lat) < 1e-10:
            break
    return w_lng, w_lat
