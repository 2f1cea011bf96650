"""Reads of accounts, departments and the audit log, scoped to the user.

- Departments: every business role sees the list (to dispatch, to know who handles a case).
- Users: 街道 roles see all; a department handler their department; 社区 staff their community's staff and the
  grid workers of its grids; a grid worker only themself. The 审计管理员 sees only themself.
- Audit log: see :mod:`civicgrid.core.selectors` (re-exported here).
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from civicgrid.accounts.models import Department, User
from civicgrid.accounts.roles import Role
from civicgrid.core.errors import NotFound
from civicgrid.core.roles import Capability, has_capability
from civicgrid.core.scoping import register
from civicgrid.core.selectors import audit_log, get_audit_entry  # noqa: F401  (re-exported)


@register(Department)
def _department_scope(qs: QuerySet, user, action: str) -> QuerySet:
    if not has_capability(user, Capability.BUSINESS_VIEW):
        return qs.none()
    if action == "view":
        return qs
    return qs if has_capability(user, Capability.SYSTEM_CONFIGURE) else qs.none()


@register(User)
def _user_scope(qs: QuerySet, user, action: str) -> QuerySet:
    if action != "view":
        return qs if has_capability(user, Capability.SYSTEM_CONFIGURE) else qs.filter(pk=user.pk)
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
