"""Error codes of 巡访打卡 (beside :class:`civicgrid.cases.errors.CaseErrorCode`)."""

from __future__ import annotations

from enum import StrEnum


class GridworkErrorCode(StrEnum):
    NOT_GRID_WORKER = "gridwork_not_grid_worker"
    NO_GRID = "gridwork_no_grid"
    PATROL_NOT_FOUND = "gridwork_patrol_not_found"
    PATROL_CLOSED = "gridwork_patrol_closed"
    POINT_NOT_FOUND = "gridwork_point_not_found"
    CLIENT_ID_INVALID = "gridwork_client_id_invalid"
    TIME_INVALID = "gridwork_time_invalid"
    POSITION_INVALID = "gridwork_position_invalid"
    SCORE_INVALID = "gridwork_score_invalid"
    FINDINGS_REQUIRED = "gridwork_findings_required"
    TOO_MANY = "gridwork_too_many"
