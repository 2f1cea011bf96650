"""Every read of 目标考核 and 重点项目, scoped to the user: the rows of the 街道 in the user's tier
(:func:`civicgrid.places.selectors.tier_q`: a 街道 account its own 街道, a 区 account the 街道 of its 区), and only
for the roles that see the whole 街道 (``Capability.STREET_WIDE_VIEW``: 指挥中心, 值班长, 领导, 系统管理员)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import QuerySet

from civicgrid.accounts.roles import Capability, has_capability
from civicgrid.core import clock, scoping
from civicgrid.core.errors import NotFound
from civicgrid.goals import metrics, workflow
from civicgrid.goals.models import (
    Indicator,
    MicroFlowStep,
    MicroProject,
    MilestoneKind,
    Project,
    ProjectCategory,
    Scorecard,
    StageItem,
)
from civicgrid.metrics import registry as metric_registry
from civicgrid.places import selectors as place_selectors


def can_view(user) -> bool:
    return has_capability(user, Capability.BUSINESS_VIEW) and has_capability(
        user, Capability.STREET_WIDE_VIEW
    )


can_edit = can_view  # the same desks keep the figures (经济发展办 / 党政办 work with the 指挥中心's accounts)


@scoping.register(Scorecard)
def _scorecard_scope(qs: QuerySet, user, action: str) -> QuerySet:
    return qs.filter(pk__in=visible_scorecards(user=user).values("pk"))


@scoping.register(Indicator)
def _indicator_scope(qs: QuerySet, user, action: str) -> QuerySet:
    return qs.filter(scorecard__in=visible_scorecards(user=user))


@scoping.register(Project)
def _project_scope(qs: QuerySet, user, action: str) -> QuerySet:
    return qs.filter(pk__in=visible_projects(user=user).values("pk"))


def visible_scorecards(*, user) -> QuerySet[Scorecard]:
    if not can_view(user):
        return Scorecard.objects.none()
    return place_selectors.in_tier(Scorecard.objects.select_related("street"), user, "street_id")


def visible_projects(*, user) -> QuerySet[Project]:
    if not can_view(user):
        return Project.objects.none()
    return place_selectors.in_tier(Project.objects.select_related("street"), user, "street_id")


def get_scorecard(*, user, pk) -> Scorecard:
    try:
        return visible_scorecards(user=user).get(pk=int(pk))
    except (Scorecard.DoesNotExist, TypeError, ValueError):
        raise NotFound("考核年度不存在或无权查看")


def default_scorecard(*, user) -> Scorecard | None:
    return visible_scorecards(user=user).order_by("-year", "street__code").first()


def get_indicator(*, user, pk) -> Indicator:
    try:
        return (
            Indicator.objects.filter(scorecard__in=visible_scorecards(user=user))
            .select_related("scorecard__street", "override_by")
            .get(pk=int(pk))
        )
    except (Indicator.DoesNotExist, TypeError, ValueError):
        raise NotFound("考核指标不存在或无权查看")


def get_project(*, user, pk) -> Project:
    try:
        return visible_projects(user=user).get(pk=int(pk))
    except (Project.DoesNotExist, TypeError, ValueError):
        raise NotFound("项目不存在或无权查看")


# --- the summary table ----------------------------------------------------------------------------------


def rule_of(indicator: Indicator, margin: Decimal) -> metrics.Rule:
    return metrics.Rule(
        basis=indicator.basis,
        target_total=indicator.target_total,
        target_growth=indicator.target_growth,
        higher_is_better=indicator.higher_is_better,
        forecast_mode=indicator.forecast_mode,
        last_year_total=indicator.last_year_total,
        override_total=indicator.override_total,
        override_growth=indicator.override_growth,
        margin=margin,
    )


@dataclass
class Line:
    indicator: Indicator
    figures: metrics.Figures | None
    forecast: metrics.Forecast
    status: metrics.Status
    climbed: bool
    stale: bool  # the figures are of an earlier month (the month asked for has none)


@dataclass
class Summary:
    scorecard: Scorecard
    month: int
    lines: list[Line] = field(default_factory=list)

    @property
    def green(self) -> int:
        return sum(line.status.light == metrics.Light.GREEN for line in self.lines)

    @property
    def yellow(self) -> int:
        return sum(line.status.light == metrics.Light.YELLOW for line in self.lines)

    @property
    def red(self) -> int:
        return sum(line.status.light == metrics.Light.RED for line in self.lines)

    @property
    def climbed(self) -> int:
        return sum(line.climbed for line in self.lines)

    @property
    def title(self) -> str:
        return f"{self.scorecard.street.name}{self.scorecard.year}年{self.scorecard.title}1-{self.month}月完成情况"


def figures_of(indicator: Indicator) -> dict[int, metrics.Figures]:
    return {
        a.month: metrics.Figures(a.month, a.ytd_total, a.ytd_growth, a.prior_ytd, a.rank)
        for a in indicator.actuals.all()
    }


def latest_month(scorecard: Scorecard) -> int:
    from civicgrid.goals.models import Actual

    months = Actual.objects.filter(indicator__scorecard=scorecard).values_list("month", flat=True)
    return max(months, default=1)


def summary(*, scorecard: Scorecard, month: int | None = None) -> Summary:
    """The 1-N月 summary of ``scorecard`` (scoped by the caller: pass a scorecard from :func:`get_scorecard`)."""
    month = month or latest_month(scorecard)
    out = Summary(scorecard, month)
    for ind in scorecard.indicators.prefetch_related("actuals").order_by("seq", "pk"):
        figs = figures_of(ind)
        fig = metrics.latest(figs, month)
        rule = rule_of(ind, scorecard.yellow_margin)
        fc = metrics.forecast(rule, fig)
        out.lines.append(
            Line(
                ind,
                fig,
                fc,
                metrics.status(rule, fig, fc),
                metrics.climbed(figs, month),
                stale=fig is not None and fig.month != month,
            )
        )
    return out


# --- projects -------------------------------------------------------------------------------------------


@dataclass
class ProjectLine:
    project: Project
    done: Decimal
    reported_month: int | None
    rate: Decimal | None
    lagging: bool
    note: str

    @property
    def stage_text(self) -> str:
        return metrics.stage_sentence(self.project.category, self.project.stages)


@dataclass
class CategoryBlock:
    code: str
    label: str
    lines: list[ProjectLine]
    done: Decimal
    plan: Decimal
    rate: Decimal | None
    stages: str = ""  # 电梯加装 / 老旧小区改造: the stage counts of the category, in words


@dataclass
class Board:
    year: int
    month: int
    categories: list[CategoryBlock]
    done: Decimal
    plan: Decimal
    rate: Decimal | None

    @property
    def count(self) -> int:
        return sum(len(c.lines) for c in self.categories)

    @property
    def lagging(self) -> int:
        return sum(line.lagging for c in self.categories for line in c.lines)

    @property
    def time_progress(self) -> Decimal:
        return metrics.q2(metrics.time_progress(self.month) * metrics.HUNDRED)


def project_years(*, user) -> list[int]:
    return sorted(set(visible_projects(user=user).values_list("year", flat=True)), reverse=True)


def board(*, user, year: int, month: int, street_id: int | None = None) -> Board:
    """The projects of ``year`` the user sees, by category, with 1-N月 累计完成投资 and 完成率."""
    qs = visible_projects(user=user).filter(year=year).prefetch_related("progress")
    if street_id:
        qs = qs.filter(street_id=street_id)
    by_cat: dict[str, list[ProjectLine]] = {}
    for p in qs.order_by("category", "name"):
        steps = {s.month: s for s in p.progress.all()}
        done, reported = metrics.cumulative_at({m: s.cumulative for m, s in steps.items()}, month)
        by_cat.setdefault(p.category, []).append(
            ProjectLine(
                p,
                done,
                reported,
                metrics.rate(done, p.annual_plan),
                metrics.lagging(done, p.annual_plan, month),
                steps[reported].note if reported else "",
            )
        )
    blocks = []
    for code, label in ProjectCategory.choices:
        lines = by_cat.get(code)
        if not lines:
            continue
        done, plan, r = metrics.pooled_rate((line.done, line.project.annual_plan) for line in lines)
        stages = ""
        if code in Project.STAGED:
            totals = {f: sum(getattr(line.project, f) for line in lines) for f in Project.STAGE_FIELDS}
            stages = metrics.stage_sentence(code, totals)
        blocks.append(CategoryBlock(code, label, lines, done, plan, r, stages))
    done, plan, r = metrics.pooled_rate(
        (line.done, line.project.annual_plan) for b in blocks for line in b.lines
    )
    return Board(year, month, blocks, done, plan, r)


# --- milestones and the Gantt -------------------------------------------------------------------------------


@dataclass
class MilestoneLine:
    kind: str
    label: str
    planned: date | None
    actual: date | None
    note: str
    state: metrics.MilestoneState


def milestones_of(project: Project, *, today: date | None = None) -> list[MilestoneLine]:
    """The six 节点 of ``project`` in order (a 节点 never entered has no dates: 未定计划)."""
    today = today or clock.local_now().date()
    rows = {m.kind: m for m in project.milestones.all()}
    out = []
    for kind, label in MilestoneKind.choices:
        m = rows.get(kind)
        planned, actual = (m.planned, m.actual) if m else (None, None)
        out.append(
            MilestoneLine(
                kind,
                label,
                planned,
                actual,
                m.note if m else "",
                metrics.milestone_state(planned, actual, today),
            )
        )
    return out


@dataclass
class GanttMark:
    label: str
    left: Decimal
    when: date
    state: metrics.MilestoneState


@dataclass
class GanttRow:
    project: Project
    planned: list[GanttMark]
    actual: list[GanttMark]
    plan_bar: tuple[Decimal, Decimal] | None  # (left %, width %)
    actual_bar: tuple[Decimal, Decimal] | None
    late: int  # 节点 late (延期完成 or 逾期)
    missing: int  # 节点 without a planned date


@dataclass
class Gantt:
    axis: tuple[date, date] | None
    months: list[tuple[str, Decimal]]  # (tick label, left %)
    today: Decimal | None
    rows: list[GanttRow]


def _bar(marks: list[GanttMark], end: Decimal | None = None) -> tuple[Decimal, Decimal] | None:
    if not marks:
        return None
    lo = min(m.left for m in marks)
    hi = max([m.left for m in marks] + ([end] if end is not None else []))
    return lo, max(hi - lo, Decimal("0.5"))


def gantt(*, user, year: int, street_id: int | None = None, today: date | None = None) -> Gantt:
    """Planned vs actual 节点 of the year's projects the user sees, on one time axis (positions in %)."""
    today = today or clock.local_now().date()
    qs = visible_projects(user=user).filter(year=year).prefetch_related("milestones")
    if street_id:
        qs = qs.filter(street_id=street_id)
    projects = list(qs.order_by("category", "name"))
    lines = {p.pk: milestones_of(p, today=today) for p in projects}
    dates = [d for ls in lines.values() for m in ls for d in (m.planned, m.actual)]
    axis = metrics.span(dates)
    if axis is None:
        return Gantt(None, [], None, [])
    months, d = [], axis[0]
    while d <= axis[1]:
        months.append(
            (
                f"{d.year % 100:02d}.{d.month}" if d.month == 1 or not months else f"{d.month}月",
                metrics.position(d, axis),
            )
        )
        d = (d.replace(day=28) + timedelta(days=4)).replace(day=1)
    now = metrics.position(today, axis) if axis[0] <= today <= axis[1] else None
    rows = []
    for p in projects:
        ls = lines[p.pk]
        planned = [
            GanttMark(m.label, metrics.position(m.planned, axis), m.planned, m.state) for m in ls if m.planned
        ]
        actual = [
            GanttMark(m.label, metrics.position(m.actual, axis), m.actual, m.state) for m in ls if m.actual
        ]
        # an unfinished project's actual bar runs up to today
        running = now if actual and any(m.actual is None for m in ls) else None
        rows.append(
            GanttRow(
                p,
                planned,
                actual,
                _bar(planned),
                _bar(actual, running),
                sum(m.state.late for m in ls),
                sum(m.state.code == "missing" for m in ls),
            )
        )
    return Gantt(axis, months, now, rows)


