"""The rules of 目标考核, as pure functions over plain values (no database): the full-year forecast of an
indicator, its status light (绿灯/黄灯/红灯), 攀高, and the 完成率 of projects. docs/goals.md states each rule in
Chinese; the tests in tests/goals/test_metrics.py pin them on hand-built data.

Amounts are :class:`~decimal.Decimal`; results are rounded half-up to two decimals (a percentage to two decimals
of a percent). ``month`` is N of "1-N月" (1–12).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal(0)
HUNDRED = Decimal(100)
TWELVE = Decimal(12)
CENT = Decimal("0.01")


def q2(value: Decimal | None) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def time_progress(month: int) -> Decimal:
    """时序进度 at the end of month N: N / 12 (a fraction, e.g. 0.75 after September)."""
    return Decimal(month) / TWELVE


# --- indicators -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """1-N月 figures of one indicator (any of them may be unknown)."""

    month: int
    ytd_total: Decimal | None = None
    ytd_growth: Decimal | None = None  # % vs 上年同期
    prior_ytd: Decimal | None = None  # 上年同期累计 (1-N月 of last year)
    rank: int | None = None  # 全区排名 (1 = best)

    @property
    def empty(self) -> bool:
        return self.ytd_total is None and self.ytd_growth is None


@dataclass(frozen=True)
class Rule:
    """What the forecast and the status need to know about an indicator."""

    basis: str = "total"  # total / growth / ratio / done
    target_total: Decimal | None = None
    target_growth: Decimal | None = None
    higher_is_better: bool = True
    forecast_mode: str = "auto"  # auto / none
    last_year_total: Decimal | None = None
    override_total: Decimal | None = None
    override_growth: Decimal | None = None
    margin: Decimal = Decimal(5)  # 黄灯区间: % of the target (总量) or percentage points (增幅/比率)


class Method:
    SEASONAL = "seasonal"
    LINEAR = "linear"
    CARRY = "carry"
    MANUAL = "manual"
    NONE = "none"


METHOD_LABELS = {
    Method.SEASONAL: "季节占比（上年同期占上年全年）",
    Method.LINEAR: "线性进度（累计 ÷ N × 12）",
    Method.CARRY: "沿用累计值",
    Method.MANUAL: "人工预计",
    Method.NONE: "不预测",
}


@dataclass(frozen=True)
class Forecast:
    method: str
    total: Decimal | None = None
    growth: Decimal | None = None
    inputs: tuple[str, ...] = ()  # the inputs, in words, for the page

    @property
    def label(self) -> str:
        return METHOD_LABELS[self.method]


def latest(figures: Mapping[int, Figures], month: int) -> Figures | None:
    """The figures of month ``month``, or — a missing month — of the latest earlier month that has any."""
    for m in range(month, 0, -1):
        f = figures.get(m)
        if f is not None and not f.empty:
            return f
    return None


def _growth_of(total: Decimal, last_year_total: Decimal | None) -> Decimal | None:
    if last_year_total is None or last_year_total <= 0:
        return None
    return (total / last_year_total - 1) * HUNDRED


def forecast(rule: Rule, fig: Figures | None) -> Forecast:
    """预计全年. Order: a manual override wins; no figures / 不预测 / 完成与否 → none; 比率 → the year-to-date value
    carried; 总量/增幅 with a year-to-date total → seasonal share when last year's 同期累计 and 全年 are both known
    (0 < 同期 ≤ 全年), else linear pace; only a growth known → that growth carried."""
    if rule.override_total is not None or rule.override_growth is not None:
        growth = rule.override_growth
        if growth is None and rule.override_total is not None:
            growth = _growth_of(rule.override_total, rule.last_year_total)
        return Forecast(Method.MANUAL, q2(rule.override_total), q2(growth), ("人工预计（见理由）",))
    if fig is None or rule.forecast_mode == "none" or rule.basis == "done":
        return Forecast(Method.NONE)
    n = fig.month
    if rule.basis == "ratio":
        return Forecast(
            Method.CARRY, q2(fig.ytd_total), q2(fig.ytd_growth), (f"1-{n}月累计 {q2(fig.ytd_total)}",)
        )
    if fig.ytd_total is None:
        return Forecast(Method.CARRY, None, q2(fig.ytd_growth), (f"1-{n}月累计增幅 {q2(fig.ytd_growth)}%",))
    ly, prior = rule.last_year_total, fig.prior_ytd
    if ly is not None and prior is not None and ZERO < prior <= ly:
        share = prior / ly
        total = fig.ytd_total / share
        return Forecast(
            Method.SEASONAL,
            q2(total),
            q2(_growth_of(total, ly)),
            (
                f"1-{n}月累计 {q2(fig.ytd_total)}",
                f"上年同期累计 {q2(prior)}",
                f"上年全年 {q2(ly)}",
                f"季节占比 {q2(share * HUNDRED)}%",
            ),
        )
    total = fig.ytd_total / Decimal(n) * TWELVE
    growth = _growth_of(total, ly)
    inputs = [f"1-{n}月累计 {q2(fig.ytd_total)}", f"已过 {n} 个月"]
    if growth is None and fig.ytd_growth is not None:
        growth = fig.ytd_growth
        inputs.append(f"增幅沿用累计增幅 {q2(fig.ytd_growth)}%")
    elif ly is not None:
        inputs.append(f"上年全年 {q2(ly)}")
    return Forecast(Method.LINEAR, q2(total), q2(growth), tuple(inputs))


class Light:
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"
    NONE = "none"


LIGHT_LABELS = {Light.GREEN: "绿灯", Light.YELLOW: "黄灯", Light.RED: "红灯", Light.NONE: "—"}
_ORDER = {Light.GREEN: 0, Light.YELLOW: 1, Light.RED: 2}


@dataclass(frozen=True)
class Status:
    light: str
    reasons: tuple[str, ...] = field(default=())

    @property
    def label(self) -> str:
        return LIGHT_LABELS[self.light]


def compare(value: Decimal, target: Decimal, *, higher_is_better: bool, band: Decimal) -> str:
    """绿灯: at or beyond the target in the good direction; 黄灯: short of it by at most ``band``; else 红灯."""
    gap = value - target if higher_is_better else target - value
    if gap >= 0:
        return Light.GREEN
    return Light.YELLOW if -gap <= band else Light.RED


def status(rule: Rule, fig: Figures | None, fc: Forecast) -> Status:
    """The status light. 完成与否: done (累计 ≥ 1) → 绿灯, not yet done → 黄灯 before December, 红灯 in it.
    Otherwise each target the indicator has (总量, 增幅) is compared, and the worst light wins: with a forecast the
    forecast against the target; without one (不预测) the year-to-date total against 时序进度 × 目标总量 and the
    year-to-date growth (or ratio) against the target itself. Nothing to compare → no light."""
    if fig is None and fc.method != Method.MANUAL:
        return Status(Light.NONE, ("无完成数据",))
    if rule.basis == "done":
        if fig.ytd_total is not None and fig.ytd_total >= 1:
            return Status(Light.GREEN, ("已完成",))
        if fig.month < 12:
            return Status(Light.YELLOW, (f"截至{fig.month}月未完成",))
        return Status(Light.RED, ("全年未完成",))
    margin = rule.margin
    lights: list[str] = []
    reasons: list[str] = []
    better = rule.higher_is_better
    cmp = "≥" if better else "≤"
    if rule.target_total is not None:
        band = abs(rule.target_total) * margin / HUNDRED
        if fc.method != Method.NONE and fc.total is not None:
            lights.append(compare(fc.total, rule.target_total, higher_is_better=better, band=band))
            reasons.append(f"预计全年总量 {fc.total} 对目标 {q2(rule.target_total)}（达标需{cmp}目标）")
        elif fc.method == Method.NONE and fig is not None and fig.ytd_total is not None:
            due = q2(rule.target_total * time_progress(fig.month))
            lights.append(
                compare(fig.ytd_total, due, higher_is_better=better, band=q2(band * time_progress(fig.month)))
            )
            reasons.append(
                f"1-{fig.month}月累计 {q2(fig.ytd_total)} 对时序进度目标 {due}"
                f"（{fig.month}/12 × {q2(rule.target_total)}）"
            )
    if rule.target_growth is not None:
        value = fc.growth if fc.method != Method.NONE else (fig.ytd_growth if fig is not None else None)
        if rule.basis == "ratio" and value is None:
            value = fc.total if fc.method != Method.NONE else (fig.ytd_total if fig is not None else None)
        if value is not None:
            lights.append(compare(value, rule.target_growth, higher_is_better=better, band=margin))
            what = "预计全年增幅" if fc.method != Method.NONE else "累计增幅"
            reasons.append(f"{what} {q2(value)}% 对目标 {q2(rule.target_growth)}%")
    if not lights:
        return Status(Light.NONE, ("无可比较的目标或数据",))
    return Status(max(lights, key=_ORDER.__getitem__), tuple(reasons))


def climbed(figures: Mapping[int, Figures], month: int) -> bool:
    """攀高: the 全区排名 at the latest month ≤ N that has one is better (a smaller number) than at the latest
    earlier month that has one. Fewer than two ranks → no."""
    ranks = [figures[m].rank for m in sorted(figures) if m <= month and figures[m].rank is not None]
    return len(ranks) >= 2 and ranks[-1] < ranks[-2]


# --- projects -------------------------------------------------------------------------------------------


def rate(done: Decimal, plan: Decimal) -> Decimal | None:
    """完成率 % = 累计完成投资 ÷ 年度计划投资 × 100 (no rate when the plan is 0); may exceed 100."""
    if plan is None or plan <= 0:
        return None
    return q2(Decimal(done) / Decimal(plan) * HUNDRED)


def pooled_rate(pairs: Iterable[tuple[Decimal, Decimal]]) -> tuple[Decimal, Decimal, Decimal | None]:
    """(Σ完成, Σ计划, Σ完成 ÷ Σ计划 %) over (完成, 计划) pairs — never an average of the projects' rates."""
    done = plan = ZERO
    for d, p in pairs:
        done += Decimal(d)
        plan += Decimal(p)
    return done, plan, rate(done, plan)


