"""``civicgrid demo``: 示范街道 geography, buildings, units, departments and accounts."""

from __future__ import annotations

import io
import itertools
import random
import re

import pytest
from django.core.management import call_command
from django.test import RequestFactory
from shapely.geometry import Point, shape
from shapely.ops import unary_union

from civicgrid.accounts.models import Department, User
from civicgrid.accounts.roles import Role
from civicgrid.core import revisions
from civicgrid.core.models import AuditLog
from civicgrid.demo.buildings import plan_places
from civicgrid.demo.geography import geojson, plan_street
from civicgrid.demo.people import DEMO_PASSWORD, STREET_DEPARTMENTS
from civicgrid.places import signals
from civicgrid.places.models import Building, Community, Grid, Street, Unit

ROLE_ACCOUNTS = {
    "admin": Role.SYSTEM_ADMIN,
    "auditor": Role.AUDIT_ADMIN,
    "dispatcher": Role.DISPATCHER,
    "zhibanzhang": Role.SHIFT_LEADER,
    "handler": Role.DEPT_HANDLER,
    "shequ": Role.COMMUNITY_STAFF,
    "wangge": Role.GRID_WORKER,
    "lingdao": Role.LEADER,
}


def run_demo(*args: str) -> str:
    out = io.StringIO()
    call_command("demo", "--no-serve", "--no-cases", *args, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {
        "streets": Street.objects.count(),
        "communities": Community.objects.count(),
        "grids": Grid.objects.count(),
        "buildings": Building.objects.count(),
        "units": Unit.objects.count(),
        "departments": Department.objects.count(),
        "users": User.objects.count(),
    }


@pytest.fixture
def demo(db):
    return run_demo()


# --- the pure plan ---------------------------------------------------------------------------------


def test_same_seed_gives_the_same_plan_and_another_seed_another():
    a = plan_street(random.Random("7:geography"))
    b = plan_street(random.Random("7:geography"))
    c = plan_street(random.Random("8:geography"))
    assert [g.code for g in a.grids] == [g.code for g in b.grids]
    assert [g.polygon.wkb for g in a.grids] == [g.polygon.wkb for g in b.grids]
    assert [g.polygon.wkb for g in a.grids] != [g.polygon.wkb for g in c.grids]


@pytest.mark.parametrize("seed", [20260101, 1, 2, 3])
def test_plan_tiles_the_street_for_any_seed(seed):
    plan = plan_street(random.Random(f"{seed}:geography"))
    ordinary = [g.polygon for g in plan.ordinary]
    assert all(p.is_valid for p in ordinary)
    assert unary_union(ordinary).area == pytest.approx(plan.polygon.area, rel=1e-9)
    assert sum(p.area for p in ordinary) == pytest.approx(plan.polygon.area, rel=1e-9)
    for d in plan.dedicated:
        assert plan.by_code[d.parent_code].polygon.buffer(-1e-6).contains(d.polygon)


# --- the database ----------------------------------------------------------------------------------


# the demo 区 holds two 街道 (tiers): these tests look at 示范街道; tests/demo/test_demo_tiers.py at the other
MAIN = "330106001"


def _main(model, path: str):
    return model.objects.filter(**{path: MAIN})


def test_counts_and_codes(demo):
    street = Street.objects.get(code="330106001")
    assert street.name == "示范街道" and street.division_code == "330106"
    assert 120.09 < street.center_lng < 120.17 and 30.24 < street.center_lat < 30.31
    communities = list(_main(Community, "street__code").order_by("code"))
    assert len(communities) == 8
    assert [c.code for c in communities] == [f"330106001{n:03d}" for n in range(1, 9)]
    assert {c.kind for c in communities} == {"community", "village"}
    ordinary = _main(Grid, "community__street__code").filter(kind="ordinary")
    dedicated = _main(Grid, "community__street__code").filter(kind="dedicated")
    assert 55 <= ordinary.count() <= 65
    assert 3 <= dedicated.count() <= 5
    codes = list(_main(Grid, "community__street__code").values_list("code", flat=True))
    assert len(set(codes)) == len(codes)
    assert all(re.fullmatch(r"330106001\d{6}", c) for c in codes)
    for g in _main(Grid, "community__street__code").select_related("community"):
        assert g.code.startswith(g.community.code)
        assert g.name.startswith(g.community.name) or g.kind == "dedicated"
    assert 360 <= Building.objects.count() <= 460
    assert 1300 <= Unit.objects.count() <= 1700
    assert set(Building.objects.values_list("kind", flat=True)) == {"estate", "tower", "block"}
    assert set(Unit.objects.values_list("kind", flat=True)) == {"enterprise", "shop", "organization"}
    assert not Building.objects.filter(kind="block", parent__isnull=True).exists()
    assert all(len(c) == 18 for c in Unit.objects.values_list("credit_code", flat=True))
    assert all("555" in p for p in Unit.objects.values_list("contact_phone", flat=True))
    assert revisions.current(signals.PLACES_REVISION) >= 1


def test_grids_tile_the_street_exactly(demo):
    street = shape(Street.objects.get(code=MAIN).geometry)
    grids = {g.code: g for g in _main(Grid, "community__street__code")}
    ordinary = [shape(g.geometry) for g in grids.values() if g.kind == "ordinary"]
    union = unary_union(ordinary)
    assert abs(union.area - street.area) <= 1e-9 * street.area
    assert abs(sum(p.area for p in ordinary) - street.area) <= 1e-9 * street.area
    for a, b in itertools.combinations(ordinary, 2):
        assert a.intersection(b).area == 0
    # communities are the unions of their grids
    for comm in _main(Community, "street__code"):
        mine = [
            shape(g.geometry) for g in grids.values() if g.community_id == comm.pk and g.kind == "ordinary"
        ]
        assert unary_union(mine).symmetric_difference(shape(comm.geometry)).area <= 1e-12
    # stored area and bbox agree with the geometry
    for g in grids.values():
        poly = shape(g.geometry)
        minx, miny, maxx, maxy = poly.bounds
        assert (g.min_lng, g.min_lat, g.max_lng, g.max_lat) == pytest.approx(
            (minx, miny, maxx, maxy), abs=1e-6
        )
        assert g.area_m2 > 0
    sizes = sorted(g.area_m2 for g in grids.values() if g.kind == "ordinary")
    assert sizes[0] > 250_000 and sizes[-1] < 900_000  # roughly 0.5 km² each


def test_dedicated_grids_lie_strictly_inside_their_parents(demo):
    for g in Grid.objects.filter(kind="dedicated").select_related("parent"):
        assert g.parent is not None and g.parent.kind == "ordinary"
        assert g.community_id == g.parent.community_id
        inner, outer = shape(g.geometry), shape(g.parent.geometry)
        assert outer.contains(inner) and not inner.intersects(outer.exterior)
        assert g.area_m2 < g.parent.area_m2 / 4


def test_every_building_and_unit_lies_inside_its_grid(demo):
    shapes = {g.pk: shape(g.geometry) for g in Grid.objects.all()}
    dedicated = {g.pk: g.parent_id for g in Grid.objects.filter(kind="dedicated")}
    for model in (Building, Unit):
        for obj in model.objects.all():
            p = Point(obj.lng, obj.lat)
            assert shapes[obj.grid_id].contains(p), obj
            # and not inside a 专属网格 of its own (ordinary) grid
            for ded, parent in dedicated.items():
                if parent == obj.grid_id:
                    assert not shapes[ded].contains(p), obj


def test_departments(demo):
    codes = set(Department.objects.values_list("code", flat=True))
    assert {code for code, *_ in STREET_DEPARTMENTS} <= codes
    for comm in _main(Community, "street__code"):
        dept = Department.objects.get(code=f"SQ{comm.code[-3:]}")
        assert dept.kind == "community" and dept.community_id == comm.pk
    # the categories a 街道 uses most have their default department, so 派遣 pre-selects it
    from civicgrid.cases.models import Category

    defaults = dict(Category.objects.filter(level="minor").values_list("code", "default_department__name"))
    assert defaults["S06010"] == "城管中队"  # 暴露垃圾
    assert defaults["S06027"] == "环保所"  # 油烟污染
    assert defaults["S09015"] == "市场监管所"  # 无证餐饮
    assert defaults["J91001"] == "司法所"  # 邻里纠纷
    assert defaults["J92001"] == "安监办"  # 消防安全隐患


def test_accounts_for_every_role_log_in_with_the_printed_password(demo, client):
    assert DEMO_PASSWORD in demo
    for word in ("角色", "账号", "密码", "说明"):
        assert word in demo
    # the demo Open311 key is printed and works
    assert "demo-open311-key" in demo
    from civicgrid.open311.services import authenticate

    assert authenticate("demo-open311-key") is not None
    for username, role in ROLE_ACCOUNTS.items():
        user = User.objects.get(username=username)
        assert user.role == role and user.is_active
        assert username in demo
        request = RequestFactory().post("/accounts/login/")
        assert client.login(request=request, username=username, password=DEMO_PASSWORD), username
        client.logout()
    assert set(ROLE_ACCOUNTS.values()) == set(Role.values)
    wangge = User.objects.get(username="wangge")
    shequ = User.objects.get(username="shequ")
    grids = list(wangge.grids.all())
    assert 2 <= len(grids) <= 3 and all(g.community_id == shequ.community_id for g in grids)
    assert shequ.community.code == "330106001001"
    assert User.objects.get(username="handler").department.code == "CGZD"
    # created through the services: validated and audited
    created = AuditLog.objects.filter(action="accounts.user.create").values_list("object_repr", flat=True)
    assert len(created) >= len(ROLE_ACCOUNTS)


def test_one_demo_load_audit_row(demo):
    rows = list(AuditLog.objects.filter(action="demo.load"))
    assert len(rows) == 1
    row = rows[0]
    assert row.object_type == "places.street" and row.actor_username == "system"
    assert row.after["communities"] == 8 and row.after["units"] == Unit.objects.count()


def test_running_twice_changes_nothing(demo):
    before = counts()
    audit_before = AuditLog.objects.count()
    out = run_demo()
    assert counts() == before
    assert AuditLog.objects.count() == audit_before
    assert "已存在" in out and DEMO_PASSWORD in out


def test_same_seed_same_database(db):
    """The database holds exactly the seeded plan (so two runs with one seed agree, whatever the process)."""
    run_demo("--seed", "42")
    plan = plan_street(random.Random("42:geography"))
    assert {g.code: g.geometry for g in _main(Grid, "community__street__code")} == {
        g.code: geojson(g.polygon) for g in plan.grids
    }
    buildings, units = plan_places(plan, random.Random("42:places"))
    assert sorted(Unit.objects.values_list("name", "lng", "lat")) == sorted(
        (u.name, u.lng, u.lat) for u in units
    )
    assert Building.objects.count() == len(buildings)
    assert AuditLog.objects.get(action="demo.load").after["seed"] == 42


def test_serves_unless_told_not_to(db, monkeypatch):
    from civicgrid.demo.management.commands import demo as command

    calls = []
    monkeypatch.setattr(command, "call_command", lambda name, **kw: calls.append((name, kw)))
    call_command("demo", "--no-cases", "--port", "8123", stdout=io.StringIO())
    assert calls == [("serve", {"port": 8123})]
    calls.clear()
    call_command("demo", "--no-cases", "--no-serve", stdout=io.StringIO())
    assert calls == []