def issues_of(project: Project):
    return project.issues.select_related("case", "raised_by")


# --- 民生微实事 ----------------------------------------------------------------------------------------------


@scoping.register(MicroProject)
def _micro_scope(qs: QuerySet, user, action: str) -> QuerySet:
    return qs.filter(pk__in=visible_micro(user=user).values("pk"))


@scoping.register(MicroFlowStep)
def _microflow_scope(qs: QuerySet, user, action: str) -> QuerySet:
    return place_selectors.in_tier(qs, user, "street_id")


def visible_micro(*, user) -> QuerySet[MicroProject]:
    if not can_view(user):
        return MicroProject.objects.none()
    return place_selectors.in_tier(MicroProject.objects.select_related("street"), user, "street_id")


def get_micro(*, user, pk) -> MicroProject:
    try:
        return visible_micro(user=user).get(pk=int(pk))
    except (MicroProject.DoesNotExist, TypeError, ValueError):
        raise NotFound("民生微实事不存在或无权查看")


@dataclass
class MicroFlow:
    """A 街道's flow: the steps in use and the names it gives them."""

    enabled: list[str]
    labels: dict[str, str]

    def label(self, step: str) -> str:
        return self.labels.get(step) or workflow.DEFAULT_LABELS.get(step, step)

    @property
    def steps(self) -> list[tuple[str, str]]:
        return [(s, self.label(s)) for s in self.enabled]