def cumulative_at(progress: Mapping[int, Decimal], month: int) -> tuple[Decimal, int | None]:
    """累计完成投资 at the end of month N: the latest report at or before N (cumulative figures carry over a
    month without a report); none yet → 0. Returns (amount, the month it was reported)."""
    for m in range(month, 0, -1):
        if m in progress and progress[m] is not None:
            return Decimal(progress[m]), m
    return ZERO, None


def lagging(done: Decimal, plan: Decimal, month: int) -> bool:
    """滞后: 完成率 below 时序进度 (N/12) at the end of month N; a project without a plan is never flagged."""
    if plan is None or plan <= 0:
        return False
    return Decimal(done) < Decimal(plan) * time_progress(month)


STAGE_UNITS = {"elevator": "台", "old_estate": "个小区"}


def stage_sentence(category: str, stages: Mapping[str, int]) -> str:
    """电梯加装 / 老旧小区改造 stage counts as the report says them: "38台已投入使用，5台已完工待交付，11台正在施工，
    16台正在按程序申报" (stages with 0 left out; nothing at all → "")."""
    unit = STAGE_UNITS.get(category, "个")
    parts = [
        (stages.get("stage_in_use", 0), "已投入使用"),
        (stages.get("stage_pending", 0), "已完工待交付"),
        (stages.get("stage_building", 0), "正在施工"),
        (stages.get("stage_applied", 0), "正在按程序申报"),
    ]
    return "，".join(f"{n}{unit}{what}" for n, what in parts if n)


