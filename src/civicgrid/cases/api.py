"""``/api/v1/cases``: create, list, detail, one POST per workflow move, attachments, categories, inbox.

Errors (``{"code", "detail", "field"?}``): 409 ``illegal_transition`` / ``stale_version``, 422
``validation_failed`` naming the field, 404 out of scope, 403 role not allowed.
"""

from __future__ import annotations

import enum
import functools
import typing
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from django.http import HttpRequest
from django.urls import reverse
from ninja import File, Form, Query, Router, Schema
from ninja.files import UploadedFile
from pydantic import Field, create_model

from civicgrid.accounts.models import Department
from civicgrid.cases import attachments as attachment_files
from civicgrid.cases import channels, procedures, selectors, services, workflow
from civicgrid.cases.attachments import MAX_PHOTOS_PER_MOVE
from civicgrid.cases.errors import CaseErrorCode
from civicgrid.cases.models import (
    Attachment,
    AttachmentKind,
    Case,
    Category,
    DeadlineUnit,
    ExtensionStatus,
    Light,
    Priority,
    Rating,
    Source,
)
from civicgrid.core.errors import PermissionDenied, ValidationFailed
from civicgrid.core.roles import Capability, has_capability
from civicgrid.core.validation import MAX_DB_INT, MAX_IDS, MAX_OFFSET, Id, Text, has_control_chars
from civicgrid.places.models import Grid
from civicgrid.places.selectors import street_card

try:  # django-ninja >= 1.5
    from ninja import Status
except ImportError:  # pragma: no cover - older ninja takes a (status, body) tuple

    def Status(status_code, value):  # noqa: N802
        return status_code, value


router = Router(tags=["案件"])


# --- output schemas -------------------------------------------------------------------------------


class Ref(Schema):
    id: int
    name: str
    code: str | None = None


class CaseOut(Schema):
    id: int
    number: str | None
    title: str
    state: str
    state_label: str
    state_color: str
    procedure: str = "standard"
    source: str
    source_label: str
    source_ref: str
    category: Ref | None
    priority: str
    priority_label: str
    street: Ref | None = None  # the case's 街道 (Case.street)
    grid: Ref | None
    community: Ref | None
    department: Ref | None
    address: str
    lng: float | None
    lat: float | None
    reporter_name: str
    reporter_phone: str
    stage: str
    light: str
    due_at: datetime | None
    due_provisional: bool
    is_overdue: bool
    returned: bool
    rating: str
    redo_count: int
    rework_count: int
    supervise_count: int
    duplicate_of: int | None
    version: int
    created_at: datetime
    accepted_at: datetime | None
    dispatched_at: datetime | None
    handled_at: datetime | None
    closed_at: datetime | None


class AttachmentOut(Schema):
    id: int
    kind: str
    url: str
    thumbnail_url: str
    content_type: str
    size: int
    sha256: str
    width: int | None
    height: int | None
    event_seq: int | None = None


class EventOut(Schema):
    seq: int
    move: str
    move_label: str
    from_state: str
    to_state: str
    actor_name: str
    actor_role: str
    channel: str = ""  # resident / open311 / import, or "" for a person acting in the software
    actor_label: str = ""  # what the timeline shows: the channel's name for those, else the actor's name
    at: datetime
    note: str
    data: dict
    clock: dict
    attachments: list[int]


class MoveOut(Schema):
    name: str
    path: str
    label: str
    style: str
    required: list[str]
    fields: list[str] = []


class ExtensionOut(Schema):
    id: int
    amount: int
    unit: DeadlineUnit
    reason: str
    requested_at: datetime


class CaseDetailOut(CaseOut):
    description: str
    handling_feedback: str
    occurred_at: datetime | None
    clock_started_at: datetime | None
    limit_amount: int | None
    limit_unit: str
    extension_amount: int
    paused: bool
    timeline: list[EventOut]
    attachments: list[AttachmentOut]
    allowed_moves: list[MoveOut]
    pending_extension: ExtensionOut | None


class CaseListOut(Schema):
    total: int
    limit: int
    offset: int
    items: list[CaseOut]


