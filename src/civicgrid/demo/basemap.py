"""The 示范街道's own vector base map: named roads along the lattice lines, building footprints, 小区 areas and
labels, so the demo looks like a place with no tile server (pure; stored through
:func:`civicgrid.places.services.replace_map_features`)."""

from __future__ import annotations

import random

from shapely import affinity
from shapely.geometry import MultiPoint, Point, box
from shapely.ops import substring

from civicgrid.demo import names
from civicgrid.demo.buildings import BuildingPlan
from civicgrid.demo.geography import StreetPlan, geojson, meters_to_deg

SOURCE = "demo"
ROAD_REACH_M = 400  # the roads run on past the street's edge


def _feature(kind: str, geometry, *, name: str = "", subtype: str = "", level: int = 0) -> dict:
    return {
        "type": "Feature",
        "geometry": geojson(geometry),
        "properties": {"kind": kind, "name": name, "subtype": subtype, "level": level},
    }


def _extend(line, metres: float):
    """The line continued straight on at both ends."""
    (x0, y0), (x1, y1) = line.coords[0], line.coords[1]
    (xa, ya), (xb, yb) = line.coords[-2], line.coords[-1]
    dx, dy = meters_to_deg(metres, metres)

    def step(ax, ay, bx, by):
        length = ((bx - ax) ** 2 + (by - ay) ** 2) ** 0.5 or 1.0
        return (bx - ax) / length, (by - ay) / length

    ux, uy = step(x1, y1, x0, y0)
    vx, vy = step(xa, ya, xb, yb)
    coords = [(x0 + ux * dx, y0 + uy * dy), *line.coords, (xb + vx * dx, yb + vy * dy)]
    return type(line)(coords)


def _footprint(b: BuildingPlan, rng: random.Random):
    floors = b.floors or 6
    if b.kind == "tower":
        w, h = rng.uniform(34, 48), rng.uniform(26, 36)
    elif floors <= 4:  # 农居
        w, h = rng.uniform(10, 14), rng.uniform(9, 12)
    elif floors <= 7:  # 多层 slab
        w, h = rng.uniform(40, 60), rng.uniform(11, 13)
    elif floors <= 18:
        w, h = rng.uniform(30, 42), rng.uniform(14, 17)
    else:  # 高层 point block
        w, h = rng.uniform(22, 28), rng.uniform(20, 25)
    dx, dy = meters_to_deg(w / 2, h / 2)
    rect = box(b.lng - dx, b.lat - dy, b.lng + dx, b.lat + dy)
    return affinity.rotate(rect, rng.uniform(-8, 8), origin=(b.lng, b.lat))


def plan_basemap(plan: StreetPlan, buildings: list[BuildingPlan], rng: random.Random) -> list[dict]:
    features: list[dict] = []
    # roads: every lattice line is a named road; every third one a 主干道
    for lines, road_names, subtype in (
        (plan.ew_lines, names.EW_ROADS, "road"),
        (plan.ns_lines, names.NS_ROADS, "road_ns"),
    ):
        for k, (line, name) in enumerate(zip(lines, road_names, strict=True)):
            level = 2 if k % 3 == 1 else 1
            road = _extend(line, ROAD_REACH_M)
            features.append(_feature("road", road, name=name, level=level))
            n = len(line.coords) - 1
            for seg in range(n):  # a name on every other block, one of them shown from further out
                if seg % 2 == 0:
                    continue
                a, b = line.project(Point(line.coords[seg])), line.project(Point(line.coords[seg + 1]))
                at = substring(line, a, b).interpolate(0.5, normalized=True)
                label_level = 2 if seg == (n // 2 if (n // 2) % 2 else n // 2 - 1) else 1
                features.append(_feature("label", at, name=name, subtype=subtype, level=label_level))

    # 小区: the area around an estate's 楼栋, and its name
    blocks_of: dict[int, list[BuildingPlan]] = {}
    for b in buildings:
        if b.parent_key is not None:
            blocks_of.setdefault(b.parent_key, []).append(b)
    grid_polygons = {g.code: g.polygon for g in plan.grids}
    for b in buildings:
        if b.kind == "estate":
            points = [(b.lng, b.lat)] + [(c.lng, c.lat) for c in blocks_of.get(b.key, [])]
            pad = meters_to_deg(35, 35)[0]
            area = MultiPoint(points).convex_hull.buffer(pad, join_style="mitre")
            area = area.intersection(grid_polygons[b.grid_code])
            if not area.is_empty and area.geom_type in ("Polygon", "MultiPolygon"):
                features.append(_feature("area", area, name=b.name, subtype="estate"))
            features.append(_feature("label", Point(b.lng, b.lat), name=b.name, subtype="estate", level=0))
        else:
            features.append(_feature("building", _footprint(b, rng), name=b.name))
            if b.kind == "tower":
                features.append(_feature("label", Point(b.lng, b.lat), name=b.name, subtype="poi", level=0))

    # 专属网格 campuses: their grounds and names
    for g in plan.dedicated:
        features.append(_feature("area", g.polygon, name=g.label, subtype="estate"))
        features.append(
            _feature("label", g.polygon.representative_point(), name=g.label, subtype="poi", level=1)
        )
    # 社区/村 names, seen from furthest out
    for c in plan.communities:
        features.append(
            _feature("label", c.polygon.representative_point(), name=c.name, subtype="community", level=3)
        )
    return features
