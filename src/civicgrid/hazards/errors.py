"""Error codes of the 安全隐患 ledger (beside :class:`civicgrid.cases.errors.CaseErrorCode`)."""

from __future__ import annotations

from enum import StrEnum


class HazardErrorCode(StrEnum):
    TARGET_REQUIRED = "hazard_target_required"
    TARGET_NOT_FOUND = "hazard_target_not_found"
    CHECKLIST_ITEM_UNKNOWN = "hazard_checklist_item_unknown"
    LEVEL_INVALID = "hazard_level_invalid"
    DESCRIPTION_REQUIRED = "hazard_description_required"
    NO_STREET = "hazard_no_street"