def _ref(obj, code_attr: str | None = "code") -> dict | None:
    if obj is None:
        return None
    return {"id": obj.pk, "name": obj.name, "code": getattr(obj, code_attr, None) if code_attr else None}


def _street_ref(c: Case) -> dict | None:
    """The case's 街道 (loaded with the case, else from the per-process street cards: no query)."""
    if c.street_id is None:
        return None
    if Case._meta.get_field("street").is_cached(c):
        return _ref(c.street)
    return _ref(street_card(c.street_id) or c.street)


def _case_out(c: Case, user) -> dict:
    phone = selectors.reporter_phone(user=user, case=c)
    return {
        "id": c.pk,
        "number": c.number,
        "title": c.title,
        "state": c.state,
        "state_label": (proc := procedures.for_case(c)).state_label(c.state),
        "state_color": proc.state_color(c.state),
        "procedure": c.procedure,
        "source": c.source,
        "source_label": Source(c.source).label,
        "source_ref": c.source_ref,
        "category": _ref(c.category),
        "priority": c.priority,
        "priority_label": Priority(c.priority).label,
        "street": _street_ref(c),
        "grid": _ref(c.grid),
        "community": _ref(c.community),
        "department": _ref(c.department),
        "address": c.address,
        "lng": c.lng,
        "lat": c.lat,
        "reporter_name": c.reporter_name,
        "reporter_phone": phone,
        "stage": c.stage,
        "light": c.light,
        "due_at": c.due_at,
        "due_provisional": c.due_provisional,
        "is_overdue": c.is_overdue,
        "returned": c.returned,
        "rating": c.rating,
        "redo_count": c.redo_count,
        "rework_count": c.rework_count,
        "supervise_count": c.supervise_count,
        "duplicate_of": c.duplicate_of_id,
        "version": c.version,
        "created_at": c.created_at,
        "accepted_at": c.accepted_at,
        "dispatched_at": c.dispatched_at,
        "handled_at": c.handled_at,
        "closed_at": c.closed_at,
    }


def _att_out(a: Attachment, seq: int | None = None) -> dict:
    # served by attachment_file below (scoped like the case; bearer token or session), never a /media/ path
    return {
        "id": a.pk,
        "kind": a.kind,
        "url": reverse("api-v1:cases_attachment_file", args=[a.pk]) if a.file else "",
        "thumbnail_url": reverse("api-v1:cases_attachment_thumb", args=[a.pk]) if a.thumbnail else "",
        "content_type": a.content_type,
        "size": a.size,
        "sha256": a.sha256,
        "width": a.width,
        "height": a.height,
        "event_seq": seq,
    }


def _detail(c: Case, user, *, trusted: bool = False) -> dict:
    """The detail body. ``trusted``: the caller just wrote ``c`` itself (skip the scope re-check).

    A case this request created carries the timeline entries it wrote (``created_events``), so the answer to a
    create is built without reading the case back.
    """
    written = getattr(c, "created_events", None) if trusted else None
    if written is not None:
        events = list(written)
        for e in events:
            e.timeline_attachments = list(getattr(e, "stored_attachments", ()))
        attachments = [a for e in events for a in e.timeline_attachments]
    else:
        if trusted:
            events = list(c.events.order_by("seq").select_related("actor").prefetch_related("attachments"))
            attachments = list(Attachment.objects.filter(case_id=c.pk))
        else:
            events = list(selectors.timeline(user=user, case=c))
            attachments = list(selectors.case_attachments(user=user, case=c))
        for e in events:
            e.timeline_attachments = list(e.attachments.all())
    seq_by_event = {e.pk: e.seq for e in events}
    pending = None
    proc = procedures.for_case(c)
    if c.state in proc.extension_states:
        pending = c.extension_requests.filter(status=ExtensionStatus.PENDING).first()
    return {
        **_case_out(c, user),
        "description": c.description,
        "handling_feedback": c.handling_feedback,
        "occurred_at": c.occurred_at,
        "clock_started_at": c.clock_started_at,
        "limit_amount": c.limit_amount,
        "limit_unit": c.limit_unit,
        "extension_amount": c.extension_amount,
        "paused": c.paused_since is not None,
        "timeline": [
            {
                "seq": e.seq,
                "move": e.move,
                "move_label": label,
                "from_state": e.from_state,
                "to_state": e.to_state,
                "actor_name": e.actor_name,
                "actor_role": e.actor_role,
                "channel": channels.event_channel(e),
                "actor_label": channels.actor_labels(e, source=c.source)[0],
                "at": e.at,
                "note": e.note,
                "data": e.data,
                "clock": e.clock,
                "attachments": [a.pk for a in e.timeline_attachments],
            }
            for e, label in zip(events, workflow.timeline_labels(events, proc), strict=True)
        ],
        "attachments": [_att_out(a, seq_by_event.get(a.event_id)) for a in attachments],
        "allowed_moves": [
            {
                "name": m.name,
                "path": m.name.replace("_", "-"),
                "label": workflow.move_label(m, c),
                "style": m.style,
                "required": list(m.required),
                "fields": list(proc.inputs(m)) + list(m.detail_fields),
            }
            for m in workflow.allowed_moves(c, user)
        ],
        "pending_extension": (
            {
                "id": pending.pk,
                "amount": pending.amount,
                "unit": pending.unit,
                "reason": pending.reason,
                "requested_at": pending.requested_at,
            }
            if pending
            else None
        ),
    }


