"""The 示范街道 geometry: a jittered irregular lattice of 网格 that tiles the 街道 exactly.

The plan is pure (no database): :func:`plan_street` turns a seeded ``random.Random`` into a :class:`StreetPlan`;
:func:`write_geography` stores it. Every lattice vertex and every edge mid-point is computed once, rounded to
6 decimals and shared by the cells on both sides, so neighbouring grids have identical edges: their union is the
街道 with no gaps and their pairwise intersections are lines (area 0).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from pyproj import Geod
from shapely import affinity
from shapely.geometry import LineString, Point, Polygon, box, mapping
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient
from shapely.ops import unary_union

from civicgrid.demo import names

# the lattice: 8 × 8 cells over lng 120.100–120.160, lat 30.250–30.300 (≈ 5.8 km × 5.5 km)
WEST, EAST, SOUTH, NORTH = 120.100, 120.160, 30.250, 30.300
NCOLS = NROWS = 8
DX = (EAST - WEST) / NCOLS
DY = (NORTH - SOUTH) / NROWS
REMOVED_CELLS = 4  # → 60 ordinary grids
NDIGITS = 6

# metres per degree near 30.27°N (good enough for laying out small rectangles; areas use the geodesic)
M_PER_DEG_LAT = 110_880.0
M_PER_DEG_LNG = 111_320.0 * math.cos(math.radians((SOUTH + NORTH) / 2))

GEOD = Geod(ellps="WGS84")

# 专属网格: (profile, name, width m, height m, wanted parent profile)
DEDICATED = [
    ("school", "示范实验学校", 260, 200, "residential"),
    ("hospital", "示范街道社区卫生服务中心", 130, 100, "mixed"),
    ("park", "示范数字产业园", 320, 230, "commercial"),
    ("market", "示范农贸市场", 110, 80, "residential"),
]


@dataclass
class GridPlan:
    code: str
    name: str
    community: int  # index into StreetPlan.communities
    number: int  # the last 3 digits of the code
    polygon: Polygon
    profile: str  # residential / commercial / mixed / village / school / hospital / park / market
    cell: tuple[int, int]  # lattice cell (col, row); a 专属网格 carries its parent's
    parent_code: str | None = None
    label: str = ""  # the 专属网格's campus name

    @property
    def dedicated(self) -> bool:
        return self.parent_code is not None


@dataclass
class CommunityPlan:
    code: str
    name: str
    stem: str
    kind: str  # community / village
    cells: list[tuple[int, int]]
    polygon: Polygon | None = None


@dataclass
class StreetPlan:
    polygon: Polygon
    communities: list[CommunityPlan]
    grids: list[GridPlan]
    ew_lines: list[LineString]  # row lines, south → north (road EW_ROADS[j] runs along line j)
    ns_lines: list[LineString]  # column lines, west → east
    by_code: dict[str, GridPlan] = field(default_factory=dict)

    def __post_init__(self):
        self.by_code = {g.code: g for g in self.grids}

    @property
    def ordinary(self) -> list[GridPlan]:
        return [g for g in self.grids if not g.dedicated]

    @property
    def dedicated(self) -> list[GridPlan]:
        return [g for g in self.grids if g.dedicated]


# --- helpers ---------------------------------------------------------------------------------------


def _r(x: float) -> float:
    return round(x, NDIGITS)


def rounded_coords(geom: BaseGeometry):
    """``mapping(geom)['coordinates']`` as nested lists with every number rounded to 6 decimals."""

    def walk(c):
        if isinstance(c, (int, float)):
            return _r(float(c))
        return [walk(x) for x in c]

    return walk(mapping(geom)["coordinates"])


def geojson(geom: BaseGeometry) -> dict:
    """A GeoJSON geometry dict, exterior rings counter-clockwise (RFC 7946), coordinates rounded."""
    if geom.geom_type == "Polygon":
        geom = orient(geom, 1.0)
    elif geom.geom_type == "MultiPolygon":
        geom = type(geom)([orient(p, 1.0) for p in geom.geoms])
    return {"type": geom.geom_type, "coordinates": rounded_coords(geom)}


def geodesic_area(geom: BaseGeometry) -> float:
    return abs(GEOD.geometry_area_perimeter(geom)[0])


def meters_to_deg(dx_m: float, dy_m: float) -> tuple[float, float]:
    return dx_m / M_PER_DEG_LNG, dy_m / M_PER_DEG_LAT


# --- the lattice -----------------------------------------------------------------------------------


def _lattice(rng: random.Random):
    """Jittered vertices ``v[i][j]`` and one jittered mid-point per edge, all rounded."""
    v = [[(0.0, 0.0)] * (NROWS + 1) for _ in range(NCOLS + 1)]
    for i in range(NCOLS + 1):
        for j in range(NROWS + 1):
            x = WEST + i * DX + rng.uniform(-0.22, 0.22) * DX
            y = SOUTH + j * DY + rng.uniform(-0.22, 0.22) * DY
            v[i][j] = (_r(x), _r(y))

    def mid(a, b):
        t = rng.uniform(0.38, 0.62)
        ax, ay = a
        bx, by = b
        # offset perpendicular to the edge, measured in metres so the bulge is the same on both axes
        ex, ey = (bx - ax) * M_PER_DEG_LNG, (by - ay) * M_PER_DEG_LAT
        length = math.hypot(ex, ey)
        off = rng.uniform(-0.07, 0.07) * length
        nx, ny = -ey / length * off, ex / length * off
        return (_r(ax + (bx - ax) * t + nx / M_PER_DEG_LNG), _r(ay + (by - ay) * t + ny / M_PER_DEG_LAT))

    h = {}  # edge v[i][j] → v[i+1][j]
    vert = {}  # edge v[i][j] → v[i][j+1]
    for j in range(NROWS + 1):
        for i in range(NCOLS):
            h[i, j] = mid(v[i][j], v[i + 1][j])
    for i in range(NCOLS + 1):
        for j in range(NROWS):
            vert[i, j] = mid(v[i][j], v[i][j + 1])
    return v, h, vert


def _cell_polygon(v, h, vert, i: int, j: int) -> Polygon:
    ring = [
        v[i][j],
        h[i, j],
        v[i + 1][j],
        vert[i + 1, j],
        v[i + 1][j + 1],
        h[i, j + 1],
        v[i][j + 1],
        vert[i, j],
    ]
    poly = Polygon(ring)
    if not poly.is_valid:  # cannot happen with the jitter bounds above; fail loudly if someone widens them
        raise RuntimeError(f"lattice cell {i},{j} is not a valid polygon")
    return poly


def _removed_cells(rng: random.Random) -> set[tuple[int, int]]:
    """Notch the outline: drop three corner cells, and one neighbour of one of them."""
    corners = [(0, 0), (NCOLS - 1, 0), (0, NROWS - 1), (NCOLS - 1, NROWS - 1)]
    chosen = rng.sample(corners, 3)
    removed = set(chosen)
    ci, cj = chosen[0]
    neighbour = (ci + (1 if ci == 0 else -1), cj) if rng.random() < 0.5 else (ci, cj + (1 if cj == 0 else -1))
    removed.add(neighbour)
    assert len(removed) == REMOVED_CELLS
    return removed


def _neighbours(cell, cells: set) -> list[tuple[int, int]]:
    i, j = cell
    return [c for c in ((i - 1, j), (i + 1, j), (i, j - 1), (i, j + 1)) if c in cells]


def _partition(rng: random.Random, cells: list[tuple[int, int]], n: int) -> list[list[tuple[int, int]]]:
    """Grow ``n`` contiguous, roughly equal regions from seeds spread over the lattice (4 bands × 2 halves)."""
    cellset = set(cells)
    seeds = []
    for band in range(4):  # north → south
        for half in range(2):  # west → east
            rows = [NROWS - 1 - 2 * band, NROWS - 2 - 2 * band]
            cols = list(range(half * NCOLS // 2, (half + 1) * NCOLS // 2))
            candidates = [(i, j) for i in cols for j in rows if (i, j) in cellset and (i, j) not in seeds]
            # prefer the middle of the block so regions start apart
            candidates.sort(key=lambda c: abs(c[0] - (cols[0] + cols[-1]) / 2) + rng.random())
            seeds.append(candidates[0])
    owner: dict[tuple[int, int], int] = {s: k for k, s in enumerate(seeds)}
    regions = [[s] for s in seeds]
    while len(owner) < len(cells):
        progressed = False
        for k in sorted(range(n), key=lambda k: (len(regions[k]), k)):
            frontier = sorted(
                {c for cell in regions[k] for c in _neighbours(cell, cellset) if c not in owner}
            )
            if not frontier:
                continue
            cx = sum(c[0] for c in regions[k]) / len(regions[k])
            cy = sum(c[1] for c in regions[k]) / len(regions[k])
            pick = min(frontier, key=lambda c: (c[0] - cx) ** 2 + (c[1] - cy) ** 2 + rng.random() * 0.8)
            owner[pick] = k
            regions[k].append(pick)
            progressed = True
            break
        if not progressed:  # pragma: no cover - the lattice is connected
            raise RuntimeError("could not partition the lattice")
    return regions


def _profiles(rng: random.Random, cells: list[tuple[int, int]], village: set) -> dict:
    """Land use per cell: commercial near the centre, some mixed, the rest residential; the 村 is village."""
    profile = {c: "village" for c in cells if c in village}
    rest = [c for c in cells if c not in village]
    centre = ((NCOLS - 1) / 2, (NROWS - 1) / 2)
    weight = {c: 1.0 / (1.0 + math.hypot(c[0] - centre[0], c[1] - centre[1])) ** 1.5 for c in rest}
    pool = list(rest)
    for kind, count in (("commercial", 15), ("mixed", 9)):
        for _ in range(count):
            c = rng.choices(pool, weights=[weight[x] for x in pool])[0]
            profile[c] = kind
            pool.remove(c)
    for c in pool:
        profile[c] = "residential"
    return profile


def _dedicated_polygon(rng: random.Random, parent: Polygon, width_m: float, height_m: float) -> Polygon:
    """A rotated rectangle strictly inside ``parent`` (30 m clear of its edges)."""
    w, _ = meters_to_deg(width_m, 0)
    _, hgt = meters_to_deg(0, height_m)
    half_diag_m = math.hypot(width_m, height_m) / 2 + 30
    inner = parent.buffer(-half_diag_m / M_PER_DEG_LNG)
    minx, miny, maxx, maxy = inner.bounds
    for _ in range(500):
        p = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if not inner.contains(p):
            continue
        rect = box(p.x - w / 2, p.y - hgt / 2, p.x + w / 2, p.y + hgt / 2)
        rect = affinity.rotate(rect, rng.uniform(-25, 25), origin=p)
        rect = Polygon([(_r(x), _r(y)) for x, y in rect.exterior.coords])
        if rect.is_valid and parent.buffer(-1e-5).contains(rect):
            return rect
    raise RuntimeError("no room for a 专属网格")  # pragma: no cover


def plan_street(rng: random.Random) -> StreetPlan:
    v, h, vert = _lattice(rng)
    removed = _removed_cells(rng)
    cells = [(i, j) for j in range(NROWS) for i in range(NCOLS) if (i, j) not in removed]
    regions = _partition(rng, cells, len(names.COMMUNITY_NAMES))
    # the 村 is the region whose cells sit furthest from the centre on average (the edge of town)
    centre = ((NCOLS - 1) / 2, (NROWS - 1) / 2)

    def remoteness(region):
        return sum(math.hypot(c[0] - centre[0], c[1] - centre[1]) for c in region) / len(region)

    village_region = max(range(len(regions)), key=lambda k: (remoteness(regions[k]), k))
    # code order: the 村 last, the others north-west → south-east (the order their seeds were laid out in)
    order = [k for k in range(len(regions)) if k != village_region] + [village_region]
    profiles = _profiles(rng, cells, set(regions[village_region]))

    communities: list[CommunityPlan] = []
    grids: list[GridPlan] = []
    for idx, k in enumerate(order):
        name, stem = names.COMMUNITY_NAMES[idx]
        code = f"{names.STREET_CODE}{idx + 1:03d}"
        comm_cells = sorted(regions[k], key=lambda c: (-c[1], c[0]))  # north → south, west → east
        comm = CommunityPlan(
            code=code,
            name=name,
            stem=stem,
            kind="village" if k == village_region else "community",
            cells=comm_cells,
        )
        communities.append(comm)
        for n, (i, j) in enumerate(comm_cells, start=1):
            grids.append(
                GridPlan(
                    code=f"{code}{n:03d}",
                    name=f"{name}第{n}网格",
                    community=idx,
                    number=n,
                    polygon=_cell_polygon(v, h, vert, i, j),
                    profile=profiles[i, j],
                    cell=(i, j),
                )
            )
    for comm, group in zip(communities, _group(grids, len(communities)), strict=True):
        comm.polygon = unary_union([g.polygon for g in group])
    street = unary_union([g.polygon for g in grids])

    # 专属网格 inside ordinary grids of the wanted land use (each in a different parent)
    used_parents: set[str] = set()
    for profile, label, w_m, h_m, parent_profile in DEDICATED:
        candidates = [g for g in grids if g.profile == parent_profile and g.code not in used_parents]
        candidates = candidates or [g for g in grids if not g.dedicated and g.code not in used_parents]
        parent = rng.choice(candidates)
        used_parents.add(parent.code)
        comm = communities[parent.community]
        number = 901 + sum(1 for g in grids if g.dedicated and g.community == parent.community)
        grids.append(
            GridPlan(
                code=f"{comm.code}{number:03d}",
                name=f"{label}专属网格",
                community=parent.community,
                number=number,
                polygon=_dedicated_polygon(rng, parent.polygon, w_m, h_m),
                profile=profile,
                cell=parent.cell,
                parent_code=parent.code,
                label=label,
            )
        )
    grids.sort(key=lambda g: g.code)

    ew_lines = [LineString([v[i][j] for i in range(NCOLS + 1)]) for j in range(NROWS + 1)]
    ns_lines = [LineString([v[i][j] for j in range(NROWS + 1)]) for i in range(NCOLS + 1)]
    return StreetPlan(
        polygon=street, communities=communities, grids=grids, ew_lines=ew_lines, ns_lines=ns_lines
    )


def _group(grids: list[GridPlan], n: int) -> list[list[GridPlan]]:
    out: list[list[GridPlan]] = [[] for _ in range(n)]
    for g in grids:
        if not g.dedicated:
            out[g.community].append(g)
    return out


# --- database --------------------------------------------------------------------------------------


def write_geography(plan: StreetPlan):
    """Create the street, its communities and grids. Returns ``(street, communities, grids_by_code)``.

    The caller runs this inside ``transaction.atomic()``.
    """
    from civicgrid.places.models import Community, Grid, Street

    centre = plan.polygon.centroid
    street = Street.objects.create(
        name=names.STREET_NAME,
        division_code=names.DIVISION_CODE,
        code=names.STREET_CODE,
        geometry=geojson(plan.polygon),
        center_lng=_r(centre.x),
        center_lat=_r(centre.y),
    )
    communities = Community.objects.bulk_create(
        [
            Community(street=street, code=c.code, name=c.name, kind=c.kind, geometry=geojson(c.polygon))
            for c in plan.communities
        ]
    )

    def grid_row(g: GridPlan, parent=None) -> Grid:
        minx, miny, maxx, maxy = g.polygon.bounds
        return Grid(
            community=communities[g.community],
            parent=parent,
            code=g.code,
            name=g.name,
            kind="dedicated" if g.dedicated else "ordinary",
            geometry=geojson(g.polygon),
            area_m2=round(geodesic_area(g.polygon), 1),
            min_lng=_r(minx),
            min_lat=_r(miny),
            max_lng=_r(maxx),
            max_lat=_r(maxy),
        )

    by_code = {g.code: g for g in Grid.objects.bulk_create([grid_row(g) for g in plan.ordinary])}
    dedicated = Grid.objects.bulk_create([grid_row(g, by_code[g.parent_code]) for g in plan.dedicated])
    by_code.update({g.code: g for g in dedicated})
    return street, communities, by_code
