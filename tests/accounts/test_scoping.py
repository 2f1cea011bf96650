"""Jurisdiction: each role × each object kind sees exactly what it should; out of scope answers 404."""

from __future__ import annotations

import pytest

from civicgrid.accounts import selectors as account_selectors
from civicgrid.accounts.roles import Role
from civicgrid.core.errors import NotFound
from civicgrid.core.models import AuditLog
from civicgrid.places import selectors as place_selectors
from civicgrid.places.models import Building, Community, Grid, Street, Unit
from tests.factories import (
    BuildingFactory,
    CommunityFactory,
    DepartmentFactory,
    GridFactory,
    UnitFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    """Two communities; A has grids a1 (with a dedicated grid inside) and a2; B has grid b1."""
    ca, cb = CommunityFactory(name="东社区"), CommunityFactory(name="西社区")
    a1, a2, b1 = GridFactory(community=ca), GridFactory(community=ca), GridFactory(community=cb)
    dedicated = GridFactory(community=ca, parent=a1, kind="dedicated")
    bld = {g: BuildingFactory(grid=g) for g in (a1, a2, b1)}
    unit = {g: UnitFactory(grid=g, building=bld[g]) for g in (a1, a2, b1)}
    dept = DepartmentFactory(name="城管中队", code="CGZD")
    users = {
        Role.SYSTEM_ADMIN: UserFactory(role=Role.SYSTEM_ADMIN),
        Role.AUDIT_ADMIN: UserFactory(role=Role.AUDIT_ADMIN),
        Role.DISPATCHER: UserFactory(role=Role.DISPATCHER),
        Role.SHIFT_LEADER: UserFactory(role=Role.SHIFT_LEADER),
        Role.DEPT_HANDLER: UserFactory(role=Role.DEPT_HANDLER, department=dept),
        Role.COMMUNITY_STAFF: UserFactory(role=Role.COMMUNITY_STAFF, community=ca),
        Role.GRID_WORKER: UserFactory(role=Role.GRID_WORKER, grids=[a1]),
        Role.LEADER: UserFactory(role=Role.LEADER),
    }
    return dict(
        ca=ca, cb=cb, a1=a1, a2=a2, b1=b1, dedicated=dedicated, bld=bld, unit=unit, dept=dept, users=users
    )


ALL, NONE = "all", "none"
# role -> which grids it sees (names from the world fixture)
GRID_MATRIX = {
    Role.SYSTEM_ADMIN: ALL,
    Role.AUDIT_ADMIN: NONE,
    Role.DISPATCHER: ALL,
    Role.SHIFT_LEADER: ALL,
    Role.DEPT_HANDLER: ALL,
    Role.COMMUNITY_STAFF: {"a1", "a2", "dedicated"},
    Role.GRID_WORKER: {"a1", "dedicated"},
    Role.LEADER: ALL,
}


def _expected(world, spec):
    names = {"a1", "a2", "b1", "dedicated"}
    chosen = names if spec == ALL else set() if spec == NONE else spec
    return {world[n].pk for n in chosen}


@pytest.mark.parametrize("role", list(Role))
def test_grids(world, role):
    user = world["users"][role]
    seen = set(Grid.objects.restrict(user, "view").values_list("pk", flat=True))
    assert seen == _expected(world, GRID_MATRIX[role])


@pytest.mark.parametrize("role", list(Role))
def test_buildings_and_units_follow_grids(world, role):
    user = world["users"][role]
    grids = _expected(world, GRID_MATRIX[role])
    exp_b = {b.pk for g, b in world["bld"].items() if g.pk in grids}
    exp_u = {u.pk for g, u in world["unit"].items() if g.pk in grids}
    assert set(Building.objects.restrict(user, "view").values_list("pk", flat=True)) == exp_b
    assert set(Unit.objects.restrict(user, "view").values_list("pk", flat=True)) == exp_u


@pytest.mark.parametrize("role", list(Role))
def test_communities(world, role):
    user = world["users"][role]
    seen = set(Community.objects.restrict(user, "view").values_list("pk", flat=True))
    if role == Role.AUDIT_ADMIN:
        assert seen == set()
    elif role in (Role.COMMUNITY_STAFF, Role.GRID_WORKER):
        assert seen == {world["ca"].pk}
    else:
        assert seen == {world["ca"].pk, world["cb"].pk}


@pytest.mark.parametrize("role", list(Role))
def test_streets(world, role):
    user = world["users"][role]
    count = Street.objects.restrict(user, "view").count()
    assert count == (0 if role == Role.AUDIT_ADMIN else 1)


@pytest.mark.parametrize("role", list(Role))
def test_only_system_admin_may_change_geography(world, role):
    user = world["users"][role]
    changeable = Grid.objects.restrict(user, "change").count()
    assert changeable == (4 if role == Role.SYSTEM_ADMIN else 0)


@pytest.mark.parametrize("role", list(Role))
def test_audit_log_only_for_the_auditor(world, role):
    from django.db import transaction

    from civicgrid.core import audit

    with transaction.atomic():
        audit.record(actor=None, action="test.write", object_type="x", object_id=1)
    seen = AuditLog.objects.restrict(world["users"][role], "view").count()
    if role == Role.AUDIT_ADMIN:
        assert seen >= 1
    else:
        assert seen == 0


@pytest.mark.parametrize("role", list(Role))
def test_users(world, role):
    users = world["users"]
    me = users[role]
    seen = set(account_selectors.visible_users(user=me).values_list("pk", flat=True))
    everyone = {u.pk for u in users.values()}
    if role in (Role.SYSTEM_ADMIN, Role.DISPATCHER, Role.SHIFT_LEADER, Role.LEADER):
        assert everyone <= seen
    elif role == Role.DEPT_HANDLER:
        assert seen == {me.pk}  # the only member of 城管中队 here
    elif role == Role.COMMUNITY_STAFF:
        # themself and the grid worker of a grid in their community
        assert seen == {me.pk, users[Role.GRID_WORKER].pk}
    else:
        assert seen == {me.pk}


@pytest.mark.parametrize("role", list(Role))
def test_departments(world, role):
    seen = account_selectors.visible_departments(user=world["users"][role]).count()
    assert seen == (0 if role == Role.AUDIT_ADMIN else 1)


def test_inactive_or_anonymous_users_see_nothing(world):
    from django.contrib.auth.models import AnonymousUser

    assert Grid.objects.restrict(AnonymousUser()).count() == 0
    dispatcher = world["users"][Role.DISPATCHER]
    dispatcher.is_active = False
    assert Grid.objects.restrict(dispatcher).count() == 0


def test_out_of_scope_grid_is_not_found_not_forbidden(world):
    worker = world["users"][Role.GRID_WORKER]
    assert place_selectors.get_grid(user=worker, pk=world["a1"].pk) == world["a1"]
    with pytest.raises(NotFound):
        place_selectors.get_grid(user=worker, pk=world["b1"].pk)


@pytest.mark.parametrize(
    "role, grid, status",
    [
        (Role.GRID_WORKER, "a1", 200),
        (Role.GRID_WORKER, "b1", 404),
        (Role.COMMUNITY_STAFF, "a2", 200),
        (Role.COMMUNITY_STAFF, "b1", 404),
        (Role.AUDIT_ADMIN, "a1", 404),
        (Role.DEPT_HANDLER, "b1", 200),
    ],
)
def test_api_answers_404_out_of_scope(world, api_client, role, grid, status):
    api_client.login(world["users"][role])
    resp = api_client.get(f"/places/grids/{world[grid].pk}")
    assert resp.status_code == status
    if status == 404:
        body = resp.json()
        assert body["code"] == "not_found"
        assert world[grid].code not in resp.content.decode()


def test_api_grid_list_is_scoped(world, api_client):
    api_client.login(world["users"][Role.GRID_WORKER])
    codes = {g["code"] for g in api_client.get("/places/grids").json()}
    assert codes == {world["a1"].code, world["dedicated"].code}


def test_grids_geojson_is_scoped(world, client):
    client.force_login(world["users"][Role.COMMUNITY_STAFF])
    fc = client.get("/places/grids.geojson").json()
    assert {f["properties"]["code"] for f in fc["features"]} == {
        world["a1"].code,
        world["a2"].code,
        world["dedicated"].code,
    }


def test_audit_page_only_for_auditor(world, client):
    client.force_login(world["users"][Role.SYSTEM_ADMIN])
    assert client.get("/audit/").status_code == 404
    client.force_login(world["users"][Role.AUDIT_ADMIN])
    assert client.get("/audit/").status_code == 200
