"""Reads of the audit log, scoped to the user: the 审计管理员 only (三权分立: the 系统管理员 cannot read or
erase their own trail). Nobody may change it (``restrict(user, "change")`` is empty for everyone)."""

from __future__ import annotations

from django.db.models import QuerySet

from civicgrid.core.errors import NotFound
from civicgrid.core.models import AuditLog, ImportRun
from civicgrid.core.roles import Capability, has_capability
from civicgrid.core.scoping import register


@register(AuditLog)
def _audit_scope(qs: QuerySet, user, action: str) -> QuerySet:
    if action == "view" and has_capability(user, Capability.AUDIT_READ):
        return qs
    return qs.none()


@register(ImportRun)
def _import_run_scope(qs: QuerySet, user, action: str) -> QuerySet:
    """Import runs of :mod:`civicgrid.core.importer`: those of the specs ``user`` may run (each spec's
    ``can_import``). The accounts app narrows this to the user's tier."""
    from civicgrid.core.importer import SPECS

    names = [s.name for s in SPECS.values() if s.handler is None and s.can_import(user)]
    return qs.filter(spec__in=names)


def audit_log(
    *, user, object_type: str | None = None, object_id: str | None = None, actor: str | None = None
) -> QuerySet[AuditLog]:
    qs = AuditLog.objects.restrict(user, "view")
    if object_type:
        qs = qs.filter(object_type=object_type)
    if object_id:
        qs = qs.filter(object_id=str(object_id))
    if actor:
        qs = qs.filter(actor_username=actor)
    return qs


def get_audit_entry(*, user, pk: int) -> AuditLog:
    try:
        return audit_log(user=user).get(pk=pk)
    except AuditLog.DoesNotExist:
        raise NotFound("审计记录不存在或无权查看")