def _as_built(schema: type[Schema], body: dict) -> Schema:
    """``body`` — built by this module from model fields, so already of the declared types — as an instance of
    ``schema`` without validating it field by field (ninja answers an instance of the response schema as it is;
    validating a detail body costs about a third of a millisecond). Nested schemas are built the same way."""
    nested = _NESTED.get(schema)
    if nested is None:
        nested = {}
        for name, field in schema.model_fields.items():
            args = typing.get_args(field.annotation) or (field.annotation,)
            inner = [a for a in args if isinstance(a, type) and issubclass(a, Schema | enum.Enum)]
            if inner:
                nested[name] = (inner[0], typing.get_origin(field.annotation) is list)
        _NESTED[schema] = nested
    values = dict(body)
    for name, (inner, many) in nested.items():
        value = values.get(name)
        if value is None:
            continue
        build = inner if issubclass(inner, enum.Enum) else functools.partial(_as_built, inner)
        values[name] = [build(v) for v in value] if many else build(value)
    return schema.model_construct(**values)


# schema -> its fields that hold a schema (built the same way) or an enum (a stored value made a member again)
_NESTED: dict[type, dict[str, tuple[type, bool]]] = {}


# --- input schemas --------------------------------------------------------------------------------


NOTE = 2000  # max length of a note / reason, as on the web forms


class CaseCreateIn(Schema):
    source: Source
    description: Text = Field(min_length=1, max_length=5000)
    category: Id | None = None
    category_code: Text | None = Field(default=None, max_length=50)
    lng: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    address: Text = Field(default="", max_length=200)
    grid: Id | None = None
    reporter_name: Text = Field(default="", max_length=50)
    reporter_phone: Text = Field(default="", max_length=30)
    source_ref: Text = Field(default="", max_length=100)
    occurred_at: datetime | None = None
    attachment_ids: list[Id] = Field(default_factory=list, max_length=MAX_IDS)
    auto_accept: bool = False
    # the 办理程序 (GET /api/v1/procedures); unknown: 422 unknown_procedure, a role it does not allow: 403
    procedure: Text = Field(default=procedures.DEFAULT_CODE, min_length=1, max_length=24)


class CaseFilters(Schema):
    status: Text | None = Field(default=None, max_length=200)
    category: Text | None = Field(default=None, max_length=100)
    grid: Id | None = None
    department: Id | None = None
    source: Source | None = None
    light: Light | None = None
    date_from: date | None = None
    date_to: date | None = None
    q: Text | None = Field(default=None, max_length=100)
    community: Id | None = None
    metric: Literal["received", "accepted", "dispatched", "done"] | None = Field(
        default=None, description="统计口径：列出该指标计入的工单，date_from/date_to 按该指标的时间戳筛选"
    )
    open_only: bool = Field(default=False, description="只列未办结的工单")
    limit: int = Field(default=20, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)


class InboxQuery(Schema):
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)
    tab: Literal["active", "followup", "all"] = "all"


