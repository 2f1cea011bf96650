"""行政问效 API (/api/v1/evaluation): the live 三率 ranking, the role scores, the settings (weights), the 红黑榜
(list, draft, one board, workflow moves) and the higher-level assessment results with the platform's own figures
beside them. Scoped like the pages; bad input is a 4xx naming the field (docs/evaluation.md)."""

from __future__ import annotations

from datetime import date

from ninja import Field, Query, Router, Schema

try:  # django-ninja >= 1.5
    from ninja import Status
except ImportError:  # pragma: no cover - older ninja takes a (status, body) tuple

    def Status(status_code, value):  # noqa: N802
        return status_code, value


from civicgrid.core.validation import Id, Text
from civicgrid.evaluation import selectors, services
from civicgrid.evaluation.models import BoardKind, BoardState
from civicgrid.metrics import selectors as metrics

router = Router(tags=["行政问效"])


class EvaluationPeriodQuery(Schema):
    from_: str | None = Field(None, alias="from", description="开始日期（含）YYYY-MM-DD，默认上月 1 日")
    to: str | None = Field(None, description="结束日期（含）YYYY-MM-DD，默认上月末")
    street: str | None = Field(None, description="街道编码（须在本人辖区内；默认本人街道）")


class EvaluationRankingQuery(EvaluationPeriodQuery):
    kind: str = Field("community", description="department|community|grid|grid_worker|street（区级）")


def _period(q) -> tuple[date, date]:
    if not q.from_ and not q.to:
        first = selectors.last_month()
        return first, selectors.month_end(first)
    return metrics.parse_period(q.from_, q.to)


class EvaluationRowOut(Schema):
    key: str
    label: str
    sample: int = Field(description="样本量（部门：派遣数；社区/网格/街道：立案数；网格员：上报数+核查数）")
    score: float | None = Field(description="综合得分（缺少的比率不计，权重重新分配）；无任何比率为 null")
    rank: int | None = Field(None, description="名次（并列同名次）；单列的为 null")
    missing: list[str] = Field(default_factory=list, description="缺少的比率（分母为 0）")
    apart: str | None = Field(None, description="单列原因：too_few 样本不足 / no_figure 无可用比率")
    response_rate: float | None = None
    resolve_rate: float | None = None
    satisfaction_rate: float | None = None
    on_time_rate: float | None = None
    rework_rate: float | None = None
    valid_rate: float | None = None
    verify_rate: float | None = None
    reported: int | None = None
    valid: int | None = None
    verified: int | None = None
    verified_on_time: int | None = None


class EvaluationRankingOut(Schema):
    kind: str
    from_: str = Field(alias="from")
    to: str
    owner: str
    weights: dict[str, int]
    min_cases: int
    size: int
    rows: list[EvaluationRowOut]
    apart: list[EvaluationRowOut]
    red: list[str]
    black: list[str]


@router.get("/ranking", response=EvaluationRankingOut, by_alias=True, summary="三率综合排名（实时）")
def get_ranking(request, q: Query[EvaluationRankingQuery]):
    start, end = _period(q)
    return selectors.ranking(
        user=request.auth, kind=q.kind, start=start, end=end, street_code=q.street
    ).as_dict()


class EvaluationWorkerOut(Schema):
    key: str
    label: str
    sample: int
    reported: int
    valid: int
    valid_rate: float | None
    verified: int
    verified_on_time: int
    verify_rate: float | None


class EvaluationDispatcherOut(Schema):
    key: str
    label: str
    dispatched: int = Field(description="派遣+改派次数")
    timed: int = Field(description="有时限记录的派遣次数")
    on_time: int
    on_time_rate: float | None = Field(description="按时派遣率")
    redone: int = Field(description="后来被改派或退回的次数")
    accurate_rate: float | None = Field(description="准确派遣率 = 1 − 改派/派遣")


class EvaluationDepartmentOut(Schema):
    key: str
    label: str
    done: int
    dispatched: int
    on_time_rate: float | None = Field(description="按期处置率（= 统计指标的按期办结率）")
    rework_rate: float | None = Field(description="返工率")


class EvaluationRoleScoresOut(Schema):
    street: str
    street_name: str
    from_: str = Field(alias="from")
    to: str
    grid_workers: list[EvaluationWorkerOut]
    dispatchers: list[EvaluationDispatcherOut]
    departments: list[EvaluationDepartmentOut]


