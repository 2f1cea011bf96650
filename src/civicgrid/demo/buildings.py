"""小区/楼栋/楼宇 and 企业/商户/单位 for every grid of the plan (pure; :func:`write_places` stores them).

Land use drives the mix: residential grids hold 小区 with 楼栋 and a few 底商; commercial grids hold 楼宇 full
of companies and streets of shops; the 村 holds 农居点. Every point is drawn inside the grid's own area (an
ordinary grid minus the 专属网格 inside it, kept 8 m clear of the edges), so the point→grid lookup agrees
with the stored ``grid``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from shapely.geometry import Point
from shapely.prepared import prep

from civicgrid.demo import names
from civicgrid.demo.geography import StreetPlan, meters_to_deg
from civicgrid.demo.geography import _r as rnd

EDGE_MARGIN_DEG = 0.00008  # ≈ 8 m


@dataclass
class BuildingPlan:
    key: int
    grid_code: str
    kind: str  # estate / tower / block
    name: str
    address: str
    lng: float
    lat: float
    parent_key: int | None = None
    aliases: list[str] = field(default_factory=list)
    floors: int | None = None


@dataclass
class UnitPlan:
    grid_code: str
    kind: str  # enterprise / shop / organization
    name: str
    credit_code: str
    address: str
    contact_name: str
    contact_phone: str
    lng: float
    lat: float
    building_key: int | None = None


class _Area:
    """Where things of one grid may stand, with a seeded point sampler."""

    def __init__(self, geom, rng: random.Random):
        self.geom = geom
        self.prepared = prep(geom)
        self.rng = rng

    def contains(self, x: float, y: float) -> bool:
        return self.prepared.contains(Point(x, y))

    def anywhere(self) -> tuple[float, float]:
        minx, miny, maxx, maxy = self.geom.bounds
        for _ in range(10_000):
            x, y = rnd(self.rng.uniform(minx, maxx)), rnd(self.rng.uniform(miny, maxy))
            if self.contains(x, y):
                return x, y
        raise RuntimeError("could not place a point")  # pragma: no cover

    def near(self, centre: tuple[float, float], radius_m: float) -> tuple[float, float]:
        rx, ry = meters_to_deg(radius_m, radius_m)
        for _ in range(60):
            x = rnd(centre[0] + self.rng.uniform(-rx, rx))
            y = rnd(centre[1] + self.rng.uniform(-ry, ry))
            if self.contains(x, y):
                return x, y
        return centre


class _Addresser:
    """House numbers on the roads that bound each lattice cell (odd on the north/east side)."""

    def __init__(self, plan: StreetPlan, rng: random.Random):
        self.plan = plan
        self.rng = rng
        self.used: set[str] = set()

    def road_address(self, cell: tuple[int, int], x: float, y: float) -> str:
        i, j = cell
        p = Point(x, y)
        options = [
            (self.plan.ew_lines[j].distance(p), "ew", j),
            (self.plan.ew_lines[j + 1].distance(p), "ew", j + 1),
            (self.plan.ns_lines[i].distance(p), "ns", i),
            (self.plan.ns_lines[i + 1].distance(p), "ns", i + 1),
        ]
        _, axis, k = min(options)
        if axis == "ew":
            road = names.EW_ROADS[k]
            line = self.plan.ew_lines[k]
            odd = y > line.interpolate(line.project(p)).y
            base = int((x - 120.095) / 0.0002)
        else:
            road = names.NS_ROADS[k]
            line = self.plan.ns_lines[k]
            odd = x > line.interpolate(line.project(p)).x
            base = int((y - 30.245) / 0.0002)
        number = 2 * base + (1 if odd else 2)
        address = f"{road}{number}号"
        while address in self.used:  # a new building gets its own number
            number += 2
            address = f"{road}{number}号"
        self.used.add(address)
        return address

    def shop_address(self, cell, x: float, y: float) -> str:
        """Shops share numbers freely (a row of shopfronts under one 号 is common); add a 铺位 suffix."""
        address = self.road_address(cell, x, y)
        self.used.discard(address)
        return address + (f"-{self.rng.randint(1, 12)}" if self.rng.random() < 0.4 else "")


class _Builder:
    def __init__(self, plan: StreetPlan, rng: random.Random):
        self.plan = plan
        self.rng = rng
        self.addr = _Addresser(plan, rng)
        self.buildings: list[BuildingPlan] = []
        self.units: list[UnitPlan] = []
        self.unit_names = names.UniqueNames()
        self.estate_names = names.UniqueNames()
        self.tower_names = names.UniqueNames()
        self.areas: dict[str, _Area] = {}
        for g in plan.grids:
            geom = g.polygon
            inner = [d.polygon for d in plan.dedicated if d.parent_code == g.code]
            for d in inner:
                geom = geom.difference(d.buffer(EDGE_MARGIN_DEG))
            self.areas[g.code] = _Area(geom.buffer(-EDGE_MARGIN_DEG), rng)

    # --- buildings --------------------------------------------------------------------------------

    def _add_building(self, **kw) -> BuildingPlan:
        b = BuildingPlan(key=len(self.buildings), **kw)
        self.buildings.append(b)
        return b

    def estate(self, g, *, blocks: int, stem: str | None = None, village: bool = False) -> BuildingPlan:
        area = self.areas[g.code]
        x, y = area.anywhere()
        if village:
            name = self.estate_names.take(lambda: f"{stem}村{self.rng.choice(names.NUMERAL)}组")
        elif stem is not None:
            name = self.estate_names.take(lambda: f"{stem}{self._nth()}区")
        else:
            name = self.estate_names.take(
                lambda: self.rng.choice(names.ESTATE_STEMS) + self.rng.choice(names.ESTATE_SUFFIXES)
            )
        aliases = []
        if name.endswith("区") and name[-2] in names.NUMERAL:
            aliases.append(name[:-2] + str(names.NUMERAL.index(name[-2]) + 1) + "区")
        if name.endswith(("花园", "家园", "嘉园", "雅苑", "名苑")):
            aliases.append(name[:-2])
        estate = self._add_building(
            grid_code=g.code,
            kind="estate",
            name=name,
            address=self.addr.road_address(g.cell, x, y),
            lng=x,
            lat=y,
            aliases=aliases,
        )
        old = self.rng.random() < 0.45 or village
        for n in range(1, blocks + 1):
            bx, by = area.near((x, y), 140)
            self._add_building(
                grid_code=g.code,
                kind="block",
                name=f"{name}{n}幢",
                address=f"{name}{n}幢",
                lng=bx,
                lat=by,
                parent_key=estate.key,
                aliases=[f"{name}{n}号楼"] + [f"{a}{n}幢" for a in aliases[:1]],
                floors=(self.rng.choice([3, 4]) if village else self.rng.choice([5, 6, 6, 7]))
                if old
                else self.rng.choice([11, 18, 18, 24, 26, 28, 33]),
            )
        return estate

    def _nth(self) -> str:
        return self.rng.choice(names.NUMERAL[:6])

    def tower(self, g, *, name: str | None = None, near=None) -> BuildingPlan:
        area = self.areas[g.code]
        x, y = area.near(near, 120) if near else area.anywhere()
        if name is None:
            name = self.tower_names.take(
                lambda: names.trade_name(self.rng) + self.rng.choice(names.TOWER_SUFFIXES)
            )
        aliases = []
        for suffix in ("国际大厦", "大厦", "科技大楼", "商务楼"):
            if name.endswith(suffix):
                aliases.append(name[: -len(suffix)] + "大楼")
                break
        return self._add_building(
            grid_code=g.code,
            kind="tower",
            name=name,
            address=self.addr.road_address(g.cell, x, y),
            lng=x,
            lat=y,
            aliases=aliases,
            floors=self.rng.choice([8, 12, 16, 18, 22, 24, 28, 32]),
        )

    # --- units ------------------------------------------------------------------------------------

    def _unit(self, g, kind: str, name: str, address: str, x: float, y: float, building=None) -> None:
        self.units.append(
            UnitPlan(
                grid_code=g.code,
                kind=kind,
                name=name,
                credit_code=names.credit_code(self.rng, kind=kind),
                address=address,
                contact_name=names.person_name(self.rng),
                contact_phone=names.mobile(self.rng) if kind != "organization" else names.landline(self.rng),
                lng=x,
                lat=y,
                building_key=None if building is None else building.key,
            )
        )

    def companies_in(self, g, tower: BuildingPlan, count: int) -> None:
        area = self.areas[g.code]
        rooms: set[str] = set()
        for _ in range(count):
            floor = self.rng.randint(2, tower.floors or 10)
            room = f"{floor}{self.rng.randint(1, 20):02d}室"
            if room in rooms:
                continue
            rooms.add(room)
            x, y = area.near((tower.lng, tower.lat), 12)
            name = self.unit_names.take(lambda: names.company_name(self.rng))
            self._unit(g, "enterprise", name, f"{tower.address}{tower.name}{room}", x, y, tower)

    def shops(self, g, count: int, *, near: BuildingPlan | None = None) -> None:
        area = self.areas[g.code]
        for _ in range(count):
            x, y = area.near((near.lng, near.lat), 150) if near else area.anywhere()
            name = self.unit_names.take(lambda: names.shop_name(self.rng))
            building = (
                near if near is not None and near.kind == "estate" and self.rng.random() < 0.5 else None
            )
            self._unit(g, "shop", name, self.addr.shop_address(g.cell, x, y), x, y, building)

    def property_manager(self, g, estate: BuildingPlan) -> None:
        x, y = self.areas[g.code].near((estate.lng, estate.lat), 30)
        company = self.unit_names.take(
            lambda: f"杭州{names.trade_name(self.rng)}物业服务有限公司{estate.name}服务中心"
        )
        self._unit(g, "enterprise", company, estate.address, x, y, estate)

    def organization(self, g, name, *, building: BuildingPlan | None = None) -> None:
        """``name``: a string, or a callable that draws one (retried until unused)."""
        area = self.areas[g.code]
        x, y = area.near((building.lng, building.lat), 20) if building else area.anywhere()
        address = building.address if building else self.addr.road_address(g.cell, x, y)
        name = self.unit_names.take(name if callable(name) else lambda: name)
        self._unit(g, "organization", name, address, x, y, building)

    # --- per land use -----------------------------------------------------------------------------

    def residential(self, g, stem: str | None) -> None:
        r = self.rng
        for k in range(r.choice([1, 1, 2])):
            estate = self.estate(g, blocks=r.randint(3, 8), stem=stem if k == 0 else None)
            self.property_manager(g, estate)
            self.shops(g, r.randint(4, 7), near=estate)
        self.shops(g, r.randint(2, 6))
        if r.random() < 0.35:
            self.organization(g, lambda: r.choice(names.ESTATE_STEMS) + r.choice(names.ORGANIZATION_KINDS))

    def commercial(self, g) -> None:
        r = self.rng
        towers = [self.tower(g) for _ in range(r.randint(2, 3))]
        for t in towers:
            self.companies_in(g, t, r.randint(7, 14))
            self.shops(g, r.randint(2, 5), near=t)
        self.shops(g, r.randint(8, 14))
        if r.random() < 0.3:
            estate = self.estate(g, blocks=r.randint(2, 4))
            self.property_manager(g, estate)

    def mixed(self, g, stem: str | None) -> None:
        r = self.rng
        estate = self.estate(g, blocks=r.randint(3, 6), stem=stem)
        self.property_manager(g, estate)
        self.shops(g, r.randint(4, 8), near=estate)
        for _ in range(r.randint(1, 2)):
            t = self.tower(g)
            self.companies_in(g, t, r.randint(5, 10))
        self.shops(g, r.randint(4, 8))

    def village(self, g, stem: str) -> None:
        r = self.rng
        self.estate(g, blocks=r.randint(3, 6), stem=stem, village=True)
        self.shops(g, r.randint(3, 6))
        if r.random() < 0.5:
            x, y = self.areas[g.code].anywhere()
            name = self.unit_names.take(lambda: f"杭州{names.trade_name(self.rng)}五金加工厂")
            self._unit(g, "enterprise", name, self.addr.road_address(g.cell, x, y), x, y)

    def dedicated(self, g) -> None:
        r = self.rng
        label = g.label
        if g.profile == "school":
            campus = self._campus(
                g, ["1号教学楼", "2号教学楼", "综合楼", "体育馆", "食堂"], floors=[5, 5, 6, 2, 2]
            )
            self.organization(g, label, building=campus)
            x, y = self.areas[g.code].near((campus.lng, campus.lat), 40)
            self._unit(
                g,
                "enterprise",
                f"杭州{names.trade_name(r)}餐饮管理有限公司{label}食堂",
                campus.address,
                x,
                y,
                campus,
            )
        elif g.profile == "hospital":
            campus = self._campus(g, ["门诊楼", "医技楼", "康复楼"], floors=[5, 4, 6])
            self.organization(g, label, building=campus)
            self.shops(g, 2, near=campus)
        elif g.profile == "park":
            first = None
            for n in range(1, 6):
                t = self.tower(g, name=f"{label}{n}号楼", near=(first.lng, first.lat) if first else None)
                first = first or t
                self.companies_in(g, t, r.randint(12, 22))
            self.organization(g, f"{label}管理服务中心", building=first)
        elif g.profile == "market":
            hall = self.tower(g, name=label)
            hall.floors = 2
            self.organization(g, f"{label}管理办公室", building=hall)
            goods = ["蔬菜", "水产", "鲜肉", "禽蛋", "豆制品", "干货", "水果", "熟食", "粮油", "调料"]
            for n in range(1, r.randint(30, 40)):
                x, y = self.areas[g.code].near((hall.lng, hall.lat), 25)
                name = self.unit_names.take(
                    lambda n=n: (
                        f"{label}{r.choice('ABC')}{n:02d}号{r.choice(names.SURNAMES)}记{r.choice(goods)}"
                    )
                )
                self._unit(g, "shop", name, f"{hall.address}{label}", x, y, hall)

    def _campus(self, g, blocks: list[str], floors: list[int]) -> BuildingPlan:
        area = self.areas[g.code]
        x, y = area.anywhere()
        campus = self._add_building(
            grid_code=g.code,
            kind="estate",
            name=g.label,
            address=self.addr.road_address(g.cell, x, y),
            lng=x,
            lat=y,
        )
        for block, fl in zip(blocks, floors, strict=True):
            bx, by = area.near((x, y), 80)
            self._add_building(
                grid_code=g.code,
                kind="block",
                name=f"{g.label}{block}",
                address=f"{campus.address}{g.label}{block}",
                lng=bx,
                lat=by,
                parent_key=campus.key,
                floors=fl,
            )
        return campus


def plan_places(plan: StreetPlan, rng: random.Random) -> tuple[list[BuildingPlan], list[UnitPlan]]:
    b = _Builder(plan, rng)
    stems_used: set[int] = set()
    for g in plan.grids:
        comm = plan.communities[g.community]
        # the first residential grid of a community names its 小区 after the community (翠苑一区 …)
        stem = None
        if g.profile in ("residential", "mixed") and g.community not in stems_used:
            stem = comm.stem
            stems_used.add(g.community)
        if g.dedicated:
            b.dedicated(g)
        elif g.profile == "residential":
            b.residential(g, stem)
        elif g.profile == "commercial":
            b.commercial(g)
        elif g.profile == "mixed":
            b.mixed(g, stem)
        else:
            b.village(g, comm.stem)
        if g.number == 1 and not g.dedicated:
            suffix = "村民委员会" if comm.kind == "village" else "居民委员会"
            b.organization(g, f"{comm.name}{suffix}")
            b.organization(g, f"{comm.name}党群服务中心")
    return b.buildings, b.units


def write_places(
    buildings: list[BuildingPlan], units: list[UnitPlan], grids_by_code: dict
) -> tuple[int, int]:
    """bulk_create the plan (estates and towers first so 楼栋 and units can point at them)."""
    from civicgrid.places.models import Building, Unit

    def row(b: BuildingPlan, parent=None) -> Building:
        return Building(
            grid=grids_by_code[b.grid_code],
            parent=parent,
            kind=b.kind,
            name=b.name,
            address=b.address,
            aliases="|".join(b.aliases),
            lng=b.lng,
            lat=b.lat,
            floors=b.floors,
        )

    tops = [b for b in buildings if b.parent_key is None]
    saved = dict(
        zip((b.key for b in tops), Building.objects.bulk_create([row(b) for b in tops]), strict=True)
    )
    blocks = [b for b in buildings if b.parent_key is not None]
    saved.update(
        zip(
            (b.key for b in blocks),
            Building.objects.bulk_create([row(b, saved[b.parent_key]) for b in blocks], batch_size=500),
            strict=True,
        )
    )
    Unit.objects.bulk_create(
        [
            Unit(
                grid=grids_by_code[u.grid_code],
                building=None if u.building_key is None else saved[u.building_key],
                kind=u.kind,
                name=u.name,
                credit_code=u.credit_code,
                address=u.address,
                contact_name=u.contact_name,
                contact_phone=u.contact_phone,
                lng=u.lng,
                lat=u.lat,
            )
            for u in units
        ],
        batch_size=500,
    )
    return len(buildings), len(units)
