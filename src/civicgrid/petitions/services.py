"""Every write of the 信访 ledger: 登记 (a ``petition`` case through the case services plus its detail record),
协查任务, 积案化解, 来访接待. Keyword-only, each takes ``actor``; write and audit in one transaction. The case tables
are written only through :mod:`civicgrid.cases.services`; the moves (受理告知, 答复, 办结 …) are the engine's
(``cases.services.perform``) on the procedure of :mod:`civicgrid.petitions.workflow`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import transaction

from civicgrid.accounts.roles import Role
from civicgrid.cases import services as case_services
from civicgrid.cases.errors import CaseErrorCode
from civicgrid.cases.models import Case
from civicgrid.core import audit, clock
from civicgrid.core.errors import PermissionDenied, ValidationFailed
from civicgrid.petitions import selectors
from civicgrid.petitions.errors import PetitionErrorCode
from civicgrid.petitions.models import (
    LeapLevel,
    PetitionDetail,
    Petitioner,
    PetitionForm,
    PetitionKind,
    PetitionTask,
    Reception,
    ResolveMethod,
)
from civicgrid.petitions.workflow import CODE, is_desk

MAX_BACKDATE_DAYS = 30  # a 来信 registered a few days after it arrived
MAX_HEADCOUNT = 10_000


@dataclass
class Registration:
    """What the desk enters at 登记."""

    form: str
    summary: str
    petitioner_name: str
    kind: str = PetitionKind.FIRST
    leap_level: str = ""
    is_group: bool = False
    headcount: int = 1
    petitioner_id_number: str = ""
    petitioner_phone: str = ""
    petitioner_address: str = ""
    description: str = ""
    lead: object = None
    grid: object = None
    earlier: list = field(default_factory=list)
    ledger_ref: str = ""


def require_desk(actor) -> None:
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise PermissionDenied("请先登录", code=CaseErrorCode.LOGIN_REQUIRED)
    if not is_desk(actor):
        raise PermissionDenied("只有信访办人员可以办理此项", code=PetitionErrorCode.NOT_DESK)


def _clean(actor, r: Registration) -> Registration:
    if r.form not in PetitionForm.values:
        raise ValidationFailed("请选择信访形式", field="form", code=CaseErrorCode.INVALID_INPUT)
    if r.kind not in PetitionKind.values:
        raise ValidationFailed("请选择信访类别", field="kind", code=CaseErrorCode.INVALID_INPUT)
    r.summary = (r.summary or "").strip()
    if not r.summary:
        raise ValidationFailed("请填写信访事项", field="summary", code=PetitionErrorCode.SUMMARY_REQUIRED)
    if len(r.summary) > 300:
        raise ValidationFailed("信访事项不能超过 300 字", field="summary", code=CaseErrorCode.INVALID_INPUT)
    r.petitioner_name = (r.petitioner_name or "").strip()[:50]
    if not r.petitioner_name:
        raise ValidationFailed(
            "请填写信访人（集体访填写代表人）",
            field="petitioner_name",
            code=PetitionErrorCode.PETITIONER_REQUIRED,
        )
    if r.kind == PetitionKind.LEAPFROG:
        if r.leap_level not in LeapLevel.values:
            raise ValidationFailed(
                "越级信访请选择层级（赴市/赴省/进京）",
                field="leap_level",
                code=PetitionErrorCode.LEVEL_REQUIRED,
            )
    else:
        r.leap_level = ""
    try:
        r.headcount = int(r.headcount or 1)
    except (TypeError, ValueError):
        raise ValidationFailed("人数必须是整数", field="headcount", code=PetitionErrorCode.HEADCOUNT_INVALID)
    if r.is_group and not 5 <= r.headcount <= MAX_HEADCOUNT:
        raise ValidationFailed(
            "集体访人数须在 5 人以上", field="headcount", code=PetitionErrorCode.HEADCOUNT_INVALID
        )
    if not r.is_group and not 1 <= r.headcount <= 4:
        raise ValidationFailed(
            "个人信访人数为 1–4 人（5 人以上请选集体访）",
            field="headcount",
            code=PetitionErrorCode.HEADCOUNT_INVALID,
        )
    r.petitioner_id_number = (r.petitioner_id_number or "").strip().upper()
    if r.petitioner_id_number and len(r.petitioner_id_number) not in (15, 18):
        raise ValidationFailed("身份证号应为 15 或 18 位", field="petitioner_id_number")
    r.petitioner_phone = (r.petitioner_phone or "").strip()[:30]
    r.petitioner_address = (r.petitioner_address or "").strip()[:200]
    if r.lead is not None and not selectors.lead_choices(user=actor).filter(pk=r.lead.pk).exists():
        raise ValidationFailed(
            "包案领导须为本街道的领导或值班长", field="lead", code=PetitionErrorCode.LEAD_INVALID
        )
    earlier = list(r.earlier or [])
    if earlier:
        ids = {c.pk if isinstance(c, Case) else int(c) for c in earlier}
        known = list(selectors.visible_petitions(user=actor).filter(pk__in=ids))
        if len(known) != len(ids):
            raise ValidationFailed(
                "关联的前次信访不存在或无权查看", field="earlier", code=PetitionErrorCode.EARLIER_INVALID
            )
        r.earlier = known
    if r.kind == PetitionKind.REPEAT and not r.earlier and not r.ledger_ref:
        raise ValidationFailed(
            "重复信访请关联前次信访", field="earlier", code=PetitionErrorCode.EARLIER_INVALID
        )
    return r


def register_petition(*, actor, data: Registration, received_at: datetime | None = None) -> Case:
    """登记 a 信访: the ``petition`` case, its detail record and the 登记 move (which starts the 15 日 受理告知
    clock), all or nothing. ``received_at``: when the 来信 arrived / the visit happened (within 30 days)."""
    require_desk(actor)
    data = _clean(actor, data)
    now = clock.now()
    when = received_at or now
    if when > now + timedelta(minutes=5) or when < now - timedelta(days=MAX_BACKDATE_DAYS):
        raise ValidationFailed(
            f"登记时间须在最近 {MAX_BACKDATE_DAYS} 天内且不晚于现在",
            field="received_at",
            code=CaseErrorCode.INVALID_INPUT,
        )
    with transaction.atomic():
        case = _create(actor=actor, data=data, registered_at=when)
    return case


def _create(*, actor, data: Registration, registered_at: datetime, channel: str = "") -> Case:
    description = data.summary if not data.description else f"{data.summary}\n{data.description.strip()}"
    case = case_services.create_case(
        actor=actor,
        source="petition",
        description=description[:5000],
        grid=data.grid,
        address="",
        procedure=CODE,
        street_id=getattr(actor, "street_id", None) if data.grid is None else None,
        source_ref=data.ledger_ref[:100],
        channel=channel,
    )
    detail = PetitionDetail.objects.create(
        case=case,
        form=data.form,
        kind=data.kind,
        leap_level=data.leap_level,
        is_group=data.is_group,
        headcount=data.headcount,
        summary=data.summary,
        lead=data.lead,
        ledger_ref=data.ledger_ref,
        registered_at=registered_at,
    )
    Petitioner.objects.create(
        detail=detail,
        name=data.petitioner_name,
        id_number=data.petitioner_id_number,
        phone=data.petitioner_phone,
        address=data.petitioner_address,
    )
    if data.earlier:
        detail.earlier.set(data.earlier)
    audit.record(
        actor=actor,
        action="petitions.petition.create",
        obj=case,
        after={"form": data.form, "kind": data.kind, "leap_level": data.leap_level, "group": data.is_group},
    )
    case_services.perform(actor=actor, case=case, move="register", version=case.version, channel=channel)
    case.refresh_from_db()
    return case


def assign_task(*, actor, case: Case, assignee, text: str) -> PetitionTask:
    """协查任务 for a 网格员 of the 信访人's grid; from then on that 网格员 sees this 信访 (and only it)."""
    require_desk(actor)
    if not selectors.visible_petitions(user=actor).filter(pk=case.pk).exists():
        raise ValidationFailed("信访不存在或无权查看", field="case", code=CaseErrorCode.NOT_FOUND)
    text = (text or "").strip()
    if not text:
        raise ValidationFailed("请填写任务内容", field="text", code=CaseErrorCode.FIELD_REQUIRED)
    if getattr(assignee, "role", None) != Role.GRID_WORKER or not assignee.is_active:
        raise ValidationFailed(
            "协查任务只能交给网格员", field="assignee", code=PetitionErrorCode.ASSIGNEE_INVALID
        )
    if case.grid_id is None or not assignee.grids.filter(pk=case.grid_id).exists():
        raise ValidationFailed(
            "该网格员不负责此信访所在网格", field="assignee", code=PetitionErrorCode.ASSIGNEE_INVALID
        )
    with transaction.atomic():
        task = PetitionTask.objects.create(
            case=case, assignee=assignee, text=text[:300], created_by=actor, created_at=clock.now()
        )
        audit.record(actor=actor, action="petitions.task.create", obj=task, after={"assignee": assignee.pk})
    return task


