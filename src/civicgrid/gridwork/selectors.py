"""Every read of 巡访打卡, scoped to the user.

Tier first (``places.selectors.tier_q`` on the row's 街道: a 街道 account its 街道, a 区 account the 街道 of its 区),
then the role: a 网格员 sees their own patrols and check-ins and the points of their grids; a 社区工作人员 those of
their 社区; the 街道/区 roles with the street-wide view (指挥中心, 值班长, 领导, 系统管理员) everything of the tier.
处置部门 and the 审计管理员 see none of it.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from civicgrid.accounts.models import User
from civicgrid.accounts.roles import Capability, Role, has_capability
from civicgrid.core import scoping
from civicgrid.core.errors import NotFound
from civicgrid.gridwork.models import Patrol, PatrolPoint, PointCheck, PointType
from civicgrid.places import selectors as place_selectors
from civicgrid.places.models import Community, Grid


def may_view(user) -> bool:
    """Whether the user sees any of 巡访打卡 (the menu entry and the pages)."""
    if not has_capability(user, Capability.BUSINESS_VIEW):
        return False
    return user.role in (Role.GRID_WORKER, Role.COMMUNITY_STAFF) or has_capability(
        user, Capability.STREET_WIDE_VIEW
    )


def may_patrol(user) -> bool:
    return has_capability(user, Capability.FIELD_PATROL) and user.role == Role.GRID_WORKER


def _scoped(
    qs: QuerySet, user, *, street: str, worker: str | None, community: str, grid: str = ""
) -> QuerySet:
    """Tier, then role: ``worker`` (the row's 网格员, for a 网格员) or, without it, ``grid`` (the prefix of the row's
    grid, for a 网格员: their grids and the 专属网格 inside); ``community`` for a 社区工作人员."""
    if not may_view(user):
        return qs.none()
    tier = place_selectors.tier_q(user, street)
    if tier is not None:
        qs = qs.filter(tier)
    if user.role == Role.GRID_WORKER:
        if worker is not None:
            return qs.filter(**{worker: user.pk})
        return qs.filter(place_selectors.grid_filter(user, grid))
    if user.role == Role.COMMUNITY_STAFF:
        if not user.community_id:
            return qs.none()
        return qs.filter(**{community: user.community_id})
    return qs


@scoping.register(Patrol)
def _patrol_scope(qs: QuerySet, user, action: str) -> QuerySet:
    if action != "view":
        return qs.none()  # written by the services only
    return _scoped(qs, user, street="street_id", worker="worker_id", community="community_id")


@scoping.register(PointCheck)
def _check_scope(qs: QuerySet, user, action: str) -> QuerySet:
    if action != "view":
        return qs.none()
    return _scoped(qs, user, street="street_id", worker="worker_id", community="point__grid__community_id")


@scoping.register(PatrolPoint)
def _point_scope(qs: QuerySet, user, action: str) -> QuerySet:
    if action != "view":
        if not has_capability(user, Capability.SYSTEM_CONFIGURE):
            return qs.none()
        return place_selectors.in_tier(qs, user, "street_id")
    return _scoped(qs, user, street="street_id", worker=None, community="grid__community_id", grid="grid__")


def visible_patrols(*, user) -> QuerySet[Patrol]:
    return Patrol.objects.restrict(user, "view")


def visible_checks(*, user) -> QuerySet[PointCheck]:
    return PointCheck.objects.restrict(user, "view")


def visible_points(*, user) -> QuerySet[PatrolPoint]:
    return PatrolPoint.objects.restrict(user, "view")


def get_patrol(*, user, pk) -> Patrol:
    try:
        return visible_patrols(user=user).select_related("worker", "grid", "community").get(pk=int(pk))
    except (Patrol.DoesNotExist, TypeError, ValueError):
        raise NotFound("巡查记录不存在或无权查看")


def get_point(*, user, pk) -> PatrolPoint:
    try:
        return visible_points(user=user).select_related("kind", "grid").get(pk=int(pk), is_active=True)
    except (PatrolPoint.DoesNotExist, TypeError, ValueError):
        raise NotFound("点位不存在或无权查看")


def own_patrol(*, user, pk) -> Patrol:
    """One of the worker's own patrols (for writing to it)."""
    try:
        return Patrol.objects.get(pk=int(pk), worker=user)
    except (Patrol.DoesNotExist, TypeError, ValueError):
        raise NotFound("巡查记录不存在")


def open_patrol(*, user) -> Patrol | None:
    if not may_patrol(user):
        return None
    return Patrol.objects.filter(worker=user, ended_at__isnull=True).first()


def own_grid_ids(worker) -> set[int]:
    """The worker's grids with the 专属网格 inside them (the places scope: what 'own grid' means)."""
    own = list(worker.grids.values_list("pk", flat=True))
    return set(Grid.objects.filter(Q(pk__in=own) | Q(parent_id__in=own)).values_list("pk", flat=True))


def own_points(*, user) -> QuerySet[PatrolPoint]:
    """The active points of the worker's grids (the phone list)."""
    return (
        PatrolPoint.objects.filter(is_active=True, grid_id__in=own_grid_ids(user))
        .select_related("kind", "grid")
        .order_by("grid__code", "kind__order", "name")
    )


def point_types() -> QuerySet[PointType]:
    return PointType.objects.filter(is_active=True)


def visible_workers(*, user) -> QuerySet[User]:
    """The 网格员 whose figures the user may see."""
    if not may_view(user):
        return User.objects.none()
    qs = User.objects.filter(role=Role.GRID_WORKER, is_active=True)
    if user.role == Role.GRID_WORKER:
        return qs.filter(pk=user.pk)
    tier = place_selectors.tier_q(user, "street_id")
    if tier is not None:
        qs = qs.filter(tier)
    if user.role == Role.COMMUNITY_STAFF:
        return qs.filter(grids__community_id=user.community_id).distinct()
    return qs


def visible_grids(*, user) -> QuerySet[Grid]:
    if not may_view(user):
        return Grid.objects.none()
    return place_selectors.visible_grids(user=user).filter(is_active=True, kind="ordinary")


def visible_communities(*, user) -> QuerySet[Community]:
    if not may_view(user):
        return Community.objects.none()
    return place_selectors.visible_communities(user=user)


def ledger_summary(*, user, start, end):
    """The 指挥中心's 巡查打卡 summary (registered with metrics.ledgers in apps.ready): patrols started in the
    period, the 网格员 who patrolled, their point check-ins, and the hours patrolled."""
    from django.db.models import Count, Sum

    from civicgrid.metrics import ledgers
    from civicgrid.metrics.selectors import bounds

    if not may_view(user):
        return None
    lo, hi = bounds(start, end)
    row = (
        visible_patrols(user=user)
        .filter(started_at__gte=lo, started_at__lt=hi)
        .aggregate(
            n=Count("pk"),
            workers=Count("worker_id", distinct=True),
            checks=Sum("check_count"),
            secs=Sum("duration_s"),
        )
    )
    return [
        ledgers.Figure("巡查次数", row["n"] or 0, "次", key="patrols", formula="期内开始的巡查次数"),
        ledgers.Figure(
            "巡查网格员", row["workers"] or 0, "人", key="workers", formula="期内有巡查的网格员人数"
        ),
        ledgers.Figure(
            "点位打卡", row["checks"] or 0, "次", key="checks", formula="期内巡查中的点位打卡次数"
        ),
        ledgers.Figure(
            "巡查时长", round((row["secs"] or 0) / 3600, 1), "小时", key="hours", formula="期内巡查时长之和"
        ),
    ]
