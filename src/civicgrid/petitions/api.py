"""信访 API (/api/v1/petitions): the ledger (list, one 信访, 登记), figures, 协查任务, 积案化解, 来访接待.

A 信访 is a case of the ``petition`` procedure: its moves are the case API's (``POST /api/v1/cases/{id}/notify-accept``,
``…/reply``, ``…/close`` …, generated from the procedure), and every case endpoint applies the procedure's visibility
rule. Here the 信访人's name, ID number and phone are always masked.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Literal

from ninja import Query, Router, Schema
from pydantic import Field

from civicgrid.accounts.roles import Capability, has_capability
from civicgrid.cases.models import Case
from civicgrid.cases.selectors import mask_id_number, mask_name, mask_phone
from civicgrid.core import clock
from civicgrid.core.errors import NotFound, PermissionDenied, ValidationFailed
from civicgrid.core.validation import Id, Text
from civicgrid.petitions import metrics, selectors, services
from civicgrid.petitions.models import PetitionDetail, PetitionTask
from civicgrid.petitions.workflow import PROCEDURE

try:  # django-ninja >= 1.5
    from ninja import Status
except ImportError:  # pragma: no cover - older ninja takes a (status, body) tuple

    def Status(status_code, value):  # noqa: N802
        return status_code, value


router = Router(tags=["信访"])


def _user(request):
    user = request.auth
    if not has_capability(user, Capability.BUSINESS_VIEW):
        raise PermissionDenied("当前角色不能查看信访", code="forbidden")
    return user


def _ledger_user(request):
    user = _user(request)
    if not selectors.sees_ledger(user):
        raise PermissionDenied("只有信访办和领导可以查看信访台账", code="forbidden")
    return user


class PetitionOut(Schema):
    id: int
    number: str | None
    ledger_ref: str
    state: str
    state_label: str
    form: str
    kind: str
    leap_level: str
    is_group: bool
    headcount: int
    petitioner: str = Field(description="信访人（脱敏）")
    petitioner_phone: str = Field(description="联系电话（脱敏）")
    petitioner_id_number: str = Field(description="身份证号（脱敏）")
    summary: str
    lead: int | None
    department: str | None
    registered_at: datetime
    accepted_at: datetime | None
    handle_due_at: datetime | None
    replied_at: datetime | None
    done_at: datetime | None
    done_on_time: bool | None
    due_at: datetime | None = Field(description="当前环节的期满时刻")
    stage: str
    light: str
    reopen_count: int
    earlier: list[int]
    resolved_at: date | None
    resolve_method: str


def _out(d: PetitionDetail) -> dict:
    c = d.case
    return {
        "id": c.pk,
        "number": c.number,
        "ledger_ref": d.ledger_ref,
        "state": c.state,
        "state_label": PROCEDURE.state_label(c.state),
        "form": d.form,
        "kind": d.kind,
        "leap_level": d.leap_level,
        "is_group": d.is_group,
        "headcount": d.headcount,
        "petitioner": mask_name(d.petitioner_name),
        "petitioner_phone": mask_phone(d.petitioner_phone) if d.petitioner_phone else "",
        "petitioner_id_number": mask_id_number(d.petitioner_id_number) if d.petitioner_id_number else "",
        "summary": d.summary,
        "lead": d.lead_id,
        "department": c.department.name if c.department_id else None,
        "registered_at": d.registered_at,
        "accepted_at": d.accepted_at,
        "handle_due_at": d.handle_due_at,
        "replied_at": d.replied_at,
        "done_at": d.done_at,
        "done_on_time": d.done_on_time,
        "due_at": c.due_at,
        "stage": c.stage,
        "light": c.light,
        "reopen_count": d.reopen_count,
        "earlier": [e.pk for e in d.earlier.all()],
        "resolved_at": d.resolved_at,
        "resolve_method": d.resolve_method,
    }


class PetitionListQuery(Schema):
    state: str = Field("", max_length=16)
    kind: Literal["", "first", "repeat", "leapfrog"] = ""
    backlog: bool = Field(False, description="只看积案")
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=1_000_000)


@router.get("", response=list[PetitionOut], summary="信访台账")
def list_petitions(request, q: Query[PetitionListQuery]):
    user = _ledger_user(request)
    rows = selectors.petition_rows(user=user, state=q.state, kind=q.kind, backlog=q.backlog)
    return [_out(d) for d in rows.prefetch_related("earlier")[q.offset : q.offset + q.limit]]


class PetitionPeriodQuery(Schema):
    start: date | None = Field(None, description="开始日期（含），默认本年 1 月 1 日")
    end: date | None = Field(None, description="结束日期（含），默认今天")


class PetitionFiguresOut(Schema):
    start: date
    end: date
    registered: int = Field(description="登记数（按登记日期）")
    accepted: int = Field(description="受理数（按受理日期）")
    accepted_done: int = Field(description="期内受理且期末前已办结")
    done: int = Field(description="办结数（按首次办结日期）")
    done_on_time: int
    done_rate: float | None = Field(description="办结率 % = 期内受理且期末前已办结 / 受理数")
    on_time_rate: float | None = Field(description="按期办结率 % = 按期办结 / 办结数")
    first: int
    first_resolved: int
    first_resolve_rate: float | None = Field(description="初信初访化解率 %")
    repeat: int = Field(description="重复信访数（按登记日期）")
    leapfrog: dict[str, int] = Field(
        description="越级访（按登记日期）：city 赴市 / province 赴省 / beijing 进京"
    )
    leapfrog_total: int
    zero_beijing: bool = Field(description="零进京")
    backlog_resolved: int = Field(description="积案化解数（按化解日期）")
    backlog_open: int = Field(description="当前积案数（未化解）")
    reception_batches: int = Field(description="接待批次")
    reception_people: int = Field(description="接待人次")


@router.get("/figures", response=PetitionFiguresOut, summary="信访统计")
def get_figures(request, q: Query[PetitionPeriodQuery]):
    user = _ledger_user(request)
    end = q.end or clock.local_now().date()
    start = q.start or end.replace(month=1, day=1)
    if start > end or (end - start) > timedelta(days=3660):
        raise ValidationFailed("统计期不合法（开始不晚于结束，且不超过 10 年）", field="start")
    return metrics.figures(user=user, start=start, end=end).as_dict()


class PetitionRegisterIn(Schema):
    form: Literal["letter", "visit", "online", "phone", "mailbox"]
    kind: Literal["first", "repeat", "leapfrog"] = "first"
    leap_level: Literal["", "city", "province", "beijing"] = ""
    is_group: bool = False
    headcount: int = Field(1, ge=1, le=10_000)
    petitioner_name: Text = Field(..., max_length=50)
    petitioner_id_number: Text = Field("", max_length=18)
    petitioner_phone: Text = Field("", max_length=30)
    petitioner_address: Text = Field("", max_length=200)
    summary: Text = Field(..., max_length=300)
    description: Text = Field("", max_length=4000)
    lead: Id | None = Field(None, description="包案领导（用户 id）")
    grid: Id | None = Field(None, description="信访人所在网格（交办网格员协查时需要）")
    earlier: list[Id] = Field([], max_length=20, description="关联的前次信访（案件 id）")
    received_at: datetime | None = Field(None, description="来信/来访时间（带时区；默认现在，最近 30 天内）")


def _pick(qs, pk, field: str, message: str):
    if pk is None:
        return None
    obj = qs.filter(pk=pk).first()
    if obj is None:
        raise ValidationFailed(message, field=field)
    return obj


@router.post("", response={201: PetitionOut}, summary="登记信访（信访办）")
def register(request, body: PetitionRegisterIn):
    from civicgrid.places.selectors import visible_grids

    user = _user(request)
    services.require_desk(user)
    if body.received_at is not None and body.received_at.tzinfo is None:
        raise ValidationFailed("来信/来访时间必须带时区", field="received_at")
    data = services.Registration(
        form=body.form,
        kind=body.kind,
        leap_level=body.leap_level,
        is_group=body.is_group,
        headcount=body.headcount,
        petitioner_name=body.petitioner_name,
        petitioner_id_number=body.petitioner_id_number,
        petitioner_phone=body.petitioner_phone,
        petitioner_address=body.petitioner_address,
        summary=body.summary,
        description=body.description,
        lead=_pick(selectors.lead_choices(user=user), body.lead, "lead", "包案领导须为本街道的领导或值班长"),
        grid=_pick(visible_grids(user=user), body.grid, "grid", "网格不存在或不在您的辖区"),
        earlier=list(body.earlier),
    )
    case = services.register_petition(actor=user, data=data, received_at=body.received_at)
    return Status(201, _out(selectors.get_petition(user=user, pk=case.pk)))


@router.get("/receptions", summary="来访接待登记")
def list_receptions(request, q: Query[PetitionPeriodQuery]) -> list[dict]:
    user = _ledger_user(request)
    qs = selectors.reception_rows(user=user)
    if q.start:
        qs = qs.filter(received_on__gte=q.start)
    if q.end:
        qs = qs.filter(received_on__lte=q.end)
    visible = set(selectors.visible_petitions(user=user).values_list("pk", flat=True))
    return [
        {
            "id": r.pk,
            "received_on": r.received_on,
            "people": r.people,
            "leader": r.leader_id,
            "petition": r.petition_id if r.petition_id in visible else None,
            "topic": r.topic,
        }
        for r in qs[:2000]
    ]


class ReceptionIn(Schema):
    received_on: date
    people: int = Field(1, ge=1, le=10_000)
    topic: Text = Field(..., max_length=300)
    leader: Id | None = None
    petition: Id | None = None


@router.post("/receptions", response={201: dict}, summary="登记一批来访接待（信访办）")
def create_reception(request, body: ReceptionIn):
    user = _user(request)
    services.require_desk(user)
    from civicgrid.accounts.roles import Role

    leader = _pick(
        selectors.street_people(user=user, roles=(Role.LEADER,)),
        body.leader,
        "leader",
        "接待领导须为本街道的领导",
    )
    petition = _pick(
        selectors.visible_petitions(user=user), body.petition, "petition", "关联信访不存在或无权查看"
    )
    r = services.record_reception(
        actor=user,
        received_on=body.received_on,
        people=body.people,
        topic=body.topic,
        leader=leader,
        petition=petition,
    )
    return Status(201, {"id": r.pk, "received_on": r.received_on, "people": r.people})


def _case(user, pk: int) -> Case:
    case = selectors.visible_petitions(user=user).filter(pk=pk).first()
    if case is None:
        raise NotFound("信访不存在或无权查看")
    return case


@router.get("/{int:petition_id}", response=PetitionOut, summary="一件信访")
def get_petition(request, petition_id: Id):
    return _out(selectors.get_petition(user=_user(request), pk=petition_id))


class TaskIn(Schema):
    assignee: Id
    text: Text = Field(..., max_length=300)


@router.post("/{int:petition_id}/tasks", response={201: dict}, summary="交办协查任务给网格员（信访办）")
def create_task(request, petition_id: Id, body: TaskIn):
    from civicgrid.accounts.roles import Role

    user = _user(request)
    services.require_desk(user)
    case = _case(user, petition_id)
    worker = _pick(selectors.street_people(user=user, roles=(Role.GRID_WORKER,)), body.assignee, "assignee",
                   "网格员不存在或不在您的辖区")  # fmt: skip
    t = services.assign_task(actor=user, case=case, assignee=worker, text=body.text)
    return Status(201, {"id": t.pk, "case": case.pk, "assignee": worker.pk})


class TaskDoneIn(Schema):
    result: Text = Field(..., max_length=300)


@router.post("/tasks/{int:task_id}/done", summary="完成协查任务（被交办的网格员）")
def finish_task(request, task_id: Id, body: TaskDoneIn) -> dict:
    user = _user(request)
    task = PetitionTask.objects.restrict(user, "view").filter(pk=task_id).first()
    if task is None:
        raise NotFound("任务不存在或无权查看")
    t = services.finish_task(actor=user, task=task, result=body.result)
    return {"id": t.pk, "done_at": t.done_at}


class ResolveIn(Schema):
    resolved_on: date
    method: Literal["settled", "explained", "aid", "mediated", "closed_out"]
    note: Text = Field("", max_length=300)


@router.post("/{int:petition_id}/resolve", response=PetitionOut, summary="登记积案化解（信访办）")
def resolve(request, petition_id: Id, body: ResolveIn):
    user = _user(request)
    services.require_desk(user)
    case = _case(user, petition_id)
    services.resolve_backlog(
        actor=user, case=case, resolved_on=body.resolved_on, method=body.method, note=body.note
    )
    return _out(selectors.get_petition(user=user, pk=petition_id))