class VersionIn(Schema):
    version: int = Field(ge=1, le=MAX_DB_INT)


class NoteIn(VersionIn):
    note: Text = Field(default="", max_length=NOTE)


class ReasonIn(VersionIn):
    reason: Text = Field(default="", max_length=NOTE)
    note: Text = Field(default="", max_length=NOTE)


class AcceptIn(NoteIn):
    category: Id | None = None
    priority: Priority | None = None


class DispatchIn(NoteIn):
    department: Id | None = None


class ReassignIn(VersionIn):
    department: Id
    note: Text = Field(default="", max_length=NOTE)
    reason: Text = Field(default="", max_length=NOTE)


class VerifyIn(ReasonIn):
    attachment_ids: list[Id] = Field(default_factory=list, max_length=MAX_IDS)


class RateIn(NoteIn):
    rating: Text = Field(max_length=20)
    redo: bool = False
    department: Id | None = None


class ExtensionIn(VersionIn):
    amount: int = Field(ge=1, le=10_000)
    unit: DeadlineUnit
    reason: Text = Field(default="", max_length=NOTE)


class MergeIn(NoteIn):
    target_case: Id


class FinishForm(Schema):
    version: int = Field(ge=1, le=MAX_DB_INT)
    note: Text = Field(default="", max_length=NOTE)
    attachment_ids: Text = Field(default="", max_length=400, description="逗号分隔的附件编号")


# --- helpers --------------------------------------------------------------------------------------


def _category(user, pk: int | None = None, code: str | None = None) -> Category | None:
    if pk is None and not code:
        return None
    obj = selectors.category(user=user, pk=pk, code=code)
    if obj is None:
        raise ValidationFailed("分类不存在", field="category", code=CaseErrorCode.INVALID_INPUT)
    return obj


def _department(user, pk: int | None) -> Department | None:
    if pk is None:
        return None
    obj = Department.objects.restrict(user, "view").filter(pk=pk).first()
    if obj is None:
        raise ValidationFailed("处置部门不存在", field="department", code=CaseErrorCode.CANNOT_DISPATCH)
    return obj


def _attachments(user, ids) -> list[Attachment]:
    ids = [int(i) for i in ids if str(i).strip()]
    if not ids:
        return []
    found = {a.pk: a for a in Attachment.objects.restrict(user, "view").filter(pk__in=ids)}
    missing = [i for i in ids if i not in found]
    if missing:
        raise ValidationFailed(
            f"附件不存在：{missing}", field="attachment_ids", code=CaseErrorCode.ATTACHMENT_INVALID
        )
    return [found[i] for i in ids]


def _parse_ids(text: str) -> list[int]:
    try:
        ids = [int(p) for p in text.replace(" ", "").split(",") if p]
    except ValueError:
        raise ValidationFailed(
            "附件编号须为以逗号分隔的整数", field="attachment_ids", code=CaseErrorCode.ATTACHMENT_INVALID
        )
    if len(ids) > MAX_IDS:
        raise ValidationFailed(
            f"附件编号最多 {MAX_IDS} 个，收到 {len(ids)} 个",
            field="attachment_ids",
            code=CaseErrorCode.ATTACHMENT_INVALID,
        )
    if any(not 1 <= i <= MAX_DB_INT for i in ids):
        raise ValidationFailed(
            "附件编号超出范围", field="attachment_ids", code=CaseErrorCode.ATTACHMENT_INVALID
        )
    return ids


# --- endpoints ------------------------------------------------------------------------------------


@router.get("/categories", summary="案件分类树（大类 → 小类）")
def categories(request: HttpRequest, all: bool = False):
    return selectors.category_tree(user=request.auth, enabled_only=not all)


@router.post("/attachments", response={201: AttachmentOut}, summary="上传照片（之后在操作中以编号引用）")
def upload(request: HttpRequest, file: File[UploadedFile], kind: Form[AttachmentKind] = AttachmentKind.OTHER):
    att = services.upload_attachment(actor=request.auth, file=file, kind=kind)
    return Status(201, _att_out(att))


