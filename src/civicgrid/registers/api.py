"""基础台账 API (/api/v1/registers): 人员 (masked list/detail, create, the logged full view), 户, 入户走访
(record, with a finding → case), 重点人员 overdue list, figures. Masking is the same as on the pages."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Literal

from ninja import Query, Router, Schema
from pydantic import Field

from civicgrid.accounts.roles import Capability, Role, has_capability
from civicgrid.core import clock
from civicgrid.core.errors import PermissionDenied, ValidationFailed
from civicgrid.core.validation import Id, Text
from civicgrid.registers import metrics, selectors, services

router = Router(tags=["基础台账"])


def _user(request):
    user = request.auth
    if not has_capability(user, Capability.BUSINESS_VIEW) or user.role == Role.DEPT_HANDLER:
        raise PermissionDenied("当前角色不能查看基础台账", code="forbidden")
    return user


class PersonOut(Schema):
    id: int
    name: str
    id_number: str = Field(description="身份证号（脱敏）")
    phone: str = Field(description="联系电话（脱敏）")
    residence: str
    floating_status: str
    grid: int
    household: int | None
    relation: str
    tags: list[str]
    is_active: bool


def _person(p) -> dict:
    return {
        "id": p.pk,
        "name": p.name,
        "id_number": p.id_masked,
        "phone": p.phone_masked,
        "residence": p.residence,
        "floating_status": p.floating_status,
        "grid": p.grid_id,
        "household": p.household_id,
        "relation": p.relation,
        "tags": [t.code for t in p.tags.all()],
        "is_active": p.is_active,
    }


class PersonQuery(Schema):
    q: Text = Field("", max_length=40, description="姓名片段，或完整 18 位身份证号（精确）")
    tag: Text = Field("", max_length=20)
    residence: Literal["", "huji", "resident", "floating"] = ""
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=1_000_000)


@router.get("/persons", response=list[PersonOut], summary="人员列表（脱敏）")
def list_persons(request, q: Query[PersonQuery]):
    rows = selectors.person_rows(user=_user(request), q=q.q, tag=q.tag, residence=q.residence)
    return [_person(p) for p in rows[q.offset : q.offset + q.limit]]


@router.get("/persons/{person_id}", response=PersonOut, summary="人员（脱敏）")
def get_person(request, person_id: Id):
    return _person(selectors.get_person(user=_user(request), pk=person_id))


class PersonIn(Schema):
    name: Text = Field(..., max_length=30)
    id_number: Text = Field(..., max_length=30)
    residence: Literal["huji", "resident", "floating"]
    grid: Id | None = None
    household: Id | None = None
    relation: Text = Field("", max_length=10)
    phone: Text = Field("", max_length=20)
    tags: list[Text] = Field([], max_length=20)


@router.post("/persons", response=PersonOut, summary="登记人员")
def create_person(request, body: PersonIn):
    user = _user(request)
    household = selectors.get_household(user=user, pk=body.household) if body.household else None
    p = services.create_person(
        actor=user,
        data=services.PersonInput(
            name=body.name,
            id_number=body.id_number,
            residence=body.residence,
            grid_id=body.grid,
            household=household,
            relation=body.relation,
            phone=body.phone,
            tags=tuple(body.tags),
        ),
    )
    return _person(selectors.get_person(user=user, pk=p.pk))


class RevealIn(Schema):
    reason: Text = Field(..., max_length=200, description="查阅事由（记入查阅记录与审计日志）")


class RevealOut(Schema):
    id_number: str
    phone: str


@router.post(
    "/persons/{person_id}/reveal", response=RevealOut, summary="查看完整身份证号与电话（需权限，逐次留痕）"
)
def reveal(request, person_id: Id, body: RevealIn):
    user = _user(request)
    person = selectors.get_person(user=user, pk=person_id)
    return services.reveal_person(actor=user, person=person, reason=body.reason, channel="api")


class AssistanceOut(Schema):
    kind: str
    person: int | None
    recognized_on: date
    review_on: date | None
    exited_on: date | None
    monthly_amount: float


class HouseholdOut(Schema):
    id: int
    address: str
    grid: int
    members: list[PersonOut]
    assistance: list[AssistanceOut]


@router.get("/households/{household_id}", response=HouseholdOut, summary="一户一档")
def get_household(request, household_id: Id):
    hh = selectors.get_household(user=_user(request), pk=household_id)
    return {
        "id": hh.pk,
        "address": f"{hh.building.name}{hh.room}室",
        "grid": hh.grid_id,
        "members": [_person(m) for m in hh.members.all()],
        "assistance": [
            {
                "kind": a.kind,
                "person": a.person_id,
                "recognized_on": a.recognized_on,
                "review_on": a.review_on,
                "exited_on": a.exited_on,
                "monthly_amount": float(a.monthly_amount),
            }
            for a in hh.assistance.all()
        ],
    }


class AnswerIn(Schema):
    item: Id
    ok: bool
    note: Text = Field("", max_length=200)


class VisitIn(Schema):
    target_kind: Literal["household", "person", "unit", "building"]
    target_id: Id
    method: Literal["home", "door", "phone", "video"]
    answers: list[AnswerIn] = Field([], max_length=50)
    persons: list[Id] = Field([], max_length=50, description="见到的在册人员；户走访留空=全体在册成员")
    met_note: Text = Field("", max_length=200)
    notes: Text = Field("", max_length=5000)
    visited_at: datetime | None = Field(None, description="走访时间（带时区；默认现在，最近 30 天内）")
    finding: Text = Field("", max_length=1000, description="发现的问题：非空即上报（见 report_as）")
    report_as: Literal["case", "hazard"] = Field(
        "case", description="发现的问题上报为：工单 case / 安全隐患 hazard"
    )
    idempotency_key: Text = Field("", max_length=60)
    client_id: str = Field(
        "", max_length=64, pattern=r"^[A-Za-z0-9-]*$", description="手机生成的编号（离线重传只保存一次）"
    )


class VisitOut(Schema):
    id: int
    target_kind: str
    target_name: str
    method: str
    visited_at: datetime
    persons: list[int]
    case: int | None
    case_procedure: str | None = Field(None, description="上报的办理程序：standard 工单 / hazard 安全隐患")
    replayed: bool = Field(False, description="同一 client_id 已保存过：返回第一次的记录")


@router.post("/visits", response=VisitOut, summary="录入入户走访（发现问题一键转工单/隐患）")
def create_visit(request, body: VisitIn):
    user = _user(request)
    items = {i.pk: i for i in selectors.check_items()}
    answers = []
    for n, a in enumerate(body.answers):
        if a.item not in items:
            raise ValidationFailed("走访检查项不存在或已停用", field=f"answers.{n}.item")
        answers.append(services.CheckAnswer(items[a.item], a.ok, a.note))
    v = services.record_visit(
        actor=user,
        target_kind=body.target_kind,
        target_id=body.target_id,
        method=body.method,
        answers=answers,
        person_ids=body.persons,
        met_note=body.met_note,
        notes=body.notes,
        visited_at=body.visited_at,
        finding=body.finding,
        report_as=body.report_as,
        idempotency_key=body.idempotency_key or None,
        client_id=body.client_id,
    )
    return {
        "id": v.pk,
        "target_kind": v.target_kind,
        "target_name": v.target_name,
        "method": v.method,
        "visited_at": v.visited_at,
        "persons": [p.pk for p in v.persons.all()],
        "case": v.case_id,
        "case_procedure": v.case.procedure if v.case_id else None,
        "replayed": v.replayed,
    }


class OverdueOut(Schema):
    person: int
    name: str
    interval: int
    last_visit: date | None
    due: date
    overdue: bool
    days_over: int


@router.get("/overdue", response=list[OverdueOut], summary="重点人员走访（默认只列超期）")
def overdue(request, all: bool = False):  # noqa: A002
    rows = selectors.key_person_status(
        persons=selectors.visible_persons(user=_user(request)), as_of=clock.local_now().date()
    )
    return [
        {
            "person": r["person"].pk,
            "name": r["person"].name,
            **{k: r[k] for k in ("interval", "last_visit", "due", "overdue", "days_over")},
        }
        for r in rows
        if all or r["overdue"]
    ]


class RegistersFiguresOut(Schema):
    start: date
    end: date
    visit_count: int = Field(description="走访次数")
    visit_person_times: int = Field(description="入户走访人次")
    collected: int = Field(description="采集条数（网格员新增+修改，按审计日志）")
    key_persons: int
    key_on_time: int
    key_on_time_rate: float | None = Field(description="重点人员走访及时率 %（期末时点）")
    cancelled: int
    cancelled_on_time: int
    cancel_on_time_rate: float | None = Field(description="流动人口注销及时率 %")


class RegistersPeriodQuery(Schema):
    start: date | None = None
    end: date | None = None


@router.get("/figures", response=RegistersFiguresOut, summary="基础台账统计")
def figures(request, q: Query[RegistersPeriodQuery]):
    user = _user(request)
    end = q.end or clock.local_now().date()
    start = q.start or end.replace(day=1)
    if start > end or end - start > timedelta(days=3660):
        raise ValidationFailed("统计期不合法（开始不晚于结束，且不超过 10 年）", field="start")
    return metrics.figures(user=user, start=start, end=end).__dict__
