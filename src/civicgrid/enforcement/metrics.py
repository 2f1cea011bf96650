"""综合执法 figures (公式见 docs/enforcement.md): one period of whole Asia/Shanghai days, over the 执法案件 the
user sees. Every count reads a date of the detail record (the ledger's own date, kept by an import too):

- 受理案件数: cases whose 受理时间 (一般程序: 立案; 简易程序: 当场处罚) falls in the period;
  一般程序数 / 简易程序数: of them, by 适用程序 (受理案件数 = 一般程序数 + 简易程序数);
- 结案数: cases 已结案 whose 结案时间 falls in the period;
- 罚款总额: the sum of 罚款金额 of the cases whose 决定时间 falls in the period (简易程序: the 当场处罚);
- 拆除面积 / 拆除处数: the sums of the cases whose 执行完毕时间 falls in the period;
- 不予立案数 / 移送数 / 撤案数: cases ending so, by the case's 结案 (closing) time in the period;
- by 违法行为类型: 受理案件数 per type.
Empty sums are 0; nothing is ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, Q, Sum

from civicgrid.core import clock
from civicgrid.enforcement import selectors
from civicgrid.enforcement.models import EnforcementDetail, ProcedureKind


@dataclass
class Figures:
    start: date
    end: date
    accepted: int = 0
    general: int = 0
    simple: int = 0
    concluded: int = 0
    fines: Decimal = Decimal("0.00")
    demolished_area: Decimal = Decimal("0.00")
    demolished_sites: int = 0
    not_filed: int = 0
    transferred: int = 0
    withdrawn: int = 0
    by_type: list = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "accepted": self.accepted,
            "general": self.general,
            "simple": self.simple,
            "concluded": self.concluded,
            "fines": str(self.fines),
            "demolished_area": str(self.demolished_area),
            "demolished_sites": self.demolished_sites,
            "not_filed": self.not_filed,
            "transferred": self.transferred,
            "withdrawn": self.withdrawn,
            "by_type": self.by_type,
        }


def bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return (
        datetime.combine(start, time.min, tzinfo=clock.SHANGHAI),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=clock.SHANGHAI),
    )


def _money(value) -> Decimal:
    return (value or Decimal(0)).quantize(Decimal("0.01"))


def figures(*, user, start: date, end: date) -> Figures:
    lo, hi = bounds(start, end)
    out = Figures(start=start, end=end)
    details = EnforcementDetail.objects.filter(case__in=selectors.visible_cases(user=user))
    accepted = details.filter(accepted_at__gte=lo, accepted_at__lt=hi)
    counts = accepted.aggregate(
        n=Count("pk"),
        general=Count("pk", filter=Q(procedure_kind=ProcedureKind.GENERAL)),
        simple=Count("pk", filter=Q(procedure_kind=ProcedureKind.SIMPLE)),
    )
    out.accepted, out.general, out.simple = counts["n"], counts["general"], counts["simple"]
    out.concluded = details.filter(case__state="closed", concluded_at__gte=lo, concluded_at__lt=hi).count()
    out.fines = _money(
        details.filter(decided_at__gte=lo, decided_at__lt=hi).aggregate(s=Sum("fine_amount"))["s"]
    )
    done = details.filter(executed_at__gte=lo, executed_at__lt=hi).aggregate(
        area=Sum("demolished_area"), sites=Sum("demolished_sites")
    )
    out.demolished_area, out.demolished_sites = _money(done["area"]), done["sites"] or 0
    ended = details.filter(concluded_at__gte=lo, concluded_at__lt=hi).aggregate(
        not_filed=Count("pk", filter=Q(case__state="not_filed")),
        transferred=Count("pk", filter=Q(case__state="transferred")),
        withdrawn=Count("pk", filter=Q(case__state="withdrawn")),
    )
    out.not_filed, out.transferred, out.withdrawn = (
        ended["not_filed"],
        ended["transferred"],
        ended["withdrawn"],
    )
    out.by_type = [
        {"type": r["violation_type__name"] or "未分类", "count": r["n"]}
        for r in accepted.values("violation_type__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "violation_type__name")
    ]
    return out
