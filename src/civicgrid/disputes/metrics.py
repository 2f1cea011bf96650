"""矛盾纠纷 figures (公式见 docs/disputes.md): one period of whole dates, over the disputes the user sees.

- 受理数: disputes whose 受理日期 (``received_on``) falls in the period;
- 调解成功数 / 调解不成功数 / 终止数: disputes whose 调解终结日期 (``ended_on``: the date of the 调解成功 /
  调解不成功 / 终止调解 move, or the file's 结案日期 for an imported row) falls in the period, by outcome;
- 调解成功率 = 成功 / (成功 + 不成功 + 终止) of those ended in the period (``None`` when none ended);
- 警调衔接数: of 受理数, source 警调衔接 (with 成功 among those ended in the period);
- the same by 纠纷来源 and by 调解组织 (受理 by intake date, outcomes by closing date, as above).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, Q

from civicgrid.disputes import selectors
from civicgrid.disputes.models import DisputeDetail, DisputeSource, MediationOrg, Outcome


def rate(success: int, ended: int) -> float | None:
    return round(100 * success / ended, 1) if ended else None


@dataclass
class Row:
    key: str
    label: str
    received: int = 0
    success: int = 0
    failed: int = 0
    terminated: int = 0

    @property
    def ended(self) -> int:
        return self.success + self.failed + self.terminated

    @property
    def success_rate(self) -> float | None:
        return rate(self.success, self.ended)

    def as_dict(self) -> dict:
        return {
            "key": self.key,
            "label": self.label,
            "received": self.received,
            "success": self.success,
            "failed": self.failed,
            "terminated": self.terminated,
            "ended": self.ended,
            "success_rate": self.success_rate,
        }


@dataclass
class Figures:
    start: date
    end: date
    total: Row = field(default_factory=lambda: Row("total", "合计"))
    police_received: int = 0
    police_success: int = 0
    police_ended: int = 0
    by_source: list[Row] = field(default_factory=list)
    by_org: list[Row] = field(default_factory=list)
    by_type: list[Row] = field(default_factory=list)

    @property
    def police_success_rate(self) -> float | None:
        return rate(self.police_success, self.police_ended)

    def as_dict(self) -> dict:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            **{k: v for k, v in self.total.as_dict().items() if k not in ("key", "label")},
            "police_received": self.police_received,
            "police_success": self.police_success,
            "police_ended": self.police_ended,
            "police_success_rate": self.police_success_rate,
            "by_source": [r.as_dict() for r in self.by_source],
            "by_org": [r.as_dict() for r in self.by_org],
            "by_type": [r.as_dict() for r in self.by_type],
        }


_OUTCOME_COUNTS = {
    "success": Count("pk", filter=Q(outcome=Outcome.SUCCESS)),
    "failed": Count("pk", filter=Q(outcome=Outcome.FAILED)),
    "terminated": Count("pk", filter=Q(outcome=Outcome.TERMINATED)),
}


def _grouped(received, ended, key: str, labels: dict) -> list[Row]:
    rows = {k: Row(str(k), label) for k, label in labels.items()}
    for r in received.values(key).annotate(n=Count("pk")):
        rows.setdefault(r[key], Row(str(r[key]), str(r[key]))).received = r["n"]
    for r in ended.values(key).annotate(**_OUTCOME_COUNTS):
        row = rows.setdefault(r[key], Row(str(r[key]), str(r[key])))
        row.success, row.failed, row.terminated = r["success"], r["failed"], r["terminated"]
    return list(rows.values())


def figures(*, user, start: date, end: date) -> Figures:
    out = Figures(start=start, end=end)
    details = DisputeDetail.objects.filter(case__in=selectors.visible_disputes(user=user))
    received = details.filter(received_on__gte=start, received_on__lte=end)
    ended = details.filter(ended_on__gte=start, ended_on__lte=end).exclude(outcome="")
    out.total.received = received.count()
    agg = ended.aggregate(**_OUTCOME_COUNTS)
    out.total.success, out.total.failed, out.total.terminated = (
        agg["success"],
        agg["failed"],
        agg["terminated"],
    )
    police = DisputeSource.POLICE
    out.police_received = received.filter(source=police).count()
    pol = ended.filter(source=police).aggregate(**_OUTCOME_COUNTS)
    out.police_success = pol["success"]
    out.police_ended = pol["success"] + pol["failed"] + pol["terminated"]
    out.by_source = _grouped(received, ended, "source", dict(DisputeSource.choices))
    used_orgs = set(received.values_list("org_id", flat=True)) | set(ended.values_list("org_id", flat=True))
    org_labels = dict(MediationOrg.objects.filter(pk__in=used_orgs).values_list("pk", "name"))
    out.by_org = sorted(
        _grouped(received, ended, "org_id", org_labels), key=lambda r: (-r.received, -r.ended, r.label)
    )
    names = selectors.types().values_list("name", flat=True)
    type_rows = _grouped(received, ended, "dispute_type__name", {n: n for n in names})
    out.by_type = [r for r in type_rows if r.received or r.ended]
    return out
