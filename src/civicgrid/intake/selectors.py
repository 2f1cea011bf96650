"""Reads for intake, scoped: imports are the dispatch desk's work (派遣员, 值班长) and the 系统管理员's.

They see every saved column mapping (shared configuration), and every import job and placement task of their tier (imports are shared desk work): a
街道's desk those of its own 街道 (made by its accounts / about its cases), the 区 level those of all its 街道;
every other role sees none (fail closed).
"""

from __future__ import annotations

from django.db.models import QuerySet

from civicgrid.core.errors import NotFound
from civicgrid.core.roles import Capability, has_capability, roles_with
from civicgrid.core.scoping import register
from civicgrid.intake.models import ImportJob, ImportMapping, PlacementStatus, PlacementTask

IMPORT_ROLES = roles_with(Capability.IMPORT_HOTLINE)


def can_import(user) -> bool:
    return has_capability(user, Capability.IMPORT_HOTLINE)


def _desk_scope(qs: QuerySet, user, action: str) -> QuerySet:
    if not can_import(user):
        return qs.none()
    from civicgrid.accounts.selectors import tier_rows_q

    if qs.model is ImportMapping:
        return qs  # column mappings (which column is which field) are shared configuration, not business rows
    if qs.model is PlacementTask:
        from civicgrid.cases.models import Case

        return qs.filter(case__in=Case.objects.restrict(user, "view"))
    from civicgrid.accounts.models import User

    q = tier_rows_q(user, district_level_rows=False)
    return qs if q is None else qs.filter(created_by__in=User.objects.filter(q))


register(ImportJob)(_desk_scope)
register(ImportMapping)(_desk_scope)
register(PlacementTask)(_desk_scope)


def visible_jobs(*, user) -> QuerySet[ImportJob]:
    return ImportJob.objects.restrict(user, "view").select_related("created_by")


def get_job(*, user, pk: int) -> ImportJob:
    try:
        return visible_jobs(user=user).get(pk=pk)
    except (ImportJob.DoesNotExist, ValueError, TypeError):
        raise NotFound("导入任务不存在或无权查看")


def mappings(*, user, source: str) -> QuerySet[ImportMapping]:
    return ImportMapping.objects.restrict(user, "view").filter(source=source)


def get_mapping(*, user, pk: int) -> ImportMapping:
    try:
        return ImportMapping.objects.restrict(user, "view").get(pk=pk)
    except (ImportMapping.DoesNotExist, ValueError, TypeError):
        raise NotFound("字段对应方案不存在或无权查看")


def open_placements(*, user) -> QuerySet[PlacementTask]:
    return (
        PlacementTask.objects.restrict(user, "view")
        .filter(status=PlacementStatus.OPEN)
        .select_related("case", "job")
        .order_by("created_at", "id")
    )


def get_placement(*, user, pk: int) -> PlacementTask:
    try:
        return PlacementTask.objects.restrict(user, "view").select_related("case").get(pk=pk)
    except (PlacementTask.DoesNotExist, ValueError, TypeError):
        raise NotFound("待定位工单不存在或无权查看")
