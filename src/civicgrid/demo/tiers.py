"""The demo's 区: beside 示范街道 a second, smaller 街道 (西溪街道: 3 社区, 9 网格, its own departments and
accounts) and the 区-level accounts (区指挥中心, 区领导) that see both.

Upserts like the rest of the demo: the street is found by its code, departments by code, accounts by username.
The street's cases are played by :func:`civicgrid.demo.cases.load_cases` through the same engine entries as
示范街道's, at a smaller scale (a few hundred over the year).
"""

from __future__ import annotations

import random

from shapely.geometry import box

from civicgrid.accounts import services
from civicgrid.accounts.models import Department, User
from civicgrid.accounts.roles import Role
from civicgrid.demo import names
from civicgrid.demo.geography import _r, geodesic_area, geojson
from civicgrid.demo.people import DEMO_PASSWORD, DemoAccount

SECOND_STREET_NAME = "西溪街道"
SECOND_STREET_CODE = names.DIVISION_CODE + "002"
# east of 示范街道's lattice (which ends at lng 120.160): 3 × 3 squares of 0.01°
SECOND_WEST, SECOND_SOUTH, SECOND_STEP = 120.165, 30.255, 0.01
SECOND_COMMUNITIES = ["花坞社区", "龙章社区", "五常村"]
# the departments of 西溪街道: codes prefixed (department codes and names are unique across the database)
SECOND_PREFIX = "XX"
SECOND_DEPARTMENTS = [
    ("CGZD", "西溪城管中队", "enforcement", 10),
    ("ZJB", "西溪住建办", "construction", 20),
    ("HBS", "西溪环保所", "environment", 30),
    ("SCJG", "西溪市场监管所", "market", 40),
    ("AJB", "西溪安监办", "safety", 50),
    ("SFS", "西溪司法所", "justice", 60),
    ("PCS", "西溪派出所", "police", 70),
    ("SWB", "西溪社会事务办", "service", 80),
    ("XFB", "西溪信访办", "other", 90),
    ("YJB", "西溪应急办", "safety", 100),
]
# scale of its cases against 示范街道's (24 a day on average): ~ 400 over the year
SECOND_SCALE = 0.045


def write_second_street():
    """The street, its 3 communities and 9 grids (idempotent: an existing street is returned as it is).
    Returns ``(street, created)``."""
    from civicgrid.places.models import Community, Grid, MapFeature, Street

    street = Street.objects.filter(code=SECOND_STREET_CODE).first()
    if street is not None:
        if not MapFeature.objects.filter(source=BASEMAP_SOURCE).exists():
            _write_labels(street)  # a demo made before its base map existed
        return street, False
    n = len(SECOND_COMMUNITIES)
    outline = box(SECOND_WEST, SECOND_SOUTH, SECOND_WEST + n * SECOND_STEP, SECOND_SOUTH + 3 * SECOND_STEP)
    centre = outline.centroid
    street = Street.objects.create(
        name=SECOND_STREET_NAME,
        division_code=names.DIVISION_CODE,
        code=SECOND_STREET_CODE,
        geometry=geojson(outline),
        center_lng=_r(centre.x),
        center_lat=_r(centre.y),
    )
    grids = []
    for col, name in enumerate(SECOND_COMMUNITIES):
        x0 = SECOND_WEST + col * SECOND_STEP
        column = box(x0, SECOND_SOUTH, x0 + SECOND_STEP, SECOND_SOUTH + 3 * SECOND_STEP)
        community = Community.objects.create(
            street=street,
            code=f"{SECOND_STREET_CODE}{col + 1:03d}",
            name=name,
            kind="village" if name.endswith("村") else "community",
            geometry=geojson(column),
        )
        for row in range(3):
            square = box(
                x0, SECOND_SOUTH + row * SECOND_STEP, x0 + SECOND_STEP, SECOND_SOUTH + (row + 1) * SECOND_STEP
            )
            minx, miny, maxx, maxy = square.bounds
            grids.append(
                Grid(
                    community=community,
                    code=f"{community.code}{row + 1:03d}",
                    name=f"{name.removesuffix('社区').removesuffix('村')}第{row + 1}网格",
                    geometry=geojson(square),
                    area_m2=round(geodesic_area(square), 1),
                    min_lng=_r(minx),
                    min_lat=_r(miny),
                    max_lng=_r(maxx),
                    max_lat=_r(maxy),
                )
            )
    Grid.objects.bulk_create(grids)
    _write_labels(street)
    return street, True