def finish_task(*, actor, task: PetitionTask, result: str) -> PetitionTask:
    if task.assignee_id != getattr(actor, "pk", None):
        raise PermissionDenied("只有被交办的网格员可以完成此任务", code=CaseErrorCode.ROLE_NOT_ALLOWED)
    result = (result or "").strip()
    if not result:
        raise ValidationFailed("请填写完成情况", field="result", code=CaseErrorCode.FIELD_REQUIRED)
    with transaction.atomic():
        task = PetitionTask.objects.select_for_update().get(pk=task.pk)
        if task.done_at is not None:
            raise ValidationFailed("任务已完成", field="result", code=CaseErrorCode.INVALID_INPUT)
        task.done_at, task.result = clock.now(), result[:300]
        task.save(update_fields=["done_at", "result"])
        audit.record(actor=actor, action="petitions.task.done", obj=task, after={"result": task.result})
    return task


def resolve_backlog(*, actor, case: Case, resolved_on: date, method: str, note: str = "") -> PetitionDetail:
    """积案化解: a 积案 (open past its limit, or 复查/复核 twice) is recorded as 化解 on a day, by a method."""
    require_desk(actor)
    detail = selectors.get_petition(user=actor, pk=case.pk)
    if method not in ResolveMethod.values:
        raise ValidationFailed("请选择化解方式", field="method", code=CaseErrorCode.INVALID_INPUT)
    if not isinstance(resolved_on, date) or resolved_on > clock.local_now().date():
        raise ValidationFailed("化解日期不能晚于今天", field="resolved_on", code=CaseErrorCode.INVALID_INPUT)
    if resolved_on < clock.to_local(detail.registered_at).date():
        raise ValidationFailed(
            "化解日期不能早于登记日期", field="resolved_on", code=CaseErrorCode.INVALID_INPUT
        )
    if detail.resolved_at is not None:
        raise ValidationFailed("该积案已化解", field="resolved_on", code=PetitionErrorCode.NOT_BACKLOG)
    if not selectors.is_backlog(detail):
        raise ValidationFailed(
            "只有积案（超期未办结，或复查/复核两次）需要登记化解",
            field="case",
            code=PetitionErrorCode.NOT_BACKLOG,
        )
    with transaction.atomic():
        detail.resolved_at, detail.resolve_method = resolved_on, method
        detail.resolve_note = (note or "").strip()[:300]
        detail.save(update_fields=["resolved_at", "resolve_method", "resolve_note"])
        audit.record(
            actor=actor,
            action="petitions.backlog.resolve",
            obj=case,
            after={"resolved_on": resolved_on.isoformat(), "method": method},
        )
    return detail