@router.get(
    "/attachments/{attachment_id}/file",
    summary="附件原图（与案件同样的查看权限；对象存储时 302 到临时签名地址）",
    url_name="cases_attachment_file",
)
def attachment_file(request: HttpRequest, attachment_id: Id):
    att = selectors.get_attachment(user=request.auth, pk=attachment_id)
    return attachment_files.file_response(att)


@router.get(
    "/attachments/{attachment_id}/thumb",
    summary="附件缩略图（JPEG，权限同原图）",
    url_name="cases_attachment_thumb",
)
def attachment_thumb(request: HttpRequest, attachment_id: Id):
    att = selectors.get_attachment(user=request.auth, pk=attachment_id)
    return attachment_files.file_response(att, thumb=True)


@router.get("/inbox", response=CaseListOut, summary="我的待办")
def my_inbox(request: HttpRequest, page: Query[InboxQuery]):
    """Urgent first. ``tab``: ``active`` (work in progress), ``followup`` (回访: closed, awaiting the follow-up
    rating) or ``all`` (both, the default)."""
    qs = selectors.inbox(user=request.auth, tab=page.tab)
    total = qs.count()
    items = [_case_out(c, request.auth) for c in qs[page.offset : page.offset + page.limit]]
    return {"total": total, "limit": page.limit, "offset": page.offset, "items": items}


@router.post(
    "", response={200: CaseDetailOut, 201: CaseDetailOut}, summary="上报案件（支持 Idempotency-Key）"
)
def create(request: HttpRequest, payload: CaseCreateIn):
    user = request.auth
    key = (request.headers.get("Idempotency-Key") or "").strip() or None
    if key is not None and (len(key) > 100 or has_control_chars(key)):
        raise ValidationFailed(
            "请求头 Idempotency-Key 须为不超过 100 个字符的普通文本",
            field="Idempotency-Key",
            code=CaseErrorCode.IDEMPOTENCY_KEY_INVALID,
        )
    grid = None
    if payload.grid is not None:
        grid = Grid.objects.restrict(user, "view").filter(pk=payload.grid).first()
        if grid is None:
            raise ValidationFailed("网格不存在", field="grid", code=CaseErrorCode.INVALID_INPUT)
    case = services.create_case(
        actor=user,
        source=payload.source,
        description=payload.description,
        category=_category(user, payload.category, payload.category_code),
        lng=payload.lng,
        lat=payload.lat,
        address=payload.address,
        grid=grid,
        reporter_name=payload.reporter_name,
        reporter_phone=payload.reporter_phone,
        source_ref=payload.source_ref,
        occurred_at=payload.occurred_at,
        idempotency_key=key,
        attachments=_attachments(user, payload.attachment_ids),
        auto_accept=payload.auto_accept,
        procedure=_generic_procedure(payload.procedure),
    )
    replay = getattr(case, "idempotent_replay", False)
    return _rendered(request, 200 if replay else 201, _detail(case, user, trusted=True))


def _rendered(request: HttpRequest, status: int, body: dict):
    """A detail ``body`` (:func:`_detail`: built by this module from model fields, of CaseDetailOut's types and
    in its field order) rendered as it is: the same bytes ninja renders from the schema instance, without
    building that instance and dumping it again (the hot path of filing a case)."""
    from civicgrid.core.api import api

    return api.create_response(request, body, status=status)


def _generic_procedure(code: str) -> str:
    """``code`` when its cases may be filed here; a procedure filed elsewhere (its ledger's own form) is refused
    with the hint where (422 ``invalid_input``, field ``procedure``); an unknown one 422 ``unknown_procedure``."""
    proc = procedures.get(code)
    if proc.filed_elsewhere:
        raise ValidationFailed(
            f"「{proc.label}」工单不能在此新建：{proc.filed_elsewhere}",
            field="procedure",
            code=CaseErrorCode.INVALID_INPUT,
        )
    return code


@router.get("", response=CaseListOut, summary="案件列表（筛选 + 分页）")
def list_cases(request: HttpRequest, filters: Query[CaseFilters]):
    user = request.auth
    qs = selectors.filter_cases(
        user=user,
        status=filters.status,
        category=filters.category,
        grid=filters.grid,
        department=filters.department,
        source=filters.source,
        light=filters.light,
        date_from=filters.date_from,
        date_to=filters.date_to,
        text=filters.q,
        community=filters.community,
        metric=filters.metric,
        open_only=filters.open_only,
    )
    total = qs.count()
    page = qs[filters.offset : filters.offset + filters.limit]
    return {
        "total": total,
        "limit": filters.limit,
        "offset": filters.offset,
        "items": [_case_out(c, user) for c in page],
    }


