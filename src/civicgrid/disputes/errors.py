"""Error codes of the 矛盾纠纷 ledger (beside :class:`civicgrid.cases.errors.CaseErrorCode`)."""

from __future__ import annotations

from enum import StrEnum


class DisputeErrorCode(StrEnum):
    TYPE_REQUIRED = "dispute_type_required"
    ORG_REQUIRED = "dispute_org_required"
    SOURCE_INVALID = "dispute_source_invalid"
    POLICE_REF_REQUIRED = "dispute_police_ref_required"
    LINKED_CASE_REQUIRED = "dispute_linked_case_required"
    COURT_REQUIRED = "dispute_court_required"
    PARTY_REQUIRED = "dispute_party_required"
    PARTY_INVALID = "dispute_party_invalid"
    PLACE_REQUIRED = "dispute_place_required"
    SESSION_REQUIRED = "dispute_session_required"
    SESSION_INVALID = "dispute_session_invalid"
    NOT_MEDIATOR = "dispute_not_mediator"
    NO_AGREEMENT = "dispute_no_agreement"
