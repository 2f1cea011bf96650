"""督办 and 预警 API (/api/v1/supervision): the 督办 list and counts, 督办 a case or a department's overdue list,
销号; the warnings list with filters, one warning, 确认/处置. Scoped like the pages."""

from __future__ import annotations

from datetime import date, datetime

from ninja import Query, Router, Schema
from pydantic import Field

from civicgrid.accounts.models import Department
from civicgrid.cases import selectors as case_selectors
from civicgrid.core import clock
from civicgrid.core.errors import NotFound, PermissionDenied
from civicgrid.core.validation import Id, Text
from civicgrid.supervision import selectors, services
from civicgrid.supervision.models import EarlyWarning, RuleKind, Supervision, SupervisionState, WarningState

try:  # django-ninja >= 1.5
    from ninja import Status
except ImportError:  # pragma: no cover - older ninja takes a (status, body) tuple

    def Status(status_code, value):  # noqa: N802
        return status_code, value


router = Router(tags=["督办与预警"])


def _user(request):
    user = request.auth
    if not selectors.can_view(user):
        raise PermissionDenied("当前角色不能查看督办与预警", code="forbidden")
    return user


class SupervisionOut(Schema):
    id: Id
    kind: str = Field(description="case 单件督办 / department 部门超期督办")
    case_id: int | None
    case_number: str | None
    department_id: int | None
    department: str | None
    note: str
    due_at: datetime
    state: str = Field(description="open 督办中 / cleared 已销号")
    past_due: bool = Field(description="超期未销号")
    created_by: str
    created_at: datetime
    cleared_at: datetime | None
    cleared_auto: bool
    clear_note: str
    case_ids: list[int]


def _supervision(s: Supervision, now=None) -> dict:
    return {
        "id": s.pk,
        "kind": s.kind,
        "case_id": s.case_id,
        "case_number": s.case.display_number if s.case_id else None,
        "department_id": s.department_id,
        "department": s.department.name if s.department_id else None,
        "note": s.note,
        "due_at": s.due_at,
        "state": s.state,
        "past_due": s.past_due(now),
        "created_by": s.created_by.display_name if s.created_by_id else "",
        "created_at": s.created_at,
        "cleared_at": s.cleared_at,
        "cleared_auto": s.cleared_auto,
        "clear_note": s.clear_note,
        "case_ids": sorted(i.case_id for i in s.items.all()),
    }


class SupervisionQuery(Schema):
    state: str | None = Field(None, description="open / cleared / overdue（超期未销号）")
    department: Id | None = None
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=10_000_000)


class SupervisionListOut(Schema):
    count: int
    results: list[SupervisionOut]


@router.get("/", response=SupervisionListOut, summary="督办列表")
def list_supervisions(request, q: Query[SupervisionQuery]):
    user = _user(request)
    now = clock.now()
    qs = selectors.visible_supervisions(user=user).prefetch_related("items")
    if q.state == "overdue":
        qs = qs.filter(state=SupervisionState.OPEN, due_at__lt=now)
    elif q.state in SupervisionState.values:
        qs = qs.filter(state=q.state)
    elif q.state:
        from civicgrid.core.errors import ValidationFailed

        raise ValidationFailed("state 应为 open / cleared / overdue", field="state")
    if q.department:
        qs = qs.filter(department_id=q.department)
    return {"count": qs.count(), "results": [_supervision(s, now) for s in qs[q.offset : q.offset + q.limit]]}


class CountsQuery(Schema):
    start: date | None = Field(None, alias="from", description="督办日期起（含）")
    end: date | None = Field(None, alias="to", description="督办日期止（含）")


class SupervisionCountOut(Schema):
    department_id: int | None
    department: str
    month: str
    total: int = Field(description="督办数")
    cleared: int = Field(description="已销号")
    overdue_open: int = Field(description="超期未销号")


class SupervisionCountsOut(Schema):
    rows: list[SupervisionCountOut]
    total: int
    cleared: int
    overdue_open: int


@router.get(
    "/counts", response=SupervisionCountsOut, summary="督办统计（部门 × 月：督办数、已销号、超期未销号）"
)
def supervision_counts(request, q: Query[CountsQuery]):
    user = _user(request)
    rows = selectors.counts(user=user, start=q.start, end=q.end)
    return {"rows": [r.as_dict for r in rows], **selectors.totals(rows)}


@router.get("/items/{supervision_id}", response=SupervisionOut, summary="一项督办")
def get_supervision(request, supervision_id: Id):
    return _supervision(selectors.get_supervision(user=_user(request), pk=supervision_id))


class SuperviseCaseIn(Schema):
    case_id: Id
    note: Text = Field(min_length=1, max_length=2000)
    due_at: date | datetime = Field(description="督办期限（日期：当天 23:59；或日期时间）")


