from __future__ import annotations

import pytest


@pytest.fixture
def sysadmin(db):
    from tests.factories import UserFactory

    return UserFactory(role="system_admin")


@pytest.fixture
def staff_sysadmin(db):
    """A system admin as accounts.services creates one (is_staff, not a superuser)."""
    from tests.factories import UserFactory

    return UserFactory(role="system_admin", is_staff=True)
