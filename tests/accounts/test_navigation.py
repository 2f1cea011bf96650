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
        "nav-activities",
        "nav-disputes",
        "nav-enforcement",
        "nav-opinion",
        "nav-goals",
        "nav-command",
        "nav-supervision",
        "nav-reports",
        "nav-data-import",  # the generic import wizard: the 矛盾纠纷/安全隐患/行政处罚/舆情台账 imports
        "nav-evaluation",
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
        "nav-activities",
        "nav-disputes",
        "nav-enforcement",
        "nav-opinion",
        "nav-goals",
        "nav-command",
        "nav-supervision",
        "nav-reports",
        "nav-data-import",
        "nav-evaluation",
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
        "nav-activities",
        "nav-disputes",
        "nav-evaluation",
        "nav-bell",
    },
    Role.DEPT_HANDLER: {
        "nav-inbox",
        "nav-cases",
        "nav-hazards",
        "nav-enforcement",
        "nav-opinion",
        "nav-evaluation",
        "nav-supervision",
        "nav-bell",
    },
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


@pytest.mark.parametrize("who", ["desk", "leader", "dispatcher"])
def test_petitions_menu_only_for_the_desk_and_leaders(client, who):
    from civicgrid.petitions.models import DeskMember

    user = UserFactory(role=Role.LEADER if who == "leader" else Role.DISPATCHER)
    if who == "desk":
        DeskMember.objects.create(user=user)
    client.force_login(user)
    html = client.get("/").content.decode()
    assert ('data-testid="nav-petitions"' in html) is (who != "dispatcher")
    assert client.get("/petitions/").status_code == (403 if who == "dispatcher" else 200)
