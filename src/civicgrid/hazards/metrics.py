"""安全隐患 figures (公式见 docs/hazards.md): one period of whole Asia/Shanghai days, over the hazards and
inspections the user sees.

- 检查家次: inspections whose 检查时间 falls in the period;
- 发现隐患数: hazards whose 发现日期 (the case's creation) falls in the period, 作废 excluded;
- 销号数: hazards 已销号 whose 销号日期 (``closed_at``) falls in the period;
- 整改率 = 期内发现且在期末前已销号的隐患 / 发现隐患数 (one cohort, so never above 100%: the 销号数 above
  also counts hazards found before the period); 按期整改率 = 按期销号数 / 销号数 (按期: 整改完成时间 ≤
  交办时确定的整改期限);
- 重大隐患数: of 发现隐患数, level 重大;
- open hazards by age (days since 发现, at the end of the period or now, whichever is earlier).
A rate with a zero denominator is ``None`` (shown “—”).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Count, F, Q

from civicgrid.cases import procedures
from civicgrid.core import clock
from civicgrid.hazards import selectors
from civicgrid.hazards.models import HazardDetail, HazardLevel
from civicgrid.hazards.workflow import CODE

AGE_BUCKETS = ((0, 7, "7天以内"), (8, 30, "8–30天"), (31, 90, "31–90天"), (91, None, "90天以上"))


@dataclass
class Figures:
    start: date
    end: date
    inspections: int = 0
    found: int = 0
    closed: int = 0
    found_closed: int = 0  # of ``found``, 销号 by the end of the period
    closed_on_time: int = 0
    major: int = 0
    by_level: dict = field(default_factory=dict)
    open_by_age: list = field(default_factory=list)

    @property
    def fix_rate(self) -> float | None:
        return round(100 * self.found_closed / self.found, 1) if self.found else None

    @property
    def on_time_rate(self) -> float | None:
        return round(100 * self.closed_on_time / self.closed, 1) if self.closed else None

    def as_dict(self) -> dict:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "inspections": self.inspections,
            "found": self.found,
            "closed": self.closed,
            "found_closed": self.found_closed,
            "closed_on_time": self.closed_on_time,
            "fix_rate": self.fix_rate,
            "on_time_rate": self.on_time_rate,
            "major": self.major,
            "by_level": self.by_level,
            "open_by_age": self.open_by_age,
        }


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return (
        datetime.combine(start, time.min, tzinfo=clock.SHANGHAI),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=clock.SHANGHAI),
    )


def figures(*, user, start: date, end: date) -> Figures:
    lo, hi = _bounds(start, end)
    out = Figures(start=start, end=end)
    out.inspections = (
        selectors.visible_inspections(user=user).filter(inspected_at__gte=lo, inspected_at__lt=hi).count()
    )
    details = HazardDetail.objects.filter(case__in=selectors.visible_hazards(user=user))
    found = details.filter(case__created_at__gte=lo, case__created_at__lt=hi).exclude(case__state="void")
    counts = found.aggregate(
        n=Count("pk"),
        general=Count("pk", filter=Q(level=HazardLevel.GENERAL)),
        serious=Count("pk", filter=Q(level=HazardLevel.SERIOUS)),
        major=Count("pk", filter=Q(level=HazardLevel.MAJOR)),
    )
    out.found, out.major = counts["n"], counts["major"]
    out.found_closed = found.filter(case__state="closed", case__closed_at__lt=hi).count()
    out.by_level = {lv: counts[lv] for lv in HazardLevel.values}
    closed = details.filter(case__state="closed", case__closed_at__gte=lo, case__closed_at__lt=hi)
    agg = closed.aggregate(
        n=Count("pk"),
        on_time=Count(
            "pk",
            filter=Q(fixed_at__isnull=False, rectify_due_at__isnull=False, fixed_at__lte=F("rectify_due_at")),
        ),
    )
    out.closed, out.closed_on_time = agg["n"], agg["on_time"]
    out.open_by_age = open_by_age(user=user, at=min(hi, clock.now()))
    return out


def open_by_age(*, user, at: datetime) -> list[dict]:
    """Hazards open at ``at`` (found before it, not closed by then), by days since 发现."""
    open_states = procedures.get(CODE).open
    qs = (
        selectors.visible_hazards(user=user)
        .filter(created_at__lt=at)
        .filter(Q(state__in=open_states) | Q(closed_at__gt=at))
    )
    rows = []
    for low, high, label in AGE_BUCKETS:
        q = Q(created_at__lte=at - timedelta(days=low))
        if high is not None:
            q &= Q(created_at__gt=at - timedelta(days=high + 1))
        rows.append({"label": label, "count": qs.filter(q).count()})
    return rows