def micro_flow(*, street_id: int) -> MicroFlow:
    rows = {r.step: r for r in MicroFlowStep.objects.filter(street_id=street_id)}
    enabled = workflow.enabled_flow(s for s in workflow.FLOW if s not in rows or rows[s].enabled)
    labels = {s: r.label for s, r in rows.items() if r.label}
    return MicroFlow(enabled, labels)


@dataclass
class MicroBoard:
    year: int
    street_id: int | None
    flow: MicroFlow
    items: list[MicroProject]
    counts: dict[str, int]  # step → items there (办结, 未采纳 included)
    decided: int  # 确定…项目N件

    @property
    def sentence(self) -> str:
        return f"确定{self.year}年民生微实事项目{self.decided}件"


def micro_years(*, user) -> list[int]:
    return sorted(set(visible_micro(user=user).values_list("year", flat=True)), reverse=True)


def micro_board(*, user, year: int, street_id: int | None = None) -> MicroBoard:
    qs = visible_micro(user=user).filter(year=year)
    if street_id:
        qs = qs.filter(street_id=street_id)
    items = list(qs.order_by("pk"))
    sid = street_id or (items[0].street_id if items else getattr(user, "street_id", None))
    flow = micro_flow(street_id=sid) if sid else MicroFlow(list(workflow.FLOW), {})
    counts: dict[str, int] = {}
    for i in items:
        counts[i.step] = counts.get(i.step, 0) + 1
    return MicroBoard(year, sid, flow, items, counts, sum(workflow.is_decided(i.step) for i in items))


def get_stage_item(*, project: Project, pk) -> StageItem:
    try:
        return project.stage_items.get(pk=int(pk))
    except (StageItem.DoesNotExist, TypeError, ValueError):
        raise NotFound("明细不存在")


def metric_of(indicator: Indicator) -> metric_registry.Metric | None:
    """The metrics-module figure a "平台计算" indicator takes its actuals from (None: not computed / unknown)."""
    if indicator.source != "computed" or not indicator.metric:
        return None
    return metric_registry.REGISTRY.get(indicator.metric)
