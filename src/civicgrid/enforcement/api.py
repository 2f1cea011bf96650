"""综合执法 API (/api/v1/enforcement): the ledger (list, one case's record), 登记 a case, the figures and the
违法行为类型. The moves are the case API's (``POST /api/v1/cases/{id}/file-case`` …, generated from the
procedure)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Literal

from ninja import Query, Router, Schema, Status
from pydantic import Field

from civicgrid.accounts.roles import Capability, has_capability
from civicgrid.cases.selectors import mask_phone
from civicgrid.core import clock
from civicgrid.core.errors import PermissionDenied, ValidationFailed
from civicgrid.core.validation import Id, Text
from civicgrid.enforcement import metrics, selectors, services
from civicgrid.enforcement.models import EnforcementDetail

router = Router(tags=["综合执法"])


def _user(request):
    user = request.auth
    if not has_capability(user, Capability.BUSINESS_VIEW):
        raise PermissionDenied("当前角色不能查看执法案件", code="forbidden")
    return user


class EnforcementPeriodQuery(Schema):
    start: date | None = Field(None, description="开始日期（含），默认本月 1 日")
    end: date | None = Field(None, description="结束日期（含），默认今天")


class TypeCount(Schema):
    type: str
    count: int


class EnforcementFiguresOut(Schema):
    start: date
    end: date
    accepted: int = Field(description="受理案件数（按受理时间：一般程序立案、简易程序当场处罚）")
    general: int = Field(description="一般程序数")
    simple: int = Field(description="简易程序数")
    concluded: int = Field(description="结案数（按结案时间）")
    fines: Decimal = Field(description="罚款总额（元，按决定时间）")
    demolished_area: Decimal = Field(description="拆除违建面积（㎡，按执行完毕时间）")
    demolished_sites: int = Field(description="拆除违建处数（按执行完毕时间）")
    not_filed: int
    transferred: int
    withdrawn: int
    by_type: list[TypeCount]


def period(start: date | None, end: date | None) -> tuple[date, date]:
    end = end or clock.local_now().date()
    start = start or end.replace(day=1)
    if start > end or (end - start) > timedelta(days=3660):
        raise ValidationFailed("统计期不合法（开始不晚于结束，且不超过 10 年）", field="start")
    return start, end


@router.get("/figures", response=EnforcementFiguresOut, summary="综合执法统计")
def get_figures(request, q: Query[EnforcementPeriodQuery]):
    start, end = period(q.start, q.end)
    return metrics.figures(user=_user(request), start=start, end=end).as_dict()


class EnforcementCaseOut(Schema):
    id: int
    number: str | None
    state: str
    state_label: str
    procedure_kind: str
    party_name: str
    party_kind: str
    party_contact: str = Field(description="联系电话（脱敏）")
    violation_type: str | None
    address: str
    description: str
    department: str | None
    discovered_at: datetime
    accepted_at: datetime | None
    decided_at: datetime | None
    executed_at: datetime | None
    concluded_at: datetime | None
    legal_basis: str
    penalty: str
    decision_no: str
    fine_amount: Decimal | None
    demolished_area: Decimal | None
    demolished_sites: int | None
    incident_count: int | None
    source_case: str | None = Field(description="来源案件编号")
    external_ref: str
    due_at: datetime | None
    stage: str


def _out(d: EnforcementDetail) -> dict:
    c = d.case
    return {
        "id": c.pk,
        "number": c.number,
        "state": c.state,
        "state_label": c.get_state_display(),
        "procedure_kind": d.procedure_kind,
        "party_name": d.party_name,
        "party_kind": d.party_kind,
        "party_contact": mask_phone(d.party_contact),
        "violation_type": d.violation_type.name if d.violation_type_id else None,
        "address": c.address,
        "description": c.description,
        "department": c.department.name if c.department_id else None,
        "discovered_at": d.discovered_at,
        "accepted_at": d.accepted_at,
        "decided_at": d.decided_at,
        "executed_at": d.executed_at,
        "concluded_at": d.concluded_at,
        "legal_basis": d.legal_basis,
        "penalty": d.penalty,
        "decision_no": d.decision_no,
        "fine_amount": d.fine_amount,
        "demolished_area": d.demolished_area,
        "demolished_sites": d.demolished_sites,
        "incident_count": d.incident_count,
        "source_case": d.source_case.number if d.source_case_id else None,
        "external_ref": d.external_ref,
        "due_at": c.due_at,
        "stage": c.stage,
    }


class EnforcementListQuery(Schema):
    state: str = Field("", max_length=16)
    procedure_kind: Literal["", "simple", "general"] = ""
    violation: str = Field("", max_length=30, description="违法行为类型编码")
    q: Text = Field("", max_length=60, description="当事人/编号/决定书文号")
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=1_000_000)


@router.get("/cases", response=list[EnforcementCaseOut], summary="执法案件台账")
def list_cases(request, q: Query[EnforcementListQuery]):
    qs = selectors.rows(
        user=_user(request), state=q.state, kind=q.procedure_kind, violation=q.violation, text=q.q
    )
    return [_out(d) for d in qs[q.offset : q.offset + q.limit]]


@router.get("/cases/{case_id}", response=EnforcementCaseOut, summary="一件执法案件")
def get_case(request, case_id: Id):
    return _out(selectors.get_row(user=_user(request), case_id=case_id))


class ViolationTypeOut(Schema):
    id: int
    code: str
    name: str


@router.get("/violation-types", response=list[ViolationTypeOut], summary="违法行为类型")
def violation_types(request):
    _user(request)
    return [{"id": v.pk, "code": v.code, "name": v.name} for v in selectors.violation_types()]


class EnforcementRegisterIn(Schema):
    party_name: Text = Field(..., max_length=100)
    party_kind: Literal["person", "unit"] = "person"
    party_contact: Text = Field("", max_length=30)
    violation_type: Id
    description: Text = Field("", max_length=5000)
    department: Id = Field(description="办案单位（执法队）")
    discovered_at: datetime | None = Field(None, description="发现时间（带时区；默认现在）")
    address: Text = Field("", max_length=200)
    grid: Id | None = None
    source_case: Text = Field("", max_length=16, description="来源案件编号（12345/网格案件，可选）")
    note: Text = Field("", max_length=2000)


@router.post("/cases", response={201: EnforcementCaseOut}, summary="登记执法案件（线索受理）")
def register(request, body: EnforcementRegisterIn):
    from civicgrid.places import selectors as place_selectors

    user = _user(request)
    vt = selectors.violation_types().filter(pk=body.violation_type).first()
    if vt is None:
        raise ValidationFailed("违法行为类型不存在", field="violation_type", code="enforcement_type_required")
    dept = selectors.departments(user=user).filter(pk=body.department).first()
    if dept is None:
        raise ValidationFailed("办案单位不存在", field="department", code="enforcement_department_invalid")
    grid = None
    if body.grid is not None:
        grid = (
            place_selectors.visible_grids(user=user).select_related("community").filter(pk=body.grid).first()
        )
        if grid is None:
            raise ValidationFailed("网格不存在或不在您的辖区", field="grid", code="invalid_input")
    source = None
    if body.source_case:
        source = selectors.find_source_case(user=user, number=body.source_case)
        if source is None:
            raise ValidationFailed(
                "来源案件不存在或无权查看", field="source_case", code="enforcement_source_case_not_found"
            )
    if body.discovered_at is not None and body.discovered_at.tzinfo is None:
        raise ValidationFailed("发现时间必须带时区", field="discovered_at", code="invalid_input")
    case = services.register_case(
        actor=user,
        party=services.Party(name=body.party_name, kind=body.party_kind, contact=body.party_contact),
        violation_type=vt,
        description=body.description,
        department=dept,
        discovered_at=body.discovered_at,
        address=body.address,
        grid=grid,
        source_case=source,
        note=body.note,
    )
    return Status(201, _out(selectors.rows(user=user).get(case_id=case.pk)))
