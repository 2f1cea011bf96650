"""What each role may do is one table (civicgrid.core.roles): views, services and menus ask it by name."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from civicgrid.core import roles
from civicgrid.core.roles import Capability as C
from civicgrid.core.roles import Role, has_capability, roles_with
from tests.factories import GridFactory, UserFactory

D, SL, H, G, CS, L, SA, AA = (
    Role.DISPATCHER,
    Role.SHIFT_LEADER,
    Role.DEPT_HANDLER,
    Role.GRID_WORKER,
    Role.COMMUNITY_STAFF,
    Role.LEADER,
    Role.SYSTEM_ADMIN,
    Role.AUDIT_ADMIN,
)

WHO_MAY = {
    C.BUSINESS_VIEW: {D, SL, H, G, CS, L, SA},  # everyone but the 审计管理员 (三权分立)
    C.STREET_WIDE_VIEW: {D, SL, L, SA},
    C.CASE_CREATE: {D, SL, G, CS, L},
    C.CASE_DISPATCH: {D, SL},
    C.CASE_SUPERVISE: {SL, L},
    C.CASE_HANDLE: {H},
    C.CASE_CHANGE_ANY: {D, SL},
    C.CASE_FOLLOWUP: {D, SL},
    C.ATTACHMENT_UPLOAD: {D, SL, H, G, CS, L},
    C.FIELD_PATROL: {G},
    C.DESK_INTAKE: {D, SL},
    C.IMPORT_HOTLINE: {D, SL, SA},
    C.EXPORT_CASES: {D, SL, H, G, CS, L, SA},
    C.SEE_FULL_PHONE: {D, SL, L, SA},
    C.DISPUTE_MEDIATE: {D, SL},  # 矛盾纠纷: parties in full, 协议书
    C.PERSON_FULL_VIEW: {L},  # the registers: full ID number and phone, each view logged
    C.AUDIT_READ: {AA},
    C.SYSTEM_CONFIGURE: {SA},
}


@pytest.mark.parametrize("cap", list(C))
def test_the_table_of_roles_per_capability(cap):
    assert roles_with(cap) == WHO_MAY[cap]


def test_every_role_is_in_the_table_and_the_audit_admin_only_reads_the_audit_log():
    assert set(roles.ROLE_CAPABILITIES) == set(Role)
    assert roles.capabilities(AA) == {C.AUDIT_READ}
    assert C.AUDIT_READ not in roles.capabilities(SA)  # the 系统管理员 cannot read their own trail


@pytest.mark.django_db
def test_inactive_and_anonymous_users_may_do_nothing():
    ghost = UserFactory(role=Role.DISPATCHER, is_active=False)
    assert not any(has_capability(ghost, cap) for cap in C)
    assert not any(has_capability(AnonymousUser(), cap) for cap in C)
    assert not has_capability(None, C.CASE_CREATE)
    assert has_capability(UserFactory(role=Role.DISPATCHER), C.CASE_DISPATCH)


@pytest.mark.django_db
def test_menu_and_page_follow_the_table(client, monkeypatch):
    """Take 上报 away from the 网格员 in the table: the menu entry and the page go with it."""
    worker = UserFactory(role=Role.GRID_WORKER, grids=[GridFactory()])
    client.force_login(worker)
    page = client.get("/cases/").content.decode()
    assert 'data-testid="nav-new-case"' in page and client.get("/cases/new/").status_code == 200

    monkeypatch.setitem(roles.ROLE_CAPABILITIES, G, roles.ROLE_CAPABILITIES[G] - {C.CASE_CREATE})
    page = client.get("/cases/").content.decode()
    assert 'data-testid="nav-new-case"' not in page
    assert client.get("/cases/new/").status_code == 403