@router.get("/{case_id}", response=CaseDetailOut, summary="案件详情（含流转记录与可执行操作）")
def detail(request: HttpRequest, case_id: Id):
    case = selectors.get_case(user=request.auth, pk=case_id)
    return _detail(case, request.auth)


def _move(request, case_id: Id, move: str, **kw) -> dict:
    user = request.auth
    case = selectors.get_case(user=user, pk=case_id)
    services.perform(actor=user, case=case, move=move, **kw)
    return _detail(selectors.get_case(user=user, pk=case_id), user)


# --- one POST per move, generated: the standard procedure's with their published bodies, every other
# procedure's from its table (procedures.INPUT_FIELDS + its detail model), typed per move for the OpenAPI ---


def _move_kwargs(user, payload: Schema, take: tuple[str, ...] | None) -> dict:
    """The service arguments of a move body: ``take`` (the standard endpoints: exactly what they always passed)
    or every field that was sent; what is not an input of :data:`procedures.INPUT_FIELDS` is a detail field."""
    sent = payload.model_fields_set
    names = take if take is not None else [n for n in type(payload).model_fields if n != "version"]
    kw: dict = {"version": payload.version}
    detail = {}
    for name in names:
        value = getattr(payload, name)
        if name == "department":
            kw["department"] = _department(user, value)
        elif name == "category":
            kw["category"] = _category(user, value)
        elif name == "attachment_ids":
            kw["attachments"] = _attachments(user, value)
        elif name == "target_case":
            if value is None:
                continue
            target = selectors.visible_cases(user=user).filter(pk=value).first()
            if target is None:
                raise ValidationFailed(
                    "要合并到的案件不存在", field="target_case", code=CaseErrorCode.MERGE_TARGET_INVALID
                )
            kw["target_case"] = target
        elif name in _SERVICE_ARGS:
            kw[name] = value
        elif name in sent:
            detail[name] = value
    if detail:
        kw["detail"] = detail
    return kw


_SERVICE_ARGS = frozenset({"note", "reason", "amount", "unit", "rating", "redo", "priority"})


def _move_endpoint(
    name: str,
    schema: type[Schema],
    summary: str,
    *,
    take: tuple[str, ...] | None = None,
    description: str | None = None,
    operation: str | None = None,
):
    """``POST /cases/{id}/{name with -}`` making move ``name`` with body ``schema``."""

    def endpoint(request, case_id, payload):
        return _move(request, case_id, name, **_move_kwargs(request.auth, payload, take))

    endpoint.__annotations__ = {"request": HttpRequest, "case_id": Id, "payload": schema}
    endpoint.__name__ = operation or name
    endpoint.__doc__ = description
    router.post(
        f"/{{case_id}}/{name.replace('_', '-')}",
        response=CaseDetailOut,
        summary=summary,
        operation_id=f"civicgrid_cases_api_{operation or name}",
    )(endpoint)
    return endpoint


