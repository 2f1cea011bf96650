"""Every read of 目标考核 and 重点项目, scoped to the user: the rows of the 街道 in the user's tier
(:func:`civicgrid.places.selectors.tier_q`: a 街道 account its own 街道, a 区 account the 街道 of its 区), and only
for the roles that see the whole 街道 (``Capability.STREET_WIDE_VIEW``: 指挥中心, 值班长, 领导, 系统管理员)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import QuerySet

from civicgrid.accounts.roles import Capability, has_capability
from civicgrid.core import scoping
from civicgrid.core.errors import NotFound
from civicgrid.goals import metrics
from civicgrid.goals.models import Indicator, Project, ProjectCategory, Scorecard
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
