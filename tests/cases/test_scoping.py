"""Who sees which case (row-level scope); out of scope is 404 (NotFound), never 403."""

from __future__ import annotations

import pytest

from civicgrid.accounts.roles import Role
from civicgrid.cases import selectors, services
from civicgrid.core.errors import NotFound
from tests.cases.factories import photo
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cases(world):
    """in_grid: in world.grid (dispatched to dept); other: in another community, dispatched to dept2;
    by_worker: filed by the grid worker in a grid of another community they have since handed over; reassigned: dept → dept2."""
    in_grid = world.to_state("dispatched")
    other = world.report(grid=world.other_grid)
    other = world.move(other, "accept")
    other = world.move(other, "dispatch", department=world.dept2)
    # filed while the other grid was still the worker's; they keep seeing their own report after the handover
    world.grid_worker.grids.add(world.other_grid)
    by_worker = services.create_case(
        actor=world.grid_worker, source="grid_patrol", description="路过发现", grid=world.other_grid
    )
    world.grid_worker.grids.remove(world.other_grid)
    del world.grid_worker._cg_grid_ids
    reassigned = world.to_state("dispatched")
    reassigned = world.move(reassigned, "reassign", department=world.dept2)
    in_grid2 = world.report(grid=world.grid2)
    return {
        "in_grid": in_grid,
        "other": other,
        "by_worker": by_worker,
        "reassigned": reassigned,
        "in_grid2": in_grid2,
    }


EXPECTED_SCOPE = {
    "dispatcher": {"in_grid", "other", "by_worker", "reassigned", "in_grid2"},
    "shift_leader": {"in_grid", "other", "by_worker", "reassigned", "in_grid2"},
    "leader": {"in_grid", "other", "by_worker", "reassigned", "in_grid2"},
    "system_admin": {"in_grid", "other", "by_worker", "reassigned", "in_grid2"},
    "audit_admin": set(),
    "handler": {"in_grid"},  # current assignments of 城管中队 (it lost "reassigned" at the 改派)
    "handler2": {"other", "reassigned"},
    "grid_worker": {"in_grid", "by_worker", "reassigned"},  # own grid + own reports (not grid2)
    "other_worker": {"other", "by_worker"},
    "community_staff": {"in_grid", "reassigned", "in_grid2"},
    "other_staff": {"other", "by_worker"},
}

USERS = {
    "dispatcher": "dispatcher",
    "shift_leader": "shift_leader",
    "leader": "leader",
    "system_admin": "sysadmin",
    "audit_admin": "auditor",
    "handler": "handler",
    "handler2": "handler2",
    "grid_worker": "grid_worker",
    "other_worker": "other_worker",
    "community_staff": "community_staff",
    "other_staff": "other_staff",
}


@pytest.mark.parametrize("who", sorted(EXPECTED_SCOPE))
def test_scope_matrix(world, cases, who):
    user = getattr(world, USERS[who])
    visible = set(selectors.visible_cases(user=user).values_list("pk", flat=True))
    expected = {cases[name].pk for name in EXPECTED_SCOPE[who]}
    assert visible == expected
    for name, case in cases.items():
        if name in EXPECTED_SCOPE[who]:
            assert selectors.get_case(user=user, pk=case.pk).pk == case.pk
            assert len(selectors.timeline(user=user, case=case)) >= 1
        else:
            with pytest.raises(NotFound):
                selectors.get_case(user=user, pk=case.pk)
            with pytest.raises(NotFound):
                selectors.timeline(user=user, case=case)


def test_dedicated_grid_inside_own_grid_is_visible(world):
    from tests.factories import GridFactory

    dedicated = GridFactory(col=0, community=world.community, parent=world.grid, kind="dedicated")
    c = world.report(grid=dedicated)
    assert selectors.get_case(user=world.grid_worker, pk=c.pk) == c


def test_inactive_or_anonymous_sees_nothing(world, cases):
    from django.contrib.auth.models import AnonymousUser

    ghost = UserFactory(role=Role.DISPATCHER, is_active=False)
    assert not selectors.visible_cases(user=ghost).exists()
    assert not selectors.visible_cases(user=AnonymousUser()).exists()


def test_inbox_per_role(world, django_capture_on_commit_callbacks):
    reported = world.report()
    accepted = world.to_state("accepted")
    dispatched = world.to_state("dispatched")
    handled = world.to_state("handled")
    verified = world.to_state("verified")
    ext = world.to_state("handling")
    ext = world.move(
        ext, "request_extension", actor=world.handler, amount=1, unit="natural_hours", reason="等待"
    )
    ids = lambda qs: {c.pk for c in qs}  # noqa: E731
    assert ids(selectors.inbox(user=world.dispatcher)) == {reported.pk, accepted.pk, verified.pk}
    assert ext.pk in ids(selectors.inbox(user=world.shift_leader))
    assert ids(selectors.inbox(user=world.handler)) == {dispatched.pk, ext.pk}
    assert ids(selectors.inbox(user=world.handler2)) == set()
    assert ids(selectors.inbox(user=world.grid_worker)) == {handled.pk}
    assert ids(selectors.inbox(user=world.community_staff)) == {handled.pk}
    assert ids(selectors.inbox(user=world.other_staff)) == set()
    assert ids(selectors.inbox(user=world.auditor)) == set()
    assert [e.case_id for e in selectors.pending_extensions(user=world.shift_leader)] == [ext.pk]


def test_filters(world):
    a = world.to_state("dispatched", description="井盖缺失很危险")
    b = world.report(grid=world.grid2, source="resident")
    c = world.to_state("handled")
    f = lambda **kw: {x.pk for x in selectors.filter_cases(user=world.dispatcher, **kw)}  # noqa: E731
    assert f(status="dispatched") == {a.pk}
    assert f(status="dispatched,handled") == {a.pk, c.pk}
    assert f(grid=world.grid2.pk) == {b.pk}
    assert f(department=world.dept.pk) == {a.pk, c.pk}
    assert f(source="resident") == {b.pk}
    assert f(text="井盖") == {a.pk}
    assert f(text=a.number) == {a.pk}
    assert f(category=world.category.parent.code) == {a.pk, b.pk, c.pk}
    assert f(category=str(world.category.pk)) == {a.pk, b.pk, c.pk}
    assert f(light="green") == {a.pk, c.pk}
    with pytest.raises(Exception) as exc:
        f(status="nonsense")
    assert exc.value.field == "status"


def test_phone_is_kept_for_street_roles_only(world):
    """The service stores the phone; the API masks it for non-street roles (see test_api)."""
    c = world.report(reporter_phone="13812345678")
    assert c.reporter_phone == "13812345678"
    c = world.move(c, "accept")
    c = world.move(c, "dispatch", department=world.dept)
    c = world.move(c, "sign", actor=world.handler)
    c = world.move(c, "finish", actor=world.handler, note="ok", attachments=[photo()])
    assert selectors.case_attachments(user=world.handler, case=c).count() == 1
    assert selectors.case_attachments(user=world.auditor, case=c).count() == 0