@router.get(
    "/role-scores", response=EvaluationRoleScoresOut, by_alias=True, summary="岗位考评（数字城管口径）"
)
def get_role_scores(request, q: Query[EvaluationPeriodQuery]):
    start, end = _period(q)
    return selectors.role_scores(user=request.auth, start=start, end=end, street_code=q.street)


class EvaluationSettingsQuery(Schema):
    street: str | None = Field(None, description="街道编码；level=district 时不用")
    level: str = Field("street", description="street（街道内排名）| district（区级排名各街道）")


class EvaluationSettingsIn(Schema):
    w_response: int | str = Field(description="响应率权重（0–100）")
    w_resolve: int | str = Field(description="解决率权重（0–100）")
    w_satisfaction: int | str = Field(description="满意率权重（0–100）；三项之和须为 100")
    min_cases: int | str = Field(5, description="参与排名的最少件数")
    board_size: int | str = Field(3, description="红/黑榜各列几名")


class EvaluationSettingsOut(Schema):
    owner: str
    level: str
    w_response: int
    w_resolve: int
    w_satisfaction: int
    min_cases: int
    board_size: int
    stored: bool = Field(description="false：未设置，使用默认值")


def _settings_target(user, q: EvaluationSettingsQuery):
    if q.level == "district":
        return None, selectors.resolve_district(user=user)
    if q.level != "street":
        from civicgrid.core.errors import ValidationFailed

        raise ValidationFailed("level 只能是 street 或 district", field="level")
    return selectors.resolve_street(user=user, code=q.street), None


def _settings_out(row, level: str) -> dict:
    owner = row.street.name if row.street_id else (row.district.name if row.district_id else "")
    return {**row.weights, "owner": owner, "level": level, "min_cases": row.min_cases,
            "board_size": row.board_size, "stored": row.pk is not None}  # fmt: skip


@router.get("/settings", response=EvaluationSettingsOut, summary="考评设置（权重、最少件数、榜单名次）")
def get_settings(request, q: Query[EvaluationSettingsQuery]):
    from civicgrid.core.errors import PermissionDenied

    if not selectors.can_rank(request.auth):
        raise PermissionDenied("当前角色不能查看考评设置", code="forbidden")
    street, district = _settings_target(request.auth, q)
    return _settings_out(selectors.settings_for(street=street, district=district), q.level)


@router.put("/settings", response=EvaluationSettingsOut, summary="保存考评设置")
def put_settings(request, q: Query[EvaluationSettingsQuery], payload: EvaluationSettingsIn):
    from civicgrid.core.errors import PermissionDenied

    if not selectors.can_configure(request.auth):
        raise PermissionDenied("当前角色不能修改考评设置", code="forbidden")
    street, district = _settings_target(request.auth, q)
    row = services.save_settings(actor=request.auth, street=street, district=district, values=payload.dict())
    return _settings_out(row, q.level)


class EvaluationBoardListQuery(Schema):
    kind: str | None = Field(None, description="|".join(BoardKind.values))
    state: str | None = Field(None, description="|".join(BoardState.values))
    year: int | None = Field(None, ge=2000, le=2100)


class EvaluationBoardBriefOut(Schema):
    id: Id
    kind: str
    kind_label: str
    month: str
    owner: str
    state: str
    state_label: str
    red: list[str]
    black: list[str]
    version: int


class EvaluationBoardOut(EvaluationBoardBriefOut):
    weights: dict[str, int]
    min_cases: int
    size: int
    rows: list[EvaluationRowOut]
    apart: list[EvaluationRowOut]
    note: str
    review_note: str
    drafted_by: str | None
    reviewed_by: str | None
    published_at: str | None
    moves: list[str] = Field(description="当前账号可执行的操作")


def _brief(b) -> dict:
    return {
        "id": b.pk,
        "kind": b.kind,
        "kind_label": b.get_kind_display(),
        "month": f"{b.month:%Y-%m}",
        "owner": b.owner_name,
        "state": b.state,
        "state_label": b.get_state_display(),
        "red": b.red,
        "black": b.black,
        "version": b.version,
    }


def _full(b, user) -> dict:
    from civicgrid.evaluation import workflow

    return {
        **_brief(b),
        "weights": b.weights,
        "min_cases": b.min_cases,
        "size": b.size,
        "rows": b.rows,
        "apart": b.apart,
        "note": b.note,
        "review_note": b.review_note,
        "drafted_by": selectors.person_name(b.drafted_by),
        "reviewed_by": selectors.person_name(b.reviewed_by),
        "published_at": b.published_at.isoformat() if b.published_at else None,
        "moves": [m.name for m in workflow.allowed(b.state, user.role)] if selectors.can_rank(user) else [],
    }


