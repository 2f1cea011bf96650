"""Every read of 督办 and 预警, scoped to the user.

- The roles that see the whole 街道 (指挥中心, 值班长, 领导, 系统管理员) see the rows of the 街道 in their tier;
- a 处置部门 account sees the 督办 and the warnings addressed to its own department;
- everyone else sees none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Q, QuerySet

from civicgrid.accounts.roles import Capability, Role, has_capability
from civicgrid.cases import procedures
from civicgrid.cases.models import Case, Light
from civicgrid.core import clock, scoping
from civicgrid.core.errors import NotFound
from civicgrid.places import selectors as place_selectors
from civicgrid.supervision.models import (
    EarlyWarning,
    Supervision,
    SupervisionItem,
    SupervisionState,
    WarningConfig,
    WarningState,
)


def can_supervise(user) -> bool:
    """督办 is 值班长's and 领导's (``Capability.CASE_SUPERVISE``), as the case engine's 督办 move."""
    return has_capability(user, Capability.CASE_SUPERVISE)


def can_handle_warnings(user) -> bool:
    """确认/处置 a warning: the desks (指挥中心, 值班长) and 领导."""
    return has_capability(user, Capability.CASE_DISPATCH) or has_capability(user, Capability.CASE_SUPERVISE)


def _street_wide(user) -> bool:
    return has_capability(user, Capability.BUSINESS_VIEW) and has_capability(
        user, Capability.STREET_WIDE_VIEW
    )


def can_view(user) -> bool:
    return _street_wide(user) or (
        getattr(user, "role", None) == Role.DEPT_HANDLER and getattr(user, "department_id", None) is not None
    )


def _scoped(qs: QuerySet, user) -> QuerySet:
    if _street_wide(user):
        return place_selectors.in_tier(qs, user, "street_id")
    if getattr(user, "role", None) == Role.DEPT_HANDLER and getattr(user, "department_id", None):
        return qs.filter(department_id=user.department_id)
    return qs.none()


@scoping.register(Supervision)
def _supervision_scope(qs: QuerySet, user, action: str) -> QuerySet:
    return _scoped(qs, user)


@scoping.register(EarlyWarning)
def _warning_scope(qs: QuerySet, user, action: str) -> QuerySet:
    return _scoped(qs, user)


@scoping.register(WarningConfig)
def _config_scope(qs: QuerySet, user, action: str) -> QuerySet:
    if user.role == Role.SYSTEM_ADMIN:
        return place_selectors.in_tier(qs, user, "street_id")
    return qs.none()


# --- 督办 ---------------------------------------------------------------------------------------------


def visible_supervisions(*, user) -> QuerySet[Supervision]:
    return Supervision.objects.restrict(user, "view").select_related(
        "case", "department", "street", "created_by", "cleared_by"
    )


def get_supervision(*, user, pk) -> Supervision:
    try:
        return visible_supervisions(user=user).get(pk=int(pk))
    except (Supervision.DoesNotExist, TypeError, ValueError):
        raise NotFound("督办不存在或无权查看")


def supervisions_of_case(*, user, case: Case) -> list[Supervision]:
    """The 督办 covering ``case`` (one case, or a department list including it) the user may see."""
    ids = SupervisionItem.objects.filter(case_id=case.pk).values("supervision_id")
    return list(visible_supervisions(user=user).filter(pk__in=ids).prefetch_related("items"))


def open_cases_q() -> Q:
    return procedures.group_q("open")


def overdue_cases(*, user, department_id: int) -> QuerySet[Case]:
    """The department's open red (超时) cases the user may see: what a department 督办 covers."""
    return (
        Case.objects.restrict(user, "view")
        .filter(open_cases_q(), department_id=department_id, light=Light.RED)
        .order_by("due_at", "pk")
    )


def overdue_by_department(*, user) -> list[dict]:
    """Departments with open overdue cases the user may see: [{department_id, name, overdue}] most first."""
    from django.db.models import Count

    rows = (
        Case.objects.restrict(user, "view")
        .filter(open_cases_q(), light=Light.RED, department__isnull=False)
        .values("department_id", "department__name")
        .annotate(n=Count("id"))
        .order_by("-n", "department__name")
    )
    return [
        {"department_id": r["department_id"], "name": r["department__name"], "overdue": r["n"]} for r in rows
    ]


@dataclass
class CountRow:
    department_id: int | None
    department: str
    month: str  # YYYY-MM
    total: int = 0  # 督办数
    cleared: int = 0  # 已销号
    overdue_open: int = 0  # 超期未销号

    @property
    def as_dict(self) -> dict:
        return {
            "department_id": self.department_id,
            "department": self.department,
            "month": self.month,
            "total": self.total,
            "cleared": self.cleared,
            "overdue_open": self.overdue_open,
        }