_STANDARD_ENDPOINTS = [
    # name, body, summary, the body fields passed on, description
    ("accept", AcceptIn, "受理立案", ("note", "category", "priority"), None),
    ("reject", ReasonIn, "不予受理", ("reason", "note"), None),
    (
        "dispatch",
        DispatchIn,
        "派遣（被退回的案件即改派）",
        ("note", "department"),
        "``department`` may be omitted when the category has a default 处置部门: the case goes there.",
    ),
    ("sign", NoteIn, "签收", ("note",), None),
    ("return", ReasonIn, "退回", ("reason", "note"), None),
    ("reassign", ReassignIn, "改派", ("department", "note", "reason"), None),
]
_STANDARD_ENDPOINTS_AFTER_FINISH = [
    ("verify_pass", VerifyIn, "核查通过", ("note", "attachment_ids"), None),
    ("verify_fail", VerifyIn, "核查不通过（返工）", ("reason", "note", "attachment_ids"), None),
    ("close", NoteIn, "结案", ("note",), None),
    ("rate", RateIn, "回访评价（不满意可重办）", ("rating", "note", "redo", "department"), None),
    ("request_extension", ExtensionIn, "申请延期", ("amount", "unit", "reason"), None),
    ("approve_extension", NoteIn, "批准延期", ("note",), None),
    ("deny_extension", ReasonIn, "驳回延期", ("note", "reason"), None),
    ("suspend", ReasonIn, "挂账（暂停计时）", ("reason", "note"), None),
    ("resume", NoteIn, "恢复", ("note",), None),
    ("void", ReasonIn, "作废", ("reason", "note"), None),
    ("merge", MergeIn, "合并到另一案件", ("target_case", "note"), None),
    (
        "supervise",
        NoteIn,
        "督办（紧急程度提升一级）",
        ("note",),
        "督办 notifies the department and the command centre and raises 紧急程度 one step (普通 → 紧急 → 特急); the\n"
        "timeline entry's data records ``priority_from`` → ``priority``.",
    ),
]

for _name, _schema, _summary, _take, _doc in _STANDARD_ENDPOINTS:
    _move_endpoint(
        _name, _schema, _summary, take=_take, description=_doc, operation=_name.replace("return", "return_")
    )


@router.post("/{case_id}/finish", response=CaseDetailOut, summary="处置完成（multipart：处置后照片）")
def finish(
    request: HttpRequest,
    case_id: Id,
    form: Form[FinishForm],
    photos: File[list[UploadedFile]] = None,
):
    photos = list(photos or [])
    if len(photos) > MAX_PHOTOS_PER_MOVE:
        raise ValidationFailed(
            f"一次最多上传 {MAX_PHOTOS_PER_MOVE} 张照片，收到 {len(photos)} 张",
            field="photos",
            code=CaseErrorCode.ATTACHMENT_INVALID,
        )
    atts: list = _attachments(request.auth, _parse_ids(form.attachment_ids))
    atts += photos
    if len(atts) > MAX_IDS:
        raise ValidationFailed(
            f"一次最多附 {MAX_IDS} 张照片，收到 {len(atts)} 张",
            field="photos",
            code=CaseErrorCode.ATTACHMENT_INVALID,
        )
    return _move(request, case_id, "finish", version=form.version, note=form.note, attachments=atts)


for _name, _schema, _summary, _take, _doc in _STANDARD_ENDPOINTS_AFTER_FINISH:
    _move_endpoint(_name, _schema, _summary, take=_take, description=_doc)


# --- the other procedures' moves ----------------------------------------------------------------------

_INPUT_TYPES = {
    "note": (Text, Field(default="", max_length=NOTE, description="备注")),
    "reason": (Text, Field(default="", max_length=NOTE, description="原因")),
    "department": (Id | None, Field(default=None, description="部门编号")),
    "amount": (int | None, Field(default=None, ge=1, le=10_000, description="时限")),
    "unit": (DeadlineUnit | None, Field(default=None, description="时限单位")),
    "rating": (Rating | None, Field(default=None, description="评价")),
    "attachments": (list[Id], Field(default_factory=list, max_length=MAX_IDS, description="附件编号")),
    "target_case": (Id | None, Field(default=None, description="目标案件编号")),
}


def _detail_type(f) -> tuple:
    """A detail-model field as a typed, optional body field (the service says which are required)."""
    from django.db import models as dj

    desc = str(f.verbose_name)
    if f.choices:
        return (
            Literal[tuple(str(v) for v, _l in f.flatchoices)] | None,
            Field(default=None, description=desc),
        )
    if isinstance(f, dj.BooleanField):
        return (bool | None, Field(default=None, description=desc))
    if isinstance(f, dj.DateTimeField):
        return (datetime | None, Field(default=None, description=desc))
    if isinstance(f, dj.DateField):
        return (date | None, Field(default=None, description=desc))
    if isinstance(f, dj.DecimalField):
        return (
            Decimal | None,
            Field(default=None, max_digits=f.max_digits, decimal_places=f.decimal_places, description=desc),
        )
    if isinstance(f, dj.FloatField):
        return (float | None, Field(default=None, description=desc))
    if isinstance(f, dj.ForeignKey):
        return (Id | None, Field(default=None, description=desc))
    if isinstance(f, dj.IntegerField):
        low = 0 if isinstance(f, dj.PositiveIntegerField | dj.PositiveSmallIntegerField) else -MAX_DB_INT
        return (int | None, Field(default=None, ge=low, le=MAX_DB_INT, description=desc))
    return (Text | None, Field(default=None, max_length=f.max_length or 5000, description=desc))


