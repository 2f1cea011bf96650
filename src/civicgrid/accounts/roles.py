"""The roles, re-exported from :mod:`civicgrid.core.roles` (they live in core so every layer can use them)."""

from civicgrid.core.roles import (  # noqa: F401
    BUSINESS_ROLES,
    ROLE_CAPABILITIES,
    STREET_ROLES,
    Capability,
    Role,
    has_capability,
)
