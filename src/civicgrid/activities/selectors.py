"""Every read of the activity ledgers, scoped to the user.

Who sees what (read): the tier first (``places.selectors.in_tier``: a 街道 account its 街道, a 区 account the 街道 of
its 区); then the 街道-wide roles (指挥中心, 值班长, 领导, 系统管理员) every row of the tier, a 社区工作人员 the rows of
their own 社区 and a 网格员 those of the 社区 of their grids (read only: they take part in the activities but do not
keep the ledger). 处置部门人员 and the 审计管理员 see nothing. Rows without a 社区 (街道-level) are seen only by the
街道-wide roles.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import date
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from civicgrid.activities.models import (
    Activity,
    ActivityKind,
    ActivityPhoto,
    EmergencyPlan,
    EntryKind,
    TimeBankEntry,
    Volunteer,
)
from civicgrid.core import clock, scoping
from civicgrid.core.errors import NotFound
from civicgrid.core.roles import Capability, Role, has_capability
from civicgrid.places import selectors as place_selectors

WRITER_ROLES = (Role.COMMUNITY_STAFF, Role.LEADER, Role.SYSTEM_ADMIN)


def can_view(user) -> bool:
    return has_capability(user, Capability.BUSINESS_VIEW) and getattr(user, "role", None) != Role.DEPT_HANDLER


def can_write(user) -> bool:
    """Who keeps the ledgers: 社区工作人员 (their 社区), 领导 and 系统管理员 (the tier)."""
    return can_view(user) and user.role in WRITER_ROLES


def own_community_ids(user) -> list[int] | None:
    """The 社区 a 社区工作人员 / 网格员 is limited to; ``None``: no 社区 limit (the 街道-wide roles)."""
    if user.role == Role.COMMUNITY_STAFF:
        return [user.community_id] if user.community_id else []
    if user.role == Role.GRID_WORKER:
        return sorted(set(user.grids.values_list("community_id", flat=True)))
    return None


def _scoped(qs: QuerySet, user, prefix: str = "") -> QuerySet:
    if not can_view(user):
        return qs.none()
    qs = place_selectors.in_tier(qs, user, f"{prefix}street_id")
    own = own_community_ids(user)
    if own is not None:
        qs = qs.filter(**{f"{prefix}community_id__in": own})
    return qs


def visible_activities(*, user) -> QuerySet[Activity]:
    return _scoped(Activity.objects.get_queryset(), user)


def visible_plans(*, user) -> QuerySet[EmergencyPlan]:
    return _scoped(EmergencyPlan.objects.get_queryset(), user)


def visible_volunteers(*, user) -> QuerySet[Volunteer]:
    return _scoped(Volunteer.objects.get_queryset(), user)


def visible_entries(*, user) -> QuerySet[TimeBankEntry]:
    return _scoped(TimeBankEntry.objects.get_queryset(), user, "volunteer__")


@scoping.register(Activity)
def _activity_scope(qs, user, action):
    return qs.filter(pk__in=visible_activities(user=user).values("pk")) if action == "view" else qs.none()


@scoping.register(EmergencyPlan)
def _plan_scope(qs, user, action):
    return qs.filter(pk__in=visible_plans(user=user).values("pk")) if action == "view" else qs.none()


@scoping.register(Volunteer)
def _volunteer_scope(qs, user, action):
    return qs.filter(pk__in=visible_volunteers(user=user).values("pk")) if action == "view" else qs.none()


def visible_communities(*, user):
    """The 社区 offered in filters (the tier, narrowed to one's own 社区 for 社区工作人员/网格员)."""
    qs = place_selectors.visible_communities(user=user)
    own = own_community_ids(user)
    return (qs if own is None else qs.filter(pk__in=own)).order_by("code")


def writable_communities(*, user):
    if not can_write(user):
        return visible_communities(user=user).none()
    return visible_communities(user=user)


def mask_phone(phone: str) -> str:
    """``13912345678`` → ``139****5678``; shorter numbers keep their last 2 digits."""
    digits = "".join(c for c in phone or "" if c.isdigit())
    if not digits:
        return ""
    if len(digits) >= 8:
        return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"
    return "*" * (len(digits) - 2) + digits[-2:]


# --- 活动 ---------------------------------------------------------------------------------------------------


def activity_rows(
    *, user, kind: str = "", community: int | None = None, start: date | None = None, end: date | None = None,
    q: str = "",
) -> QuerySet[Activity]:  # fmt: skip
    """The list: ``start``/``end`` bound the activity's (first) day, both inclusive."""
    qs = visible_activities(user=user).select_related("community")
    if kind:
        qs = qs.filter(kind=kind)
    if community:
        qs = qs.filter(community_id=community)
    if start:
        qs = qs.filter(date__gte=start)
    if end:
        qs = qs.filter(date__lte=end)
    if q:
        qs = qs.filter(Q(name__contains=q[:50]) | Q(place__contains=q[:50]) | Q(organiser__contains=q[:50]))
    return qs.order_by("-date", "-pk")


def totals(qs: QuerySet[Activity]) -> dict:
    """活动数 (rows), 场次 = Σ场次, 人次 = Σ人次, 户数 = Σ户数, 资料 = Σ份 of ``qs``."""
    agg = qs.aggregate(
        count=Count("pk"),
        sessions=Coalesce(Sum("sessions"), 0),
        attendance=Coalesce(Sum("attendance"), 0),
        households=Coalesce(Sum("households"), 0),
        materials=Coalesce(Sum("materials"), 0),
    )
    return agg


def totals_by_kind(qs: QuerySet[Activity]) -> OrderedDict:
    """Per kind (every kind, in the catalogue's order, zeros included): the same sums as :func:`totals`."""
    rows = {
        r["kind"]: r
        for r in qs.order_by()
        .values("kind")
        .annotate(
            count=Count("pk"),
            sessions=Coalesce(Sum("sessions"), 0),
            attendance=Coalesce(Sum("attendance"), 0),
            households=Coalesce(Sum("households"), 0),
            materials=Coalesce(Sum("materials"), 0),
        )
    }
    out = OrderedDict()
    for value, label in ActivityKind.choices:
        r = rows.get(value, {})
        out[value] = {
            "label": label,
            **{k: r.get(k, 0) for k in ("count", "sessions", "attendance", "households", "materials")},
        }
    return out


def get_activity(*, user, pk) -> Activity:
    try:
        return (
            visible_activities(user=user)
            .select_related("community", "street", "created_by")
            .prefetch_related("photos__attachment")
            .get(pk=int(pk))
        )
    except (Activity.DoesNotExist, TypeError, ValueError):
        raise NotFound("活动不存在或无权查看") from None


def activity_photo(*, user, pk) -> ActivityPhoto:
    try:
        return ActivityPhoto.objects.select_related("attachment").get(
            pk=int(pk), activity__in=visible_activities(user=user)
        )
    except (ActivityPhoto.DoesNotExist, TypeError, ValueError):
        raise NotFound("照片不存在或无权查看") from None


# --- 应急预案 -----------------------------------------------------------------------------------------------


def plan_rows(*, user, level: str = "", overdue: bool | None = None, as_of: date | None = None) -> list:
    """The register, each plan with ``due`` (next review) and ``is_overdue`` as of ``as_of`` (default today)."""
    as_of = as_of or clock.local_now().date()
    qs = visible_plans(user=user).select_related("community")
    if level:
        qs = qs.filter(level=level)
    rows = []
    for p in qs.order_by("level", "name"):
        p.due, p.is_overdue = p.next_review_due, p.overdue_on(as_of)
        if overdue is None or p.is_overdue == overdue:
            rows.append(p)
    return rows


def get_plan(*, user, pk) -> EmergencyPlan:
    try:
        return visible_plans(user=user).select_related("community").get(pk=int(pk))
    except (EmergencyPlan.DoesNotExist, TypeError, ValueError):
        raise NotFound("预案不存在或无权查看") from None


# --- 志愿者 / 时间银行 ---------------------------------------------------------------------------------------

_EARNED = Coalesce(Sum("entries__hours", filter=Q(entries__kind=EntryKind.EARN)), Decimal(0))
_SPENT = Coalesce(Sum("entries__hours", filter=Q(entries__kind=EntryKind.SPEND)), Decimal(0))


def volunteer_rows(*, user, q: str = "", community: int | None = None, active: bool | None = None):
    """The register with ``earned``, ``spent`` and ``balance`` (= earned − spent) hours per volunteer."""
    qs = visible_volunteers(user=user).select_related("community")
    if q:
        qs = qs.filter(Q(name__contains=q[:30]) | Q(skills__contains=q[:50]))
    if community:
        qs = qs.filter(community_id=community)
    if active is not None:
        qs = qs.filter(is_active=active)
    return qs.annotate(earned=_EARNED, spent=_SPENT).order_by("name", "pk")


def balance(volunteer: Volunteer) -> Decimal:
    """Σ earned − Σ spent hours of the volunteer (every entry)."""
    agg = TimeBankEntry.objects.filter(volunteer=volunteer).aggregate(
        earned=Coalesce(Sum("hours", filter=Q(kind=EntryKind.EARN)), Decimal(0)),
        spent=Coalesce(Sum("hours", filter=Q(kind=EntryKind.SPEND)), Decimal(0)),
    )
    return agg["earned"] - agg["spent"]


def get_volunteer(*, user, pk) -> Volunteer:
    try:
        return visible_volunteers(user=user).select_related("community").get(pk=int(pk))
    except (Volunteer.DoesNotExist, TypeError, ValueError):
        raise NotFound("志愿者不存在或无权查看") from None


def entry_rows(
    *, user, start: date | None = None, end: date | None = None, community: int | None = None, q: str = ""
) -> QuerySet[TimeBankEntry]:
    """The 时间银行 entries of the volunteers ``user`` sees, oldest first (the order they were booked in)."""
    qs = visible_entries(user=user).select_related("volunteer__community", "activity")
    if start:
        qs = qs.filter(date__gte=start)
    if end:
        qs = qs.filter(date__lte=end)
    if community:
        qs = qs.filter(volunteer__community_id=community)
    if q:
        qs = qs.filter(volunteer__name__icontains=q)
    return qs.order_by("date", "pk")


def entries_of(volunteer: Volunteer) -> QuerySet[TimeBankEntry]:
    return (
        TimeBankEntry.objects.filter(volunteer=volunteer).select_related("activity").order_by("-date", "-pk")
    )


# --- figures for the work report ----------------------------------------------------------------------------


def report_figures(*, user, start: date, end: date) -> dict:
    """The activity ledgers' figures for the period ``start``–``end`` (both days included), in ``user``'s scope.

    - ``activities[kind]`` and ``activities_total``: 活动数 = number of activities whose (first) day lies in the
      period; 场次 = Σ 场次; 人次 = Σ 人次; 户数 = Σ 户数; 资料 = Σ 发放资料份数 of those activities.
    - ``volunteer_hours``: 志愿服务时长 = Σ hours of the 时间银行 存入 entries dated in the period.
    - ``volunteer_hours_spent``: Σ hours of the 支取 entries dated in the period.
    - ``volunteers``: 在册志愿者 = volunteers registered on or before ``end`` and still active.
    - ``plans``: 预案数 = plans issued on or before ``end``.
    - ``plans_overdue``: 逾期未复核数 = of those, the plans whose next review day (last review on or before
      ``end``, else the issue day, + the plan's review cycle in months) is before ``end``.
    """
    acts = visible_activities(user=user).filter(date__gte=start, date__lte=end)
    entries = visible_entries(user=user).filter(date__gte=start, date__lte=end)
    hours = entries.aggregate(
        earned=Coalesce(Sum("hours", filter=Q(kind=EntryKind.EARN)), Decimal(0)),
        spent=Coalesce(Sum("hours", filter=Q(kind=EntryKind.SPEND)), Decimal(0)),
    )
    plans = list(visible_plans(user=user).filter(issued_on__lte=end))
    overdue = 0
    for p in plans:
        if p.reviewed_on and p.reviewed_on > end:
            p.reviewed_on = None  # reviewed after the period: as of its end only the issue day was known
        overdue += p.overdue_on(end)
    return {
        "start": start,
        "end": end,
        "activities": totals_by_kind(acts),
        "activities_total": totals(acts),
        "volunteer_hours": hours["earned"],
        "volunteer_hours_spent": hours["spent"],
        "volunteers": visible_volunteers(user=user).filter(registered_on__lte=end, is_active=True).count(),
        "plans": len(plans),
        "plans_overdue": overdue,
    }


def ledger_summary(*, user, start: date, end: date):
    """The activity ledgers for the dashboards and the work report (registered with metrics.ledgers): the
    totals of :func:`report_figures` with their formulas."""
    from civicgrid.metrics import ledgers

    if not can_view(user):
        return None
    f = report_figures(user=user, start=start, end=end)
    t = f["activities_total"]
    hours = f["volunteer_hours"]
    return [
        ledgers.Figure("活动", t["count"], "场", key="count", formula="活动日期在期内的活动数"),
        ledgers.Figure("活动场次", t["sessions"], "场次", key="sessions", formula="期内活动的场次之和"),
        ledgers.Figure("参与人次", t["attendance"], "人次", key="attendance", formula="期内活动的参与人次之和"),
        ledgers.Figure("覆盖户数", t["households"], "户", key="households", formula="期内活动的覆盖户数之和"),
        ledgers.Figure(
            "志愿服务时长", float(hours), "小时", key="volunteer_hours",
            formula="时间银行中日期在期内的“存入”时长之和",
        ),
        ledgers.Figure("在册志愿者", f["volunteers"], "人", key="volunteers", formula="期末在册且有效的志愿者人数"),
        ledgers.Figure("应急预案", f["plans"], "项", key="plans", formula="期末前印发的应急预案数"),
        ledgers.Figure(
            "逾期未复核预案", f["plans_overdue"], "项", key="plans_overdue",
            formula="期末前印发、下次复核日（上次复核或印发日 + 复核周期）早于期末的预案数",
        ),
    ]  # fmt: skip
