"""Error codes of the 综合执法 ledger (beside :class:`civicgrid.cases.errors.CaseErrorCode`)."""

from __future__ import annotations

from enum import StrEnum


class EnforcementErrorCode(StrEnum):
    PARTY_REQUIRED = "enforcement_party_required"
    TYPE_REQUIRED = "enforcement_type_required"
    DEPARTMENT_INVALID = "enforcement_department_invalid"
    DISCOVERED_INVALID = "enforcement_discovered_invalid"
    SOURCE_CASE_NOT_FOUND = "enforcement_source_case_not_found"
    NO_STREET = "enforcement_no_street"