# --- milestones ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MilestoneState:
    """How a 节点 stands on ``today``: code (done / late_done / overdue / pending / missing), days late, words."""

    code: str
    days_late: int = 0

    @property
    def label(self) -> str:
        return {
            "done": "按期完成",
            "late_done": f"延期{self.days_late}天完成",
            "overdue": f"逾期{self.days_late}天未完成",
            "pending": "未到计划日期",
            "missing": "未定计划",
        }[self.code]

    @property
    def late(self) -> bool:
        return self.code in ("late_done", "overdue")


def milestone_state(planned: date | None, actual: date | None, today: date) -> MilestoneState:
    """按期完成: actual ≤ planned; 延期完成: actual > planned; 逾期: no actual and planned < today; 未到: planned ≥
    today; 未定计划: no planned date (an actual date alone counts as done on time — nothing to be late against)."""
    if planned is None:
        return MilestoneState("done") if actual is not None else MilestoneState("missing")
    if actual is not None:
        late = (actual - planned).days
        return MilestoneState("late_done", late) if late > 0 else MilestoneState("done")
    if planned < today:
        return MilestoneState("overdue", (today - planned).days)
    return MilestoneState("pending")


def span(dates: Iterable[date | None]) -> tuple[date, date] | None:
    """The Gantt's time axis: from the first day of the earliest month to the last day of the latest month."""
    known = [d for d in dates if d is not None]
    if not known:
        return None
    lo, hi = min(known), max(known)
    start = lo.replace(day=1)
    end = (hi.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return start, end


def position(d: date, axis: tuple[date, date]) -> Decimal:
    """Where ``d`` lies on ``axis``, in % from the left (0–100, two decimals)."""
    start, end = axis
    total = (end - start).days + 1
    return q2(Decimal((d - start).days) * HUNDRED / Decimal(total))
