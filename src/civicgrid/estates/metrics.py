"""The estates figures, each defined once as a :class:`civicgrid.metrics.registry.Metric` (name, label, formula,
numerator, denominator; the registry's rounding and "— on a zero denominator" rule) and evaluated here over counts
of this app's rows. They are not put into the registry itself: its :func:`~civicgrid.metrics.registry.evaluate`
runs every registered figure over the case rollup counters (dashboards, ``/api/v1/stats/``), which hold none
of these.

- 楼宇注册率 = 注册地在本街道的入驻单位数 ÷ 入驻单位数 × 100% (at a date: moved in on or before it, not moved out
  on or before it); per building, and per 街道 over its 重点楼宇.
- 专项排查 覆盖率 = (已排查无问题 + 发现问题) ÷ 排查对象数 × 100%; 完成率 also counts 无法联系/入户.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.db.models import Count, Q, QuerySet

from civicgrid.core import clock
from civicgrid.estates.models import CampaignTarget, EnterpriseProfile, TargetResult
from civicgrid.metrics.registry import RATE, Metric

REGISTRATION_RATE = Metric(
    "building_registration_rate",
    "楼宇注册率",
    RATE,
    "%",
    "注册地在本街道的入驻单位数 ÷ 入驻单位数 × 100%（入驻单位：统计日已入驻且未迁出；街道口径只计重点楼宇）",
    "统计日（默认今天）",
    "registered_here",
    "occupants",
)
COVERAGE_RATE = Metric(
    "campaign_coverage_rate",
    "排查覆盖率",
    RATE,
    "%",
    "（已排查无问题 + 发现问题）÷ 排查对象数 × 100%",
    "截至统计时",
    "reached",
    "targets",
)
DONE_RATE = Metric(
    "campaign_done_rate",
    "排查完成率",
    RATE,
    "%",
    "（已排查无问题 + 发现问题 + 无法联系/入户）÷ 排查对象数 × 100%",
    "截至统计时",
    "attempted",
    "targets",
)


def occupants(qs: QuerySet[EnterpriseProfile], as_of: date | None = None) -> QuerySet[EnterpriseProfile]:
    as_of = as_of or clock.local_now().date()
    return qs.filter(Q(moved_in_on__isnull=True) | Q(moved_in_on__lte=as_of)).filter(
        Q(moved_out_on__isnull=True) | Q(moved_out_on__gt=as_of)
    )


def registration(enterprises: QuerySet[EnterpriseProfile], *, as_of: date | None = None) -> dict:
    """``{building_id: {"occupants", "registered_here", "rate"}}`` plus ``"total"`` over all of ``enterprises``."""
    rows = (
        occupants(enterprises, as_of)
        .values("building_id")
        .annotate(occupants=Count("pk"), registered_here=Count("pk", filter=Q(registered_here=True)))
    )
    out: dict = {}
    total = {"occupants": 0, "registered_here": 0}
    for r in rows:
        counters = {"occupants": r["occupants"], "registered_here": r["registered_here"]}
        out[r["building_id"]] = {**counters, "rate": REGISTRATION_RATE.value(counters)}
        total["occupants"] += r["occupants"]
        total["registered_here"] += r["registered_here"]
    out["total"] = {**total, "rate": REGISTRATION_RATE.value(total)}
    return out


def street_registration(enterprises: QuerySet[EnterpriseProfile], *, as_of: date | None = None) -> dict:
    """The 街道 figure: over the 重点楼宇 only (``{street_id: {...}}``)."""
    rows = (
        occupants(enterprises.filter(building__estate_profile__is_key=True), as_of)
        .values("street_id", "street__name")
        .annotate(occupants=Count("pk"), registered_here=Count("pk", filter=Q(registered_here=True)))
        .order_by("street_id")
    )
    return {
        r["street_id"]: {
            "street": r["street__name"],
            "occupants": r["occupants"],
            "registered_here": r["registered_here"],
            "rate": REGISTRATION_RATE.value(r),
        }
        for r in rows
    }


def _counters(c: dict) -> dict:
    c["reached"] = c.get(TargetResult.CHECKED, 0) + c.get(TargetResult.PROBLEM, 0)
    c["attempted"] = c["reached"] + c.get(TargetResult.UNREACHABLE, 0)
    c["coverage"] = COVERAGE_RATE.value(c)
    c["done"] = DONE_RATE.value(c)
    return c


def coverage(targets: QuerySet[CampaignTarget], *, by: str = "community") -> list[dict]:
    """Rows ``{"key", "label", "targets", <result>: n, "reached", "attempted", "coverage", "done"}`` by
    ``community`` / ``grid`` / ``worker`` (a target counts for each 网格员 of its grid), and a last total row."""
    group = {"community": ("grid__community_id", "grid__community__name"), "grid": ("grid_id", "grid__name")}
    if by == "worker":
        key, label = "grid__workers__id", "grid__workers__full_name"
    elif by in group:
        key, label = group[by]
    else:
        raise ValueError(by)
    rows: dict = defaultdict(lambda: {"targets": 0})
    totals: dict = {"key": None, "label": "合计", "targets": 0}
    for r in targets.values(key, label, "result").annotate(n=Count("pk", distinct=True)).order_by(label):
        if r[key] is None and by == "worker":
            r = {**r, label: "（网格无网格员）"}
        row = rows[r[key]]
        row["key"], row["label"] = r[key], r[label]
        row["targets"] += r["n"]
        row[r["result"]] = row.get(r["result"], 0) + r["n"]
    for r in targets.values("result").annotate(n=Count("pk")):
        totals["targets"] += r["n"]
        totals[r["result"]] = r["n"]
    out = [_counters(dict(r)) for r in rows.values()]
    out.sort(key=lambda r: (r["coverage"] is None, r["coverage"] or 0, r["label"] or ""))
    return [*out, _counters(totals)]


def ledger_summary(*, user, start: date, end: date):
    """出租房·楼宇 figures for the dashboards and the work report (registered with metrics.ledgers): 重点楼宇 and
    their 入驻单位 with the 楼宇注册率 (as of the period's end), 出租房 清退 in the period."""
    from civicgrid.estates import selectors
    from civicgrid.metrics import ledgers

    if not selectors.can_view(user):
        return None
    key_buildings = selectors.building_rows(user=user, key_only=True).count()
    reg = street_registration(selectors.visible_enterprises(user=user), as_of=end)
    occupants_n = sum(r["occupants"] for r in reg.values())
    here = sum(r["registered_here"] for r in reg.values())
    rate = REGISTRATION_RATE.value({"occupants": occupants_n, "registered_here": here})
    cleared = selectors.visible_rentals(user=user).filter(cleared_on__gte=start, cleared_on__lte=end).count()
    return [
        ledgers.Figure("重点楼宇", key_buildings, "座", key="key_buildings", formula="登记为重点楼宇的楼宇数"),
        ledgers.Figure(
            "重点楼宇入驻单位", occupants_n, "家", key="occupants",
            formula="统计期末在重点楼宇中入驻（已入驻、未迁出）的单位数",
        ),
        ledgers.Figure(
            "重点楼宇注册率", rate, "%", key="registration_rate",
            formula="重点楼宇入驻单位中注册地在本街道的 ÷ 入驻单位数 × 100%（统计期末）",
            numerator=here, denominator=occupants_n,
        ),
        ledgers.Figure("清退出租房", cleared, "间", key="cleared", formula="期内清退的违规出租房间数"),
    ]  # fmt: skip
