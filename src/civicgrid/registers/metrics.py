"""The 基础台账 figures (docs/registers.md has the formulas). Period: local dates ``start``..``end`` inclusive.

- 入户走访人次 = Σ over visits with 走访时间 in the period of max(1, 见到的在册人员数).
- 走访户次 = visits with 走访时间 in the period.
- 采集条数 = audit rows of creates and updates of 人员 / 户 (``COLLECT_ACTIONS``) written by 网格员
  (``actor_role = grid_worker``) in the period.
- 重点人员走访及时率 = 重点人员 not overdue at the end date / 重点人员 at the end date (see
  :func:`civicgrid.registers.selectors.key_person_status`).
- 流动人口注销及时率 = 注销 in the period whose 注销日期 − 离开日期 ≤ ``CANCEL_LIMIT_DAYS`` / 注销 in the period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Q

from civicgrid.accounts.roles import Role
from civicgrid.core import clock
from civicgrid.core.models import AuditLog
from civicgrid.places import selectors as place_selectors
from civicgrid.registers import selectors
from civicgrid.registers.models import FloatingStatus

COLLECT_ACTIONS = (
    "registers.person.create",
    "registers.person.update",
    "registers.person.import",
    "registers.household.create",
    "registers.household.update",
    "registers.floating.move",
)
CANCEL_LIMIT_DAYS = 7


@dataclass
class Figures:
    start: date
    end: date
    visit_count: int
    visit_person_times: int
    collected: int
    key_persons: int
    key_on_time: int
    key_on_time_rate: float | None
    cancelled: int
    cancelled_on_time: int
    cancel_on_time_rate: float | None


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return (
        datetime.combine(start, time.min, tzinfo=clock.SHANGHAI),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=clock.SHANGHAI),
    )


def _rate(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def collected_rows(*, user, start: date, end: date):
    """The audit rows counted as 采集条数 for what ``user`` oversees: a 网格员 their own, a 社区工作人员 the grid
    workers of their 社区, a 街道/区 role the grid workers of its tier."""
    lo, hi = _bounds(start, end)
    qs = AuditLog.objects.filter(
        action__in=COLLECT_ACTIONS, actor_role=Role.GRID_WORKER, at__gte=lo, at__lt=hi
    )
    if user.role == Role.GRID_WORKER:
        return qs.filter(actor=user)
    if user.role == Role.COMMUNITY_STAFF:
        return qs.filter(actor__grids__community_id=user.community_id or -1).distinct()
    ids = place_selectors.tier_street_ids(user)
    return qs if ids is None else qs.filter(actor__street_id__in=ids)


def figures(*, user, start: date, end: date) -> Figures:
    lo, hi = _bounds(start, end)
    visits = selectors.visible_visits(user=user).filter(visited_at__gte=lo, visited_at__lt=hi)
    per_visit = visits.annotate(n=Count("persons")).values_list("n", flat=True)
    person_times = sum(max(1, n) for n in per_visit)
    status = selectors.key_person_status(
        persons=selectors.visible_persons(user=user).filter(created_at__lt=hi), as_of=end
    )
    on_time = sum(1 for r in status if not r["overdue"])
    cancelled = list(
        selectors.visible_persons(user=user)
        .filter(floating_status=FloatingStatus.CANCELLED, cancelled_on__gte=start, cancelled_on__lte=end)
        .values_list("cancelled_on", "left_on")
    )
    cancelled_ok = sum(1 for c, left in cancelled if left and (c - left).days <= CANCEL_LIMIT_DAYS)
    return Figures(
        start=start,
        end=end,
        visit_count=len(per_visit),
        visit_person_times=person_times,
        collected=collected_rows(user=user, start=start, end=end).count(),
        key_persons=len(status),
        key_on_time=on_time,
        key_on_time_rate=_rate(on_time, len(status)),
        cancelled=len(cancelled),
        cancelled_on_time=cancelled_ok,
        cancel_on_time_rate=_rate(cancelled_ok, len(cancelled)),
    )


def register_counts(*, user) -> dict:
    qs = selectors.visible_persons(user=user).filter(is_active=True)
    agg = qs.aggregate(
        total=Count("pk"),
        floating=Count("pk", filter=Q(residence="floating")),
    )
    return agg


def ledger_summary(*, user, start: date, end: date):
    """The registers' figures for the dashboards and the work report (registered with metrics.ledgers):
    入户走访 (次 and 人次), 采集基础数据 (条), 流动人口注销 and its 注销及时率 — the formulas of :func:`figures`."""
    from civicgrid.accounts.roles import Capability, has_capability
    from civicgrid.metrics import ledgers

    if not has_capability(user, Capability.BUSINESS_VIEW) or user.role == Role.DEPT_HANDLER:
        return None
    f = figures(user=user, start=start, end=end)
    return [
        ledgers.Figure("入户走访", f.visit_count, "次", key="visits", formula="期内录入的入户走访次数"),
        ledgers.Figure(
            "走访人次", f.visit_person_times, "人次", key="person_times",
            formula="期内每次走访见到的人数之和（未记人员的走访计 1 人次）",
        ),
        ledgers.Figure(
            "采集基础数据", f.collected, "条", key="collected",
            formula="期内网格员登记/修改人员、户档、流动人口的审计记录条数",
        ),
        ledgers.Figure("流动人口注销", f.cancelled, "人", key="cancelled", formula="期内注销的流动人口人数"),
        ledgers.Figure(
            "注销及时率", f.cancel_on_time_rate, "%", key="cancel_on_time_rate",
            formula=f"期内注销的流动人口中，注销日距离开日不超过 {CANCEL_LIMIT_DAYS} 天的 ÷ 期内注销人数 × 100%",
            numerator=f.cancelled_on_time, denominator=f.cancelled,
        ),
    ]  # fmt: skip
