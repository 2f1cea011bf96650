from __future__ import annotations

import pytest

from civicgrid.accounts.roles import Role
from tests.factories import CommunityFactory, StreetFactory
from tests.places.helpers import COMMUNITY_CODE, STREET_CODE, cell


@pytest.fixture
def street(db):
    return StreetFactory(code=STREET_CODE)


@pytest.fixture
def community(street):
    """Community 330106001001 without an outline (no gap check)."""
    return CommunityFactory(street=street, code=COMMUNITY_CODE, name="示范社区")


@pytest.fixture
def outlined_community(street):
    """Community 330106001001 whose outline is cells (0..2, 0..2): its ordinary grids must cover it."""
    from shapely.geometry import mapping

    return CommunityFactory(
        street=street, code=COMMUNITY_CODE, name="示范社区", geometry=mapping(cell(0, 0, 2, 2))
    )


@pytest.fixture
def admin(make_user):
    return make_user(Role.SYSTEM_ADMIN, username="sysadmin")
