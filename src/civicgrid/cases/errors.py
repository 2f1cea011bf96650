"""Machine-readable error codes of the cases domain (``{"code": ..., "detail": ..., "field": ...}`` in the API).

Every :class:`~civicgrid.core.errors.DomainError` the cases services, workflow and selectors raise carries one
of these codes, so that a 12345 platform or an Open311 client can act on it without reading the Chinese
``detail``. The values are a public contract: never rename one; add new ones. The table for integrators is in
``docs/api-errors.md``; ``tests/cases/test_error_codes.py`` checks the two agree.
"""

from __future__ import annotations

from enum import StrEnum


class CaseErrorCode(StrEnum):
    # --- who: 401/403 -------------------------------------------------------------------------------------
    LOGIN_REQUIRED = "login_required"  # no (active) user
    ROLE_NOT_ALLOWED = "forbidden"  # the role may never do this (create, this move, upload, export)
    OUT_OF_JURISDICTION = "out_of_jurisdiction"  # not your department's / grid's / community's case or place
    CATEGORY_NOT_FILEABLE = "category_not_fileable"  # a 网格员 may not 立案 this category himself
    # --- which: 404 ---------------------------------------------------------------------------------------
    NOT_FOUND = "not_found"  # the case (event, attachment) does not exist or is not visible to you
    # --- when: 409 ----------------------------------------------------------------------------------------
    ILLEGAL_TRANSITION = "illegal_transition"  # the case's state does not allow the move
    UNKNOWN_MOVE = "unknown_move"  # no such move
    STALE_VERSION = "stale_version"  # someone changed the case since you read it: reload, retry
    EXTENSION_PENDING = "extension_pending"  # a 延期申请 waits for the 值班长 already
    NO_PENDING_EXTENSION = "no_pending_extension"  # approve/deny with nothing to decide
    # --- what: 422 (``field`` names the input) -------------------------------------------------------------
    FIELD_REQUIRED = "field_required"  # a required input is missing or blank
    INVALID_INPUT = "validation_failed"  # an input is malformed or out of range
    INVALID_VERSION = "invalid_version"  # ``version`` is not an integer
    INVALID_LOCATION = "invalid_location"  # lng/lat out of range or only one given
    NOT_IN_ANY_GRID = "not_in_any_grid"  # the point lies in no grid of the 街道
    CATEGORY_DISABLED = "category_disabled"  # the category is switched off (or not usable to 立案)
    CATEGORY_NOT_MINOR = "category_not_minor"  # a 大类/中类 was chosen: pick a 小类
    CANNOT_DISPATCH = "cannot_dispatch"  # no / unknown / inactive / the same department
    INVALID_LIMIT = "invalid_limit"  # 办理时限 or 延期 amount/unit not acceptable
    EXTENSION_MISMATCH = "extension_mismatch"  # the extension no longer fits the case's current limit
    REDO_NOT_ALLOWED = "redo_not_allowed"  # 重办 only after a 不满意 rating
    MERGE_TARGET_INVALID = "merge_target_invalid"  # no such case, itself, or already closed
    ATTACHMENT_INVALID = "attachment_invalid"  # empty, too large, not an image, another case's, not yours
    INVALID_FILTER = "invalid_filter"  # unknown state / light / inbox tab / export filter
    IDEMPOTENCY_KEY_INVALID = "invalid_idempotency_key"  # longer than 100 characters or not plain text
    NUMBERS_EXHAUSTED = "case_numbers_exhausted"  # 99999 cases numbered on one day
    LIMIT_OUT_OF_BOUNDS = (
        "limit_out_of_bounds"  # a stage limit chosen at a move is outside the procedure's bounds
    )
    DETAIL_REQUIRED = "detail_required"  # a field of the procedure's detail record (``field``) is missing
    UNKNOWN_PROCEDURE = "unknown_procedure"  # no such 办理程序
    IMPORT_ROW_INVALID = (
        "import_row_invalid"  # a row of a closed-case import (``details``: index, source_ref)
    )


# the HTTP status each code is answered with (for the docs and the tests; the exception class decides)
STATUS = {
    CaseErrorCode.LOGIN_REQUIRED: 403,
    CaseErrorCode.ROLE_NOT_ALLOWED: 403,
    CaseErrorCode.OUT_OF_JURISDICTION: 403,
    CaseErrorCode.CATEGORY_NOT_FILEABLE: 403,
    CaseErrorCode.NOT_FOUND: 404,
    CaseErrorCode.ILLEGAL_TRANSITION: 409,
    CaseErrorCode.UNKNOWN_MOVE: 409,
    CaseErrorCode.STALE_VERSION: 409,
    CaseErrorCode.EXTENSION_PENDING: 409,
    CaseErrorCode.NO_PENDING_EXTENSION: 409,
}
