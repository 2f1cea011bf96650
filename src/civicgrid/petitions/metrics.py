"""信访 figures (公式与口径见 docs/petitions.md): one period of whole Asia/Shanghai days, over the 信访 and 接待
records the user sees. Every count is by the date of its own event (登记 / 受理 / 办结 / 化解 / 接待):

- 登记数: 信访 whose 登记时间 falls in the period;
- 受理数: 信访 whose 受理时间 (受理告知) falls in the period (不予受理 ones never are);
- 办结数: 信访 whose first 办结时间 falls in the period (a later 复查/复核 does not count it again);
- 办结率 = 期内受理且在期末前已办结 / 受理数 (one cohort: never above 100%);
- 按期办结率 = 期内办结中按期者 / 办结数 (按期: 办结时间 ≤ 办理期限 = 受理 + 60 自然日, plus an approved extension,
  counted by the 民法典 rule);
- 初信初访化解率 = 期内受理的初信初访中，期末前已办结、且（截至统计时）未申请复查/复核、也未被后来的重复信访关联者
  / 期内受理的初信初访数;
- 重复信访数: 期内登记的重复信访; 越级访: 期内登记的越级信访 by level (赴市/赴省/进京), 零进京 when 进京 = 0;
- 积案化解数: 积案 whose 化解日期 falls in the period; 积案数 (now): open past their limit, or 复查/复核 twice, not
  yet 化解;
- 接待批次 / 接待人次: 接待 records whose 接待日期 falls in the period (count; sum of 人次).
A rate with a zero denominator is ``None`` (shown “—”).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Exists, F, OuterRef, Q, Sum

from civicgrid.core import clock
from civicgrid.petitions import selectors
from civicgrid.petitions.models import LeapLevel, PetitionDetail, PetitionKind


@dataclass
class Figures:
    start: date
    end: date
    registered: int = 0
    accepted: int = 0
    accepted_done: int = 0  # of ``accepted``, 办结 by the end of the period
    done: int = 0
    done_on_time: int = 0
    first: int = 0  # 初信初访 受理 in the period
    first_resolved: int = 0
    repeat: int = 0
    leapfrog: dict = field(default_factory=dict)
    backlog_resolved: int = 0
    backlog_open: int = 0
    reception_batches: int = 0
    reception_people: int = 0

    @staticmethod
    def _rate(n: int, d: int) -> float | None:
        return round(100 * n / d, 1) if d else None

    @property
    def done_rate(self) -> float | None:
        return self._rate(self.accepted_done, self.accepted)

    @property
    def on_time_rate(self) -> float | None:
        return self._rate(self.done_on_time, self.done)

    @property
    def first_resolve_rate(self) -> float | None:
        return self._rate(self.first_resolved, self.first)

    @property
    def leapfrog_total(self) -> int:
        return sum(self.leapfrog.values())

    @property
    def zero_beijing(self) -> bool:
        return self.leapfrog.get(LeapLevel.BEIJING, 0) == 0

    def as_dict(self) -> dict:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "registered": self.registered,
            "accepted": self.accepted,
            "accepted_done": self.accepted_done,
            "done": self.done,
            "done_on_time": self.done_on_time,
            "done_rate": self.done_rate,
            "on_time_rate": self.on_time_rate,
            "first": self.first,
            "first_resolved": self.first_resolved,
            "first_resolve_rate": self.first_resolve_rate,
            "repeat": self.repeat,
            "leapfrog": self.leapfrog,
            "leapfrog_total": self.leapfrog_total,
            "zero_beijing": self.zero_beijing,
            "backlog_resolved": self.backlog_resolved,
            "backlog_open": self.backlog_open,
            "reception_batches": self.reception_batches,
            "reception_people": self.reception_people,
        }


def bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return (
        datetime.combine(start, time.min, tzinfo=clock.SHANGHAI),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=clock.SHANGHAI),
    )


def figures(*, user, start: date, end: date) -> Figures:
    lo, hi = bounds(start, end)
    out = Figures(start=start, end=end)
    details = PetitionDetail.objects.filter(case__in=selectors.visible_petitions(user=user))
    reg = details.filter(registered_at__gte=lo, registered_at__lt=hi).aggregate(
        n=Count("pk"),
        repeat=Count("pk", filter=Q(kind=PetitionKind.REPEAT)),
        **{lv: Count("pk", filter=Q(kind=PetitionKind.LEAPFROG, leap_level=lv)) for lv in LeapLevel.values},
    )
    out.registered, out.repeat = reg["n"], reg["repeat"]
    out.leapfrog = {lv: reg[lv] for lv in LeapLevel.values}
    accepted = details.filter(accepted_at__gte=lo, accepted_at__lt=hi)
    later_repeat = Exists(PetitionDetail.objects.filter(earlier=OuterRef("case_id")))
    acc = accepted.annotate(repeated=later_repeat).aggregate(
        n=Count("pk"),
        done=Count("pk", filter=Q(done_at__lt=hi)),
        first=Count("pk", filter=Q(kind=PetitionKind.FIRST)),
        first_resolved=Count(
            "pk", filter=Q(kind=PetitionKind.FIRST, done_at__lt=hi, reopen_count=0, repeated=False)
        ),
    )
    out.accepted, out.accepted_done = acc["n"], acc["done"]
    out.first, out.first_resolved = acc["first"], acc["first_resolved"]
    done = details.filter(done_at__gte=lo, done_at__lt=hi).aggregate(
        n=Count("pk"),
        on_time=Count("pk", filter=Q(handle_due_at__isnull=False, done_at__lte=F("handle_due_at"))),
    )
    out.done, out.done_on_time = done["n"], done["on_time"]
    out.backlog_resolved = details.filter(resolved_at__gte=start, resolved_at__lte=end).count()
    out.backlog_open = (
        selectors.petition_rows(user=user, backlog=True).filter(resolved_at__isnull=True).count()
    )
    rec = (
        selectors.visible_receptions(user=user)
        .filter(received_on__gte=start, received_on__lte=end)
        .aggregate(n=Count("pk"), people=Sum("people"))
    )
    out.reception_batches, out.reception_people = rec["n"], rec["people"] or 0
    return out
