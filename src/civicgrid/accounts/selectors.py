"""Reads of accounts, departments and the audit log, scoped to the user.

Everything is first narrowed to the user's tier (``places.selectors.tier_street_ids``): a 街道 account sees the
departments and people of its 街道; a 区-level account those of every 街道 of its 区 plus the 区-level ones.

- Departments: every business role sees the list of its tier (to dispatch, to know who handles a case); a 街道
  also sees its 区's 区-level departments.
- Users: 街道 roles see all (of the tier); a department handler their department; 社区 staff their community's staff and the
  grid workers of its grids; a grid worker only themself. The 审计管理员 sees only themself.
- Audit log: see :mod:`civicgrid.core.selectors` (re-exported here).
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from civicgrid.accounts.models import Department, User
from civicgrid.accounts.roles import Role
from civicgrid.core import selectors as core_selectors
from civicgrid.core.errors import NotFound
from civicgrid.core.models import AuditLog, ImportRun
from civicgrid.core.roles import Capability, has_capability
from civicgrid.core.scoping import register
from civicgrid.core.selectors import audit_log, get_audit_entry  # noqa: F401  (re-exported)
from civicgrid.places.selectors import tier_q


def tier_rows_q(user, *, district_level_rows: bool, prefix: str = "") -> Q | None:
    """Rows (departments or accounts, each with ``street`` and ``district``) in ``user``'s tier; ``None`` = all.

    A 区-level account also sees the 区-level rows of its 区; a 街道 account sees them only when
    ``district_level_rows`` (the 区's departments, which a 街道 may dispatch to)."""
    q = tier_q(user, f"{prefix}street_id")
    if q is None:
        return None
    district_id = getattr(user, "district_id", None)
    if district_id is not None and (district_level_rows or getattr(user, "street_id", None) is None):
        q |= Q(**{f"{prefix}street__isnull": True, f"{prefix}district_id": district_id})
    return q


@register(AuditLog)
def _audit_scope(qs: QuerySet, user, action: str) -> QuerySet:
    """The audit log (core's rule: the 审计管理员 only), narrowed to the auditor's tier: the entries of the
    accounts of its 街道 (a 区-level auditor: of every 街道 of its 区 and of the 区 level). Entries without an
    actor are the installation's own (the command line on the server, the demo loader, migrations): every
    auditor reads them."""
    qs = core_selectors._audit_scope(qs, user, action)
    q = tier_rows_q(user, district_level_rows=False, prefix="actor__")
    return qs if q is None else qs.filter(q | Q(actor__isnull=True))


@register(ImportRun)
def _import_run_scope(qs: QuerySet, user, action: str) -> QuerySet:
    """Core's rule (the runs of the specs the user may run), narrowed to the user's tier: a run belongs to the
    街道 (or 区 level) of the account that started it, so one 街道 never reads another's file names or row
    errors."""
    qs = core_selectors._import_run_scope(qs, user, action)
    q = tier_rows_q(user, district_level_rows=False, prefix="created_by__")
    return qs if q is None else qs.filter(q)


def in_user_tier(qs: QuerySet, user, *, district_level_rows: bool = False) -> QuerySet:
    q = tier_rows_q(user, district_level_rows=district_level_rows)
    return qs if q is None else qs.filter(q)


@register(Department)
def _department_scope(qs: QuerySet, user, action: str) -> QuerySet:
    if not has_capability(user, Capability.BUSINESS_VIEW):
        return qs.none()
    if action == "view":
        return in_user_tier(qs, user, district_level_rows=True)
    if not has_capability(user, Capability.SYSTEM_CONFIGURE):
        return qs.none()
    return in_user_tier(qs, user)


@register(User)
def _user_scope(qs: QuerySet, user, action: str) -> QuerySet:
    if action != "view":
        if has_capability(user, Capability.SYSTEM_CONFIGURE):
            return in_user_tier(qs, user)
        return qs.filter(pk=user.pk)
    if not has_capability(user, Capability.BUSINESS_VIEW):
        return qs.filter(pk=user.pk)
    own = Q(pk=user.pk)
    tier = tier_rows_q(user, district_level_rows=False)
    if tier is not None:
        qs = qs.filter(tier | own)
    if has_capability(user, Capability.STREET_WIDE_VIEW):
        return qs
    if user.role == Role.DEPT_HANDLER and user.department_id:
        return qs.filter(Q(department_id=user.department_id) | Q(pk=user.pk))
    if user.role == Role.COMMUNITY_STAFF and user.community_id:
        return qs.filter(
            Q(community_id=user.community_id) | Q(grids__community_id=user.community_id) | Q(pk=user.pk)
        ).distinct()
    return qs.filter(pk=user.pk)


def visible_departments(*, user, active_only: bool = True) -> QuerySet[Department]:
    qs = Department.objects.restrict(user, "view")
    return qs.filter(is_active=True) if active_only else qs


def visible_users(*, user) -> QuerySet[User]:
    """People only: system actors (the accounts of 随手拍, Open311 keys, imports) are never listed."""
    return (
        User.objects.restrict(user, "view").filter(is_system=False).select_related("department", "community")
    )


def get_user(*, user, pk: int) -> User:
    try:
        return visible_users(user=user).get(pk=pk)
    except User.DoesNotExist:
        raise NotFound("用户不存在或无权查看")
