"""The definition registry: every case figure defined once (name, label, formula, unit, numerator,
denominator, period rule). Dashboards, exports, rankings, reports, ``civicgrid stats`` and ``/api/v1/stats/``
read these definitions and compute values only through :func:`evaluate`; docs/metrics.md explains each one.

A figure is computed from the counters of :class:`civicgrid.metrics.models.DailyRollup` summed over a period:

- ``count``: one counter;
- ``rate``: 100 × numerator / denominator, rounded to 0.1 (``None`` when the denominator is 0, shown “—”);
- ``average``: numerator / denominator / ``scale`` (e.g. seconds → hours), rounded to 0.1, ``None`` on 0.

Other ledgers may add their own figures with :func:`register` (over counters they provide to :func:`evaluate`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

COUNT, RATE, AVERAGE = "count", "rate", "average"


@dataclass(frozen=True)
class Metric:
    name: str  # the JSON key
    label: str  # the Chinese name shown to people
    kind: str  # count | rate | average
    unit: str  # 件 | % | 小时
    formula: str  # the formula in words (Chinese)
    period: str  # which timestamp puts a case into the period
    numerator: str  # a rollup counter
    denominator: str = ""  # a rollup counter (rates and averages)
    scale: float = 1.0  # averages: divide by this (3600: seconds → hours)

    def value(self, counters: Mapping[str, int | float]) -> int | float | None:
        num = counters.get(self.numerator, 0) or 0
        if self.kind == COUNT:
            return int(num)
        den = counters.get(self.denominator, 0) or 0
        if not den:
            return None
        if self.kind == RATE:
            return round(100 * num / den, 1)
        return round(num / den / self.scale, 1)

    def describe(self) -> dict:
        return {
            "name": self.name,
            "label": self.label,
            "kind": self.kind,
            "unit": self.unit,
            "formula": self.formula,
            "period": self.period,
            "numerator": self.numerator,
            "denominator": self.denominator or None,
        }


REGISTRY: dict[str, Metric] = {}


def register(metric: Metric, *, replace: bool = False) -> Metric:
    if metric.name in REGISTRY and not replace:
        raise ValueError(f"metric {metric.name!r} is already defined")
    if metric.kind not in (COUNT, RATE, AVERAGE):
        raise ValueError(f"metric {metric.name!r}: unknown kind {metric.kind!r}")
    if metric.kind != COUNT and not metric.denominator:
        raise ValueError(f"metric {metric.name!r}: a {metric.kind} needs a denominator")
    REGISTRY[metric.name] = metric
    return metric


def get(name: str) -> Metric:
    return REGISTRY[name]


def all_metrics() -> list[Metric]:
    return list(REGISTRY.values())


def evaluate(counters: Mapping[str, int | float], names: list[str] | None = None) -> dict:
    """``{name: value}`` for every registered figure (or those in ``names``) over summed ``counters``."""
    return {m.name: m.value(counters) for m in REGISTRY.values() if names is None or m.name in names}


BY_CREATED = "上报时间（Case.created_at，北京时间自然日）"
BY_ACCEPTED = "立案时间（Case.accepted_at）"
BY_DISPATCHED = "最近一次派遣时间（Case.dispatched_at：派遣、改派、重办都会更新）"
BY_CLOSED = "办结时间（Case.closed_at，且工单处于其办理程序的“办结”状态组）"

for _m in (
    Metric("received", "受理数", COUNT, "件", "期内上报（新建）的工单数，不含作废", BY_CREATED, "received"),
    Metric("accepted", "立案数", COUNT, "件", "期内立案的工单数，不含作废、已合并", BY_ACCEPTED, "accepted"),
    Metric(
        "dispatched",
        "派遣数",
        COUNT,
        "件",
        "期内（最近一次）派遣的工单数，不含作废",
        BY_DISPATCHED,
        "dispatched",
    ),
    Metric("done", "办结数", COUNT, "件", "期内办结（结案/已回访）的工单数", BY_CLOSED, "done"),
    Metric(
        "on_time_rate",
        "按期办结率",
        RATE,
        "%",
        "期内办结且从未超时（未亮过红灯）的工单数 ÷ 期内办结数 × 100%",
        BY_CLOSED,
        "done_on_time",
        "done",
    ),
    Metric(
        "response_rate",
        "响应率",
        RATE,
        "%",
        "期内派遣的工单中，派遣后在分类“派遣时限”内签收的工单数 ÷ 期内派遣数 × 100%",
        BY_DISPATCHED,
        "responded",
        "dispatched",
    ),
    Metric(
        "resolve_rate",
        "解决率",
        RATE,
        "%",
        "期内立案的工单中，截至统计时已办结的工单数 ÷ 期内立案数 × 100%",
        BY_ACCEPTED,
        "accepted_done",
        "accepted",
    ),
    Metric(
        "satisfaction_rate",
        "满意率",
        RATE,
        "%",
        "期内办结的工单中（满意 + 基本满意）÷ 已评价数 × 100%",
        BY_CLOSED,
        "rated_good",
        "rated",
    ),
    Metric(
        "rework_rate",
        "返工率",
        RATE,
        "%",
        "期内办结的工单中，核查不通过返工过至少一次的工单数 ÷ 期内办结数 × 100%",
        BY_CLOSED,
        "reworked",
        "done",
    ),
    Metric(
        "extension_rate",
        "延期率",
        RATE,
        "%",
        "期内办结的工单中，有过获批延期申请的工单数 ÷ 期内办结数 × 100%",
        BY_CLOSED,
        "extended",
        "done",
    ),
    Metric(
        "repeat_rate",
        "重复率",
        RATE,
        "%",
        "期内上报的工单中，被合并到另一工单（重复反映）的工单数 ÷ 期内受理数 × 100%",
        BY_CREATED,
        "merged",
        "received",
    ),
    Metric(
        "proactive_rate",
        "主动发现率",
        RATE,
        "%",
        "期内上报的工单中，来源为“网格员巡查”的工单数 ÷ 期内受理数 × 100%",
        BY_CREATED,
        "received_grid",
        "received",
    ),
    Metric(
        "avg_handle_hours",
        "平均办理时长",
        AVERAGE,
        "小时",
        "期内办结且有立案时间的工单，Σ(办结时间 − 立案时间) ÷ 件数，单位小时（自然时间）",
        BY_CLOSED,
        "handle_seconds",
        "handle_n",
        3600.0,
    ),
):
    register(_m)

# the counters behind the figures that are not themselves a figure, shown as plain counts in the JSON
RAW_COUNTERS: tuple[str, ...] = (
    "received_grid",
    "merged",
    "rejected",
    "accepted_done",
    "responded",
    "done_on_time",
    "rated",
    "rated_satisfied",
    "rated_basic",
    "reworked",
    "extended",
)


def with_derived(counters: Mapping[str, int]) -> dict:
    """The summed counters plus ``rated_good`` = 满意 + 基本满意."""
    out = dict(counters)
    out["rated_good"] = (out.get("rated_satisfied") or 0) + (out.get("rated_basic") or 0)
    return out