BASEMAP_SOURCE = "demo-xixi"


def _write_labels(street) -> None:
    """Its communities' names on the base map (示范街道 has a full one; this street only labels)."""
    from shapely.geometry import mapping, shape

    from civicgrid.places.services import replace_map_features

    features = [
        {
            "type": "Feature",
            "geometry": mapping(shape(c.geometry).representative_point()),
            "properties": {"kind": "label", "name": c.name, "subtype": "community", "level": 3},
        }
        for c in street.communities.order_by("code")
    ]
    replace_map_features(actor=None, source=BASEMAP_SOURCE, features=features)


def ensure_second_departments(street, phone_for) -> dict[str, Department]:
    """西溪街道's departments plus one per 社区/村, keyed by the base code (``CGZD`` …, ``SQ001`` …) as the case
    player looks them up."""
    existing = {d.code: d for d in Department.objects.filter(code__startswith=SECOND_PREFIX)}
    out: dict[str, Department] = {}
    wanted = [(code, name, kind, order, None) for code, name, kind, order in SECOND_DEPARTMENTS]
    for n, comm in enumerate(street.communities.order_by("code"), start=1):
        wanted.append((f"SQ{comm.code[-3:]}", comm.name, "community", 200 + n, comm))
    for code, name, kind, order, comm in wanted:
        full = SECOND_PREFIX + code
        dept = existing.get(full)
        if dept is None:
            dept = services.create_department(
                actor=None,
                code=full,
                name=name,
                kind=kind,
                phone=phone_for(full),
                community=comm,
                sort_order=order,
                street=street,
            )
        out[code] = dept
    return out


def _ensure(specs) -> list[DemoAccount]:
    existing = {u.username: u for u in User.objects.filter(username__in=[s[0] for s in specs])}
    accounts = []
    for username, role, full_name, note, extra in specs:
        if username in existing:
            user = existing[username]
            same = user.check_password(DEMO_PASSWORD)
            accounts.append(
                DemoAccount(
                    username,
                    user.role,
                    user.full_name,
                    note if same else "账号已存在，未改动",
                    created=False,
                    password=DEMO_PASSWORD if same else None,
                )
            )
            continue
        services.create_user(
            actor=None, username=username, password=DEMO_PASSWORD, role=role, full_name=full_name, **extra
        )
        accounts.append(DemoAccount(username, role, full_name, note))
    return accounts


def ensure_second_accounts(street, departments: dict[str, Department]) -> list[DemoAccount]:
    """西溪街道's desk, leader, a handler, a 社区 worker and a 网格员 (its other staff: ``ensure_staff``)."""
    first = street.communities.order_by("code").first()
    grids = list(first.grids.order_by("code")[:2])
    handler_dept = departments["CGZD"]
    return _ensure(
        [
            ("xx_dispatcher", Role.DISPATCHER, "钱文静", "西溪街道指挥中心受理、派遣", {"street": street}),
            ("xx_zhibanzhang", Role.SHIFT_LEADER, "冯国栋", "西溪街道值班长", {"street": street}),
            ("xx_lingdao", Role.LEADER, "褚志明", "西溪街道领导", {"street": street}),
            (
                "xx_handler",
                Role.DEPT_HANDLER,
                "卫小兵",
                f"{handler_dept.name}处置人员",
                {"department": handler_dept},
            ),
            ("xx_shequ", Role.COMMUNITY_STAFF, "蒋丽", f"{first.name}工作人员", {"community": first}),
            (
                "xx_wangge",
                Role.GRID_WORKER,
                "沈涛",
                "西溪网格员：" + "、".join(g.name for g in grids),
                {"grids": grids},
            ),
        ]
    )


def ensure_district_accounts(district) -> list[DemoAccount]:
    """The 区 level: 区指挥中心 (a dispatcher of the 区) and 区领导; both see every 街道 of the 区."""
    return _ensure(
        [
            (
                "qu_dispatcher",
                Role.DISPATCHER,
                "韩立新",
                f"{district.name}指挥中心：查看并办理全区各街道工单",
                {"district": district},
            ),
            (
                "qu_lingdao",
                Role.LEADER,
                "杨振华",
                f"{district.name}领导：查看全区各街道，督办",
                {"district": district},
            ),
        ]
    )


def rng_for(seed: int, what: str) -> random.Random:
    return random.Random(f"{seed}:second:{what}")
