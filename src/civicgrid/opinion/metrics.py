"""舆情 figures (公式见 docs/opinion.md): one period of whole Asia/Shanghai days over the 舆情 the user sees, all by
**收集时间** (one cohort):

- 收集数: 舆情 whose 收集时间 falls in the period;
- 办结数: of them, those 办结 (状态“办结”或“无需处置”) with 办结时间 before the end of the period;
- 办结率 = 办结数 / 收集数 (never above 100%; ``None`` when nothing was collected);
- 回应数: of them, those with a public 回应 before the end of the period;
- by 研判等级 and by 来源平台: 收集数, 办结数, 办结率 each (not yet 研判: “未研判”).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Q

from civicgrid.core import clock
from civicgrid.opinion import selectors
from civicgrid.opinion.models import OpinionDetail, OpinionLevel, Platform

ENDED = ("closed", "dismissed")


def bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return (
        datetime.combine(start, time.min, tzinfo=clock.SHANGHAI),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=clock.SHANGHAI),
    )


def rate(done: int, total: int) -> float | None:
    return round(100 * done / total, 1) if total else None


@dataclass
class Figures:
    start: date
    end: date
    collected: int = 0
    concluded: int = 0
    responded: int = 0
    by_level: list = field(default_factory=list)
    by_platform: list = field(default_factory=list)

    @property
    def conclude_rate(self) -> float | None:
        return rate(self.concluded, self.collected)

    def as_dict(self) -> dict:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "collected": self.collected,
            "concluded": self.concluded,
            "conclude_rate": self.conclude_rate,
            "responded": self.responded,
            "by_level": self.by_level,
            "by_platform": self.by_platform,
        }


def figures(*, user, start: date, end: date) -> Figures:
    lo, hi = bounds(start, end)
    out = Figures(start=start, end=end)
    cohort = OpinionDetail.objects.filter(
        case__in=selectors.visible_cases(user=user), collected_at__gte=lo, collected_at__lt=hi
    )
    done = Q(case__state__in=ENDED, concluded_at__lt=hi)
    agg = cohort.aggregate(
        n=Count("pk"), done=Count("pk", filter=done), responded=Count("pk", filter=Q(responded_at__lt=hi))
    )
    out.collected, out.concluded, out.responded = agg["n"], agg["done"], agg["responded"]

    def split(key: str, labels: dict) -> list[dict]:
        rows = {r[key]: r for r in cohort.values(key).annotate(n=Count("pk"), done=Count("pk", filter=done))}
        out_rows = []
        for value, label in labels.items():
            r = rows.get(value, {"n": 0, "done": 0})
            out_rows.append(
                {
                    "key": value,
                    "label": label,
                    "collected": r["n"],
                    "concluded": r["done"],
                    "rate": rate(r["done"], r["n"]),
                }
            )
        return out_rows

    out.by_level = split("level", {**dict(OpinionLevel.choices), "": "未研判"})
    out.by_platform = split("platform", dict(Platform.choices))
    return out
