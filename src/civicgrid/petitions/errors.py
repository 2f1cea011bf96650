"""Error codes of the 信访 ledger (beside :class:`civicgrid.cases.errors.CaseErrorCode`)."""

from __future__ import annotations

from enum import StrEnum


class PetitionErrorCode(StrEnum):
    NOT_DESK = "petition_not_desk"
    SUMMARY_REQUIRED = "petition_summary_required"
    PETITIONER_REQUIRED = "petition_petitioner_required"
    HEADCOUNT_INVALID = "petition_headcount_invalid"
    LEVEL_REQUIRED = "petition_level_required"
    LEAD_INVALID = "petition_lead_invalid"
    EARLIER_INVALID = "petition_earlier_invalid"
    EXTENSION_INVALID = "petition_extension_invalid"
    ASSIGNEE_INVALID = "petition_assignee_invalid"
    NOT_BACKLOG = "petition_not_backlog"
    RECEPTION_INVALID = "petition_reception_invalid"
