"""Each role's menu shows the screens it may use, and every menu link opens."""

from __future__ import annotations

import re

import pytest

from civicgrid.accounts.roles import Role
from tests.factories import GridFactory, UserFactory

pytestmark = pytest.mark.django_db

EXPECTED = {
    Role.DISPATCHER: {
        "nav-inbox",
        "nav-cases",
        "nav-new-case",
        "nav-desk",
        "nav-import",
        "nav-placements",
        "nav-hazards",
        "nav-gridwork",
        "nav-registers",
        "nav-bell",
    },
    Role.SHIFT_LEADER: {
        "nav-inbox",
        "nav-cases",
        "nav-new-case",
        "nav-desk",
        "nav-import",
        "nav-placements",
        "nav-hazards",
        "nav-gridwork",
        "nav-registers",
        "nav-bell",
    },
    Role.GRID_WORKER: {
        "nav-inbox",
        "nav-cases",
        "nav-new-case",
        "nav-field",
        "nav-hazards",
        "nav-gridwork",
        "nav-registers",
        "nav-bell",
    },
    Role.DEPT_HANDLER: {"nav-inbox", "nav-cases", "nav-hazards", "nav-bell"},
    Role.AUDIT_ADMIN: set(),
}


@pytest.mark.parametrize("role", list(EXPECTED))
def test_menu_per_role_and_every_link_opens(client, role):
    kw = {"grids": [GridFactory()]} if role == Role.GRID_WORKER else {}
    client.force_login(UserFactory(role=role, **kw))
    html = (
        client.get("/").content.decode()
        if role != Role.AUDIT_ADMIN
        else client.get("/audit/").content.decode()
    )
    found = set(re.findall(r'data-testid="(nav-[a-z-]+)"', html))
    assert found == EXPECTED[role]
    for href in re.findall(r'<a class="nav-link[^"]*" href="([^"]+)"', html):
        assert client.get(href).status_code == 200, href