@router.post("/cases", response={201: SupervisionOut}, summary="督办一件案件（值班长、领导）")
def post_supervise_case(request, body: SuperviseCaseIn):
    user = _user(request)
    case = case_selectors.get_case(user=user, pk=body.case_id)
    s = services.supervise_case(actor=user, case=case, note=body.note, due_at=body.due_at)
    return Status(201, _supervision(s))


class SuperviseDepartmentIn(Schema):
    department_id: Id
    note: Text = Field(min_length=1, max_length=2000)
    due_at: date | datetime


@router.post("/departments", response={201: SupervisionOut}, summary="督办一个部门的超期工单（值班长、领导）")
def post_supervise_department(request, body: SuperviseDepartmentIn):
    user = _user(request)
    department = Department.objects.restrict(user, "view").filter(pk=body.department_id).first()
    if department is None:
        raise NotFound("部门不存在或无权查看", field="department_id")
    s = services.supervise_department(actor=user, department=department, note=body.note, due_at=body.due_at)
    return Status(201, _supervision(s))


class ClearIn(Schema):
    note: Text = Field(min_length=1, max_length=500)


@router.post("/items/{supervision_id}/clear", response=SupervisionOut, summary="督办销号（须填说明）")
def post_clear(request, supervision_id: Id, body: ClearIn):
    user = _user(request)
    s = selectors.get_supervision(user=user, pk=supervision_id)
    return _supervision(services.clear(actor=user, supervision=s, note=body.note))


# --- warnings -----------------------------------------------------------------------------------------


class WarningOut(Schema):
    id: Id
    rule: str = Field(description="surge / repeat_address / repeat_caller / overdue_risk")
    rule_label: str
    day: date
    title: str
    message: str
    observed: float | None
    expected: float | None
    probability: float | None
    community_id: int | None
    category_id: int | None
    department_id: int | None
    case_id: int | None
    case_ids: list[int]
    state: str = Field(description="pending 待处理 / acknowledged 已确认 / resolved 已处置")
    created_at: datetime
    handled_by: str | None
    handled_at: datetime | None
    handle_note: str


def _warning(w: EarlyWarning) -> dict:
    return {
        "id": w.pk,
        "rule": w.rule,
        "rule_label": w.get_rule_display(),
        "day": w.day,
        "title": w.title,
        "message": w.message,
        "observed": w.observed,
        "expected": w.expected,
        "probability": w.probability,
        "community_id": w.community_id,
        "category_id": w.category_id,
        "department_id": w.department_id,
        "case_id": w.case_id,
        "case_ids": list(w.case_ids or []),
        "state": w.state,
        "created_at": w.created_at,
        "handled_by": w.handled_by.display_name if w.handled_by_id else None,
        "handled_at": w.handled_at,
        "handle_note": w.handle_note,
    }


class WarningQuery(Schema):
    rule: str | None = Field(None, description="surge / repeat_address / repeat_caller / overdue_risk")
    state: str | None = Field(None, description="open（未处置）/ pending / acknowledged / resolved")
    community: Id | None = None
    department: Id | None = None
    start: date | None = Field(None, alias="from")
    end: date | None = Field(None, alias="to")
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=10_000_000)


class WarningListOut(Schema):
    count: int
    results: list[WarningOut]


@router.get("/warnings", response=WarningListOut, summary="预警列表（可按规则、状态、社区、部门、日期筛选）")
def list_warnings(request, q: Query[WarningQuery]):
    from civicgrid.core.errors import ValidationFailed

    user = _user(request)
    if q.rule and q.rule not in RuleKind.values:
        raise ValidationFailed(
            "rule 应为 surge / repeat_address / repeat_caller / overdue_risk", field="rule"
        )
    if q.state and q.state not in ("open", *WarningState.values):
        raise ValidationFailed("state 应为 open / pending / acknowledged / resolved", field="state")
    qs = selectors.filter_warnings(
        selectors.visible_warnings(user=user),
        rule=q.rule or "",
        state=q.state or "",
        community_id=q.community,
        department_id=q.department,
        start=q.start,
        end=q.end,
    )
    return {"count": qs.count(), "results": [_warning(w) for w in qs[q.offset : q.offset + q.limit]]}


@router.get("/warnings/{warning_id}", response=WarningOut, summary="一条预警")
def get_warning(request, warning_id: Id):
    return _warning(selectors.get_warning(user=_user(request), pk=warning_id))


class WarningHandleIn(Schema):
    move: str = Field(description="acknowledge 确认 / resolve 处置完毕")
    note: Text = Field(min_length=1, max_length=500)


@router.post("/warnings/{warning_id}/handle", response=WarningOut, summary="确认或处置一条预警（须填说明）")
def post_handle_warning(request, warning_id: Id, body: WarningHandleIn):
    user = _user(request)
    w = selectors.get_warning(user=user, pk=warning_id)
    return _warning(services.handle_warning(actor=user, warning=w, move=body.move, note=body.note))