@router.get("/boards", response=list[EvaluationBoardBriefOut], summary="红黑榜列表")
def list_boards(request, q: Query[EvaluationBoardListQuery]):
    from civicgrid.accounts.roles import Capability, has_capability
    from civicgrid.core.errors import PermissionDenied

    if not has_capability(request.auth, Capability.BUSINESS_VIEW):
        raise PermissionDenied("当前角色不能查看红黑榜", code="forbidden")
    qs = selectors.visible_boards(user=request.auth)
    if q.kind:
        qs = qs.filter(kind=q.kind)
    if q.state:
        qs = qs.filter(state=q.state)
    if q.year:
        qs = qs.filter(month__year=q.year)
    return [_brief(b) for b in qs.order_by("-month", "kind")[:500]]


class EvaluationBoardIn(Schema):
    kind: str = Field(description="|".join(BoardKind.values))
    month: str = Field(description="YYYY-MM")
    street: str | None = Field(None, description="街道编码（默认本人街道；街道排名不用）")
    note: Text = ""


@router.post("/boards", response={201: EvaluationBoardOut}, summary="草拟红黑榜")
def create_board(request, payload: EvaluationBoardIn):
    board = services.draft_board(
        actor=request.auth,
        kind=payload.kind,
        month=payload.month,
        street_code=payload.street,
        note=payload.note,
    )
    return Status(201, _full(board, request.auth))


@router.get("/boards/{board_id}", response=EvaluationBoardOut, summary="红黑榜详情")
def get_board(request, board_id: Id):
    return _full(selectors.get_board(user=request.auth, pk=board_id), request.auth)


class EvaluationMoveIn(Schema):
    move: str = Field(description="redraft | submit | return | publish")
    version: int | None = Field(None, description="当前版本（并发检查）")
    note: Text = ""


@router.post("/boards/{board_id}/transition", response=EvaluationBoardOut, summary="红黑榜流转")
def move_board(request, board_id: Id, payload: EvaluationMoveIn):
    board = selectors.get_board(user=request.auth, pk=board_id)
    board = services.transition(
        actor=request.auth, board=board, move=payload.move, version=payload.version, note=payload.note
    )
    return _full(selectors.get_board(user=request.auth, pk=board.pk), request.auth)


class EvaluationChartQuery(Schema):
    year: int = Field(description="年度")
    street: str | None = None
    name: str | None = Field(None, description="考核名称（默认该年第一个）")


class EvaluationMonthOut(Schema):
    month: str
    score: float | None
    rank: int | None
    total: int | None
    response_rate: float | None
    resolve_rate: float | None
    satisfaction_rate: float | None
    composite: float | None


class EvaluationChartOut(Schema):
    street: str
    street_name: str
    year: int
    name: str
    names: list[str]
    weights: dict[str, int]
    months: list[EvaluationMonthOut]


@router.get("/assessments", response=EvaluationChartOut, summary="上级考核结果与本平台三率（按月）")
def get_assessments(request, q: Query[EvaluationChartQuery]):
    return selectors.assessment_chart(user=request.auth, year=q.year, street_code=q.street, name=q.name)


class EvaluationAssessmentIn(Schema):
    street: str | None = Field(None, description="街道编码（默认本人街道）")
    month: str = Field(description="YYYY-MM")
    name: Text = "城市长效管理考核"
    score: float | str
    rank: int | None = None
    total: int | None = None
    note: Text = ""


@router.post("/assessments", response=EvaluationChartOut, summary="录入一个月的上级考核结果")
def post_assessment(request, payload: EvaluationAssessmentIn):
    from civicgrid.core.errors import PermissionDenied

    if not selectors.can_import(request.auth):
        raise PermissionDenied("当前角色不能录入上级考核结果", code="forbidden")
    street = selectors.resolve_street(user=request.auth, code=payload.street)
    row, _ = services.save_assessment(
        actor=request.auth,
        street=street,
        month=payload.month,
        score=payload.score,
        name=payload.name,
        rank=payload.rank,
        total=payload.total,
        note=payload.note,
        source="entered",
    )
    return selectors.assessment_chart(
        user=request.auth, year=row.month.year, street_code=street.code, name=row.name
    )