def record_reception(
    *,
    actor,
    received_on: date,
    people: int,
    topic: str,
    leader=None,
    petition: Case | None = None,
) -> Reception:
    """来访接待: one 批次 of ``people`` 人次 received on ``received_on``."""
    require_desk(actor)
    if not isinstance(received_on, date) or received_on > clock.local_now().date():
        raise ValidationFailed(
            "接待日期不能晚于今天", field="received_on", code=PetitionErrorCode.RECEPTION_INVALID
        )
    try:
        people = int(people)
    except (TypeError, ValueError):
        raise ValidationFailed("人次必须是整数", field="people", code=PetitionErrorCode.RECEPTION_INVALID)
    if not 1 <= people <= MAX_HEADCOUNT:
        raise ValidationFailed("人次须为 1 以上", field="people", code=PetitionErrorCode.RECEPTION_INVALID)
    topic = (topic or "").strip()
    if not topic:
        raise ValidationFailed("请填写反映事项", field="topic", code=PetitionErrorCode.RECEPTION_INVALID)
    if (
        leader is not None
        and not selectors.street_people(user=actor, roles=(Role.LEADER,)).filter(pk=leader.pk).exists()
    ):
        raise ValidationFailed(
            "接待领导须为本街道的领导", field="leader", code=PetitionErrorCode.RECEPTION_INVALID
        )
    street_id = getattr(actor, "street_id", None)
    if petition is not None:
        if not selectors.visible_petitions(user=actor).filter(pk=petition.pk).exists():
            raise ValidationFailed(
                "关联信访不存在或无权查看", field="petition", code=PetitionErrorCode.RECEPTION_INVALID
            )
        street_id = petition.street_id
    if street_id is None:
        raise ValidationFailed(
            "无法确定所属街道，请关联信访", field="petition", code=PetitionErrorCode.RECEPTION_INVALID
        )
    with transaction.atomic():
        row = Reception.objects.create(
            street_id=street_id,
            received_on=received_on,
            people=people,
            leader=leader,
            petition=petition,
            topic=topic[:300],
            created_by=actor,
            created_at=clock.now(),
        )
        audit.record(
            actor=actor,
            action="petitions.reception.create",
            obj=row,
            after={"people": people, "day": str(received_on)},
        )
    return row


def move(*, actor, case: Case, name: str, **kw) -> Case:
    """Make a move of the 信访 procedure on ``case`` at its current version (a convenience for the import, the
    demo and tests; the web and API go through the case engine's generated forms and endpoints)."""
    case.refresh_from_db()
    return case_services.perform(actor=actor, case=case, move=name, version=case.version, **kw)
