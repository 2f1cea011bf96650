"""目标考核 API (/api/v1/goals): the 1-N月 summary (forecast, light, 攀高 per indicator; the counts), one
indicator with its months, a month's figures, the manual forecast; the project board and a month of progress.
Scoped like the pages (the 街道 in the caller's tier; roles that see the whole 街道)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from ninja import Query, Router, Schema, Status
from pydantic import Field

from civicgrid.core.errors import PermissionDenied
from civicgrid.core.validation import Id, Text
from civicgrid.goals import metrics, selectors, services, workflow
from civicgrid.goals.models import MilestoneKind

router = Router(tags=["目标考核"])


def _user(request):
    user = request.auth
    if not selectors.can_view(user):
        raise PermissionDenied("当前角色不能查看目标考核", code="forbidden")
    return user


class SummaryQuery(Schema):
    scorecard: Id | None = Field(None, description="考核年度 id（默认：可见的最近一年）")
    month: int | None = Field(None, ge=1, le=12, description="截至月份 N（默认：有数据的最近月份）")


class LineOut(Schema):
    indicator_id: Id
    seq: int
    name: str
    unit: str
    basis: str
    higher_is_better: bool
    target_total: Decimal | None
    target_growth: Decimal | None
    data_month: int | None = Field(description="所用数据的月份（本月缺数时为最近有数据的月份）")
    ytd_total: Decimal | None
    ytd_growth: Decimal | None
    forecast_method: str = Field(description="seasonal / linear / carry / manual / none")
    forecast_total: Decimal | None
    forecast_growth: Decimal | None
    forecast_inputs: list[str]
    light: str = Field(description="green / yellow / red / none")
    reasons: list[str]
    climbed: bool = Field(description="攀高：全区排名比上一次上升")


class SummaryOut(Schema):
    scorecard_id: Id
    street: str
    year: int
    month: int
    title: str
    green: int
    yellow: int
    red: int
    climbed: int
    lines: list[LineOut]


def _line(line: selectors.Line) -> dict:
    ind, fig, fc = line.indicator, line.figures, line.forecast
    return {
        "indicator_id": ind.pk,
        "seq": ind.seq,
        "name": ind.name,
        "unit": ind.unit,
        "basis": ind.basis,
        "higher_is_better": ind.higher_is_better,
        "target_total": ind.target_total,
        "target_growth": ind.target_growth,
        "data_month": fig.month if fig else None,
        "ytd_total": fig.ytd_total if fig else None,
        "ytd_growth": fig.ytd_growth if fig else None,
        "forecast_method": fc.method,
        "forecast_total": fc.total,
        "forecast_growth": fc.growth,
        "forecast_inputs": list(fc.inputs),
        "light": line.status.light,
        "reasons": list(line.status.reasons),
        "climbed": line.climbed,
    }


@router.get("/summary", response=SummaryOut, summary="考核指标 1-N月完成情况汇总（预计全年、绿灯、攀高）")
def get_summary(request, q: Query[SummaryQuery]):
    user = _user(request)
    if q.scorecard:
        card = selectors.get_scorecard(user=user, pk=q.scorecard)
    else:
        card = selectors.default_scorecard(user=user)
        if card is None:
            from civicgrid.core.errors import NotFound

            raise NotFound("没有可查看的考核年度")
    s = selectors.summary(scorecard=card, month=q.month)
    return {
        "scorecard_id": card.pk,
        "street": card.street.name,
        "year": card.year,
        "month": s.month,
        "title": s.title,
        "green": s.green,
        "yellow": s.yellow,
        "red": s.red,
        "climbed": s.climbed,
        "lines": [_line(line) for line in s.lines],
    }


class ActualOut(Schema):
    month: int
    ytd_total: Decimal | None
    ytd_growth: Decimal | None
    prior_ytd: Decimal | None
    rank: int | None
    source: str


class IndicatorOut(Schema):
    id: int
    seq: int
    name: str
    unit: str
    basis: str
    department: str
    leader: str
    weight: Decimal
    override_total: Decimal | None
    override_growth: Decimal | None
    override_reason: str
    source: str
    metric: str = Field("", description="平台计算：统计模块的指标名")
    metric_formula: str = ""
    actuals: list[ActualOut]


def _indicator(ind) -> dict:
    return {
        **{f: getattr(ind, f) for f in ("seq", "name", "unit", "basis", "department", "leader", "weight")},
        "id": ind.pk,
        "override_total": ind.override_total,
        "override_growth": ind.override_growth,
        "override_reason": ind.override_reason,
        "source": ind.source,
        "metric": ind.metric,
        "metric_formula": m.formula if (m := selectors.metric_of(ind)) else "",
        "actuals": [
            {f: getattr(a, f) for f in ("month", "ytd_total", "ytd_growth", "prior_ytd", "rank", "source")}
            for a in ind.actuals.order_by("month")
        ],
    }


@router.get("/indicators/{indicator_id}", response=IndicatorOut, summary="一项考核指标及其月度完成")
def get_indicator(request, indicator_id: Id):
    return _indicator(selectors.get_indicator(user=_user(request), pk=indicator_id))


class ActualIn(Schema):
    month: int = Field(..., ge=1, le=12)
    ytd_total: Decimal | None = Field(None, description="1-N月累计总量")
    ytd_growth: Decimal | None = Field(None, description="累计增幅 %")
    prior_ytd: Decimal | None = Field(None, description="上年同期累计")
    rank: int | None = Field(None, ge=1, le=999, description="全区排名")
    note: Text = Field("", max_length=300)


@router.post("/indicators/{indicator_id}/actuals", response=IndicatorOut, summary="填报一个月的累计完成")
def post_actual(request, indicator_id: Id, body: ActualIn):
    user = _user(request)
    ind = selectors.get_indicator(user=user, pk=indicator_id)
    services.save_actual(actor=user, indicator=ind, **body.dict())
    return _indicator(ind)


class OverrideIn(Schema):
    total: Decimal | None = None
    growth: Decimal | None = None
    reason: Text = Field("", max_length=300)


@router.post("/indicators/{indicator_id}/override", response=IndicatorOut, summary="人工预计全年（须填理由）")
def post_override(request, indicator_id: Id, body: OverrideIn):
    user = _user(request)
    ind = selectors.get_indicator(user=user, pk=indicator_id)
    ind = services.set_override(
        actor=user, indicator=ind, total=body.total, growth=body.growth, reason=body.reason
    )
    return _indicator(ind)


class BoardQuery(Schema):
    year: int = Field(..., ge=2000, le=2100)
    month: int = Field(..., ge=1, le=12)


class ProjectOut(Schema):
    id: int
    name: str
    category: str
    owner: str
    annual_plan: Decimal
    done: Decimal
    rate: Decimal | None = Field(description="完成率 %")
    lagging: bool


class CategoryOut(Schema):
    category: str
    label: str
    plan: Decimal
    done: Decimal
    rate: Decimal | None = Field(description="Σ完成 ÷ Σ计划 %")
    stages: str = Field("", description="电梯加装/老旧小区改造的阶段计数（投用、待交付、施工、申报）")
    projects: list[ProjectOut]


class BoardOut(Schema):
    year: int
    month: int
    count: int
    plan: Decimal
    done: Decimal
    rate: Decimal | None
    lagging: int
    categories: list[CategoryOut]


@router.get("/projects", response=BoardOut, summary="重点项目：1-N月完成投资与完成率（按类别）")
def get_projects(request, q: Query[BoardQuery]):
    b = selectors.board(user=_user(request), year=q.year, month=q.month)
    return {
        "year": b.year,
        "month": b.month,
        "count": b.count,
        "plan": b.plan,
        "done": b.done,
        "rate": b.rate,
        "lagging": b.lagging,
        "categories": [
            {
                "category": c.code,
                "label": c.label,
                "plan": c.plan,
                "done": c.done,
                "rate": c.rate,
                "stages": c.stages,
                "projects": [
                    {
                        "id": line.project.pk,
                        "name": line.project.name,
                        "category": c.code,
                        "owner": line.project.owner,
                        "annual_plan": line.project.annual_plan,
                        "done": line.done,
                        "rate": line.rate,
                        "lagging": line.lagging,
                    }
                    for line in c.lines
                ],
            }
            for c in b.categories
        ],
    }


class ProgressIn(Schema):
    month: int = Field(..., ge=1, le=12)
    cumulative: Decimal = Field(..., description="1-N月累计完成投资（万元）")
    note: Text = Field("", max_length=300)


class ProgressOut(Schema):
    project_id: Id
    month: int
    cumulative: Decimal
    rate: Decimal | None


@router.post("/projects/{project_id}/progress", response=ProgressOut, summary="填报项目 1-N月累计完成投资")
def post_progress(request, project_id: Id, body: ProgressIn):
    user = _user(request)
    p = selectors.get_project(user=user, pk=project_id)
    row = services.save_progress(
        actor=user, project=p, month=body.month, cumulative=body.cumulative, note=body.note
    )
    return {
        "project_id": p.pk,
        "month": row.month,
        "cumulative": row.cumulative,
        "rate": metrics.rate(row.cumulative, p.annual_plan),
    }


# --- milestones, problems, 民生微实事, computed indicators -------------------------------------------------


class MilestoneOut(Schema):
    kind: str
    label: str
    planned: date | None
    actual: date | None
    note: str
    state: str = Field(description="done / late_done / overdue / pending / missing")
    state_label: str
    days_late: int


def _milestones(project) -> list[dict]:
    return [
        {
            "kind": m.kind,
            "label": m.label,
            "planned": m.planned,
            "actual": m.actual,
            "note": m.note,
            "state": m.state.code,
            "state_label": m.state.label,
            "days_late": m.state.days_late,
        }
        for m in selectors.milestones_of(project)
    ]


@router.get(
    "/projects/{project_id}/milestones", response=list[MilestoneOut], summary="项目节点（计划/实际，滞后）"
)
def get_milestones(request, project_id: Id):
    return _milestones(selectors.get_project(user=_user(request), pk=project_id))


class MilestoneIn(Schema):
    kind: MilestoneKind
    planned: date | None = None
    actual: date | None = None
    note: Text = Field("", max_length=200)


@router.put("/projects/{project_id}/milestones", response=list[MilestoneOut], summary="填报项目节点")
def put_milestones(request, project_id: Id, body: list[MilestoneIn]):
    user = _user(request)
    p = selectors.get_project(user=user, pk=project_id)
    services.save_milestones(
        actor=user, project=p, rows={m.kind.value: m.dict(exclude={"kind"}) for m in body[:12]}
    )
    return _milestones(selectors.get_project(user=user, pk=project_id))


class IssueIn(Schema):
    text: Text = Field(..., max_length=1000)


class IssueOut(Schema):
    id: int
    text: str
    case_id: int | None
    case_number: str | None


@router.post("/projects/{project_id}/issues", response={201: IssueOut}, summary="项目问题 → 生成工单")
def post_issue(request, project_id: Id, body: IssueIn):
    user = _user(request)
    issue = services.raise_issue(
        actor=user, project=selectors.get_project(user=user, pk=project_id), text=body.text
    )
    return Status(
        201,
        {
            "id": issue.pk,
            "text": issue.text,
            "case_id": issue.case_id,
            "case_number": issue.case.number if issue.case else None,
        },
    )


class MicroQuery(Schema):
    year: int = Field(..., ge=2000, le=2100)


class MicroItemOut(Schema):
    id: int
    name: str
    community: str
    budget: Decimal | None
    step: str
    step_label: str
    rating: str
    moves: list[str]


class MicroBoardOut(Schema):
    year: int
    sentence: str = Field(description="确定N年民生微实事项目M件")
    decided: int
    steps: list[list[str]] = Field(description="该街道使用的步骤 [代码, 名称]")
    counts: dict[str, int]
    items: list[MicroItemOut]


def _micro_item(item, flow) -> dict:
    return {
        "id": item.pk,
        "name": item.name,
        "community": item.community,
        "budget": item.budget,
        "step": item.step,
        "step_label": flow.label(item.step),
        "rating": item.rating,
        "moves": workflow.moves_from(item.step),
    }


@router.get("/micro", response=MicroBoardOut, summary="民生微实事：按年度的流程与件数")
def get_micro(request, q: Query[MicroQuery]):
    mb = selectors.micro_board(user=_user(request), year=q.year)
    return {
        "year": mb.year,
        "sentence": mb.sentence,
        "decided": mb.decided,
        "steps": [list(s) for s in mb.flow.steps],
        "counts": mb.counts,
        "items": [_micro_item(i, mb.flow) for i in mb.items],
    }


class MicroIn(Schema):
    year: int = Field(..., ge=2000, le=2100)
    name: Text = Field(..., max_length=150)
    community: Text = Field("", max_length=50)
    proposer: Text = Field("", max_length=100)
    budget: Decimal | None = Field(None, ge=0, lt=10**9)
    street: Id | None = Field(None, description="街道 id（区级账号必填）")


@router.post("/micro", response={201: MicroItemOut}, summary="征集一件民生微实事")
def post_micro(request, body: MicroIn):
    user = _user(request)
    item = services.create_micro(
        actor=user,
        street_id=body.street,
        year=body.year,
        name=body.name,
        community=body.community,
        proposer=body.proposer,
        budget=body.budget,
    )
    return Status(201, _micro_item(item, selectors.micro_flow(street_id=item.street_id)))


class MicroMoveIn(Schema):
    move: str = Field(..., description="advance（下一步）/ drop（不予采纳，须填意见）")
    note: Text = Field("", max_length=300)


@router.post("/micro/{micro_id}/move", response=MicroItemOut, summary="民生微实事流转")
def post_micro_move(request, micro_id: Id, body: MicroMoveIn):
    user = _user(request)
    item = services.move_micro(
        actor=user, item=selectors.get_micro(user=user, pk=micro_id), move=body.move, note=body.note
    )
    return _micro_item(item, selectors.micro_flow(street_id=item.street_id))


class RecomputeIn(Schema):
    month: int = Field(..., ge=1, le=12)


@router.post(
    "/indicators/{indicator_id}/recompute", response=IndicatorOut, summary="平台计算指标：按统计模块立即重算"
)
def post_recompute(request, indicator_id: Id, body: RecomputeIn):
    user = _user(request)
    ind = selectors.get_indicator(user=user, pk=indicator_id)
    services.recompute_indicator(actor=user, indicator=ind, month=body.month)
    return _indicator(ind)