def _move_schema(name: str, defs: list) -> type[Schema]:
    """The body of ``POST /cases/{id}/{name}`` for every procedure with a move ``name`` (their inputs merged)."""
    fields: dict = {"version": (int, Field(ge=1, le=MAX_DB_INT))}
    for proc, m in defs:
        for n in proc.inputs(m):
            fields["attachment_ids" if n == "attachments" else n] = _INPUT_TYPES[n]
        for d in m.detail_fields:
            fields.setdefault(d, _detail_type(proc.detail_model._meta.get_field(d)))
    camel = "".join(p.title() for p in name.split("_"))
    return create_model(f"{camel}MoveIn", __base__=Schema, **fields)


def _generate_procedure_endpoints() -> list[str]:
    """One endpoint per move name of the registered procedures that has none yet (called at import, after
    every app's ``ready()`` registered its procedures)."""
    taken = set(workflow.MOVES)
    by_name: dict[str, list] = {}
    for proc in procedures.all_procedures():
        for m in proc.moves:
            if m.name not in taken:
                by_name.setdefault(m.name, []).append((proc, m))
    for name, defs in by_name.items():
        labels = "；".join(dict.fromkeys(f"{p.label}：{m.label}" for p, m in defs))
        _move_endpoint(name, _move_schema(name, defs), labels, operation=f"move_{name}")
    return list(by_name)


GENERATED_MOVES = _generate_procedure_endpoints()


# --- /api/v1/procedures ---------------------------------------------------------------------------

procedures_router = Router(tags=["办理程序"])


class StateDefOut(Schema):
    value: str
    label: str
    color: str


class MoveDefOut(Schema):
    name: str
    path: str
    label: str
    sources: list[str]
    target: str
    roles: dict[str, str | None]
    needs: str | None
    style: str
    fields: list[str]
    required: list[str]
    detail_fields: list[str]


class BoundsOut(Schema):
    move: str
    minimum: int
    maximum: int
    unit: str


class StageRuleOut(Schema):
    code: str
    label: str
    starts: list[str]
    stops: list[str]
    rule: Literal["fixed", "chosen", "category"]
    amount: int | None
    unit: str | None
    chosen: BoundsOut | None


class ProcedureOut(Schema):
    code: str
    label: str
    initial: str
    states: list[StateDefOut]
    groups: dict[str, list[str]]
    moves: list[MoveDefOut]
    stages: list[StageRuleOut]
    detail_fields: list[str]
    restricted: bool
    # the roles that may create its cases (POST /api/v1/cases with ``procedure``); null: those that may create
    # standard cases
    create_roles: list[str] | None = None
    # non-empty: its cases are filed in its own ledger (this says where), not through POST /api/v1/cases
    filed_elsewhere: str = ""


@procedures_router.get(
    "", response=list[ProcedureOut], summary="办理程序（状态、操作、时限环节、每个操作的输入）"
)
def list_procedures(request: HttpRequest):
    """Every registered 办理程序: its states and groups (open/closed/terminal/done/paused), its moves with roles,
    conditions and inputs (``fields``; ``detail_fields`` of its detail record required at that move), its stages
    with their deadline rule (``fixed`` amount+unit, ``chosen`` on the case within bounds, or the ``category``'s).
    A move is made with ``POST /api/v1/cases/{id}/{path}``."""
    if not has_capability(request.auth, Capability.BUSINESS_VIEW):
        raise PermissionDenied("当前角色不能查看办理程序", code=CaseErrorCode.ROLE_NOT_ALLOWED)
    return [p.describe() for p in procedures.all_procedures()]