def counts(
    *, user, start: date | None = None, end: date | None = None, now: datetime | None = None
) -> list[CountRow]:
    """督办数 / 已销号 / 超期未销号 per department × month (the month the 督办 was made, local time).

    超期未销号: still open after its 督办期限 (at ``now``)."""
    now = now or clock.now()
    qs = Supervision.objects.restrict(user, "view").select_related("department")
    rows: dict[tuple, CountRow] = {}
    for s in qs.only("department_id", "department__name", "created_at", "state", "due_at"):
        day = clock.to_local(s.created_at).date()
        if (start and day < start) or (end and day > end):
            continue
        key = (s.department_id, f"{day:%Y-%m}")
        row = rows.get(key)
        if row is None:
            name = s.department.name if s.department_id else "（未指定部门）"
            row = rows[key] = CountRow(s.department_id, name, key[1])
        row.total += 1
        if s.state == SupervisionState.CLEARED:
            row.cleared += 1
        elif s.due_at < now:
            row.overdue_open += 1
    ordered = sorted(rows.values(), key=lambda r: r.department)
    return sorted(ordered, key=lambda r: r.month, reverse=True)  # newest month first


def totals(rows: list[CountRow]) -> dict:
    return {
        "total": sum(r.total for r in rows),
        "cleared": sum(r.cleared for r in rows),
        "overdue_open": sum(r.overdue_open for r in rows),
    }


# --- warnings -----------------------------------------------------------------------------------------


def visible_warnings(*, user) -> QuerySet[EarlyWarning]:
    return EarlyWarning.objects.restrict(user, "view").select_related(
        "street", "community", "category", "department", "case", "handled_by"
    )


def get_warning(*, user, pk) -> EarlyWarning:
    try:
        return visible_warnings(user=user).get(pk=int(pk))
    except (EarlyWarning.DoesNotExist, TypeError, ValueError):
        raise NotFound("预警不存在或无权查看")


def filter_warnings(
    qs: QuerySet[EarlyWarning],
    *,
    rule: str = "",
    state: str = "",
    community_id: int | None = None,
    department_id: int | None = None,
    start: date | None = None,
    end: date | None = None,
) -> QuerySet[EarlyWarning]:
    if rule:
        qs = qs.filter(rule=rule)
    if state == "open":
        qs = qs.exclude(state=WarningState.RESOLVED)
    elif state:
        qs = qs.filter(state=state)
    if community_id:
        qs = qs.filter(community_id=community_id)
    if department_id:
        qs = qs.filter(department_id=department_id)
    if start:
        qs = qs.filter(day__gte=start)
    if end:
        qs = qs.filter(day__lte=end)
    return qs


def open_warnings(*, user, limit: int = 10) -> list[EarlyWarning]:
    """What the embeddable panel lists: the newest warnings still 待处理/已确认."""
    return list(visible_warnings(user=user).exclude(state=WarningState.RESOLVED)[:limit])


def open_warning_count(*, user) -> int:
    return visible_warnings(user=user).exclude(state=WarningState.RESOLVED).count()


def alert_feed(*, user, limit: int = 10, street=None):
    """The open warnings for the 指挥中心 screens (registered with ``metrics.ledgers.register_alerts``): the
    newest ``limit`` the user may see, narrowed to ``street`` when given; ``None`` for a user who sees none."""
    from django.urls import reverse

    from civicgrid.metrics import ledgers

    if not can_view(user):
        return None
    qs = visible_warnings(user=user).exclude(state=WarningState.RESOLVED)
    if street is not None:
        qs = qs.filter(street=street)
    rows = list(qs[: max(0, limit)])
    return ledgers.AlertFeed(
        total=qs.count(),
        items=[
            ledgers.Alert(
                title=w.title,
                message=w.message,
                at=w.created_at,
                url=reverse("supervision:warning", args=[w.pk]),
                level=w.rule_color,
                tag=w.get_rule_display(),
            )
            for w in rows
        ],
    )


def config_for(street_id: int) -> WarningConfig:
    """The 街道's settings, or the defaults (an unsaved row) when none were kept."""
    return WarningConfig.objects.filter(street_id=street_id).first() or WarningConfig(street_id=street_id)


def ledger_summary(*, user, start: date, end: date):
    """督办 and 预警 figures for the dashboards and the work report (registered with metrics.ledgers): 督办 made
    in the period, those of them 已销号, and the warnings raised in the period."""
    from civicgrid.metrics import ledgers

    if not can_view(user):
        return None
    rows = counts(user=user, start=start, end=end)
    warnings_n = visible_warnings(user=user).filter(day__gte=start, day__lte=end).count()
    return [
        ledgers.Figure(
            "督办", sum(r.total for r in rows), "件", key="registered", formula="期内发起的督办件数"
        ),
        ledgers.Figure(
            "已销号",
            sum(r.cleared for r in rows),
            "件",
            key="cleared",
            formula="期内发起的督办中已销号的件数",
        ),
        ledgers.Figure("预警", warnings_n, "条", key="warnings", formula="期内产生的预警条数（四类规则）"),
    ]
