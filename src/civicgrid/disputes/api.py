"""矛盾纠纷 API (/api/v1/disputes): the ledger (list, detail — 当事人 masked unless the user is a mediator), 登记,
当事人, 调解记录, figures.

The disputes are cases: the procedure's moves (受理, 调解成功, 回访 …) are the case API's generated endpoints
(``POST /api/v1/cases/{id}/admit`` …, see ``GET /api/v1/procedures``).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Literal

from ninja import Query, Router, Schema
from pydantic import Field

from civicgrid.accounts.roles import Capability, has_capability
from civicgrid.core import clock
from civicgrid.core.errors import PermissionDenied, ValidationFailed
from civicgrid.core.validation import Id, Text
from civicgrid.disputes import metrics, selectors, services
from civicgrid.disputes.models import DisputeSource

try:  # django-ninja >= 1.5
    from ninja import Status
except ImportError:  # pragma: no cover - older ninja takes a (status, body) tuple

    def Status(status_code, value):  # noqa: N802
        return status_code, value


router = Router(tags=["矛盾纠纷"])

SourceIn = Literal["screening", "application", "police", "case", "court"]
RoleIn = Literal["applicant", "respondent", "third"]


def _user(request):
    user = request.auth
    if not has_capability(user, Capability.BUSINESS_VIEW):
        raise PermissionDenied("当前角色不能查看矛盾纠纷", code="forbidden")
    return user


class PartyOut(Schema):
    id: int
    role: str
    role_label: str
    name: str
    phone: str
    address: str
    masked: bool


class SessionOut(Schema):
    id: int
    held_on: date
    mediators: str
    notes: str


class DisputeOut(Schema):
    id: int
    number: str
    state: str
    state_label: str
    source: str
    source_label: str
    police_station: str
    police_ref: str
    court_name: str
    linked_case: str | None
    dispute_type: str
    org: str
    amount: Decimal | None
    received_on: date
    ended_on: date | None
    outcome: str
    agreement_no: str
    fulfilment: str
    followup_on: date | None
    followup_result: str
    agreement_terms: str
    description: str
    community: str | None
    due_at: str | None = Field(None, description="当前环节（调解期限/回访时限）到期时间")
    parties: list[PartyOut]
    sessions: list[SessionOut] = []


def _out(user, d, *, sessions: bool = False) -> dict:
    c = d.case
    people = list(d.parties.all())

    def text(value: str) -> str:
        return selectors.text_view(user, value, people)

    return {
        "id": c.pk,
        "number": c.number,
        "state": c.state,
        "state_label": c.get_state_display(),
        "source": d.source,
        "source_label": d.get_source_display(),
        "police_station": d.police_station,
        "police_ref": d.police_ref,
        "court_name": d.court_name,
        "linked_case": d.linked_case.number if d.linked_case_id else None,
        "dispute_type": d.dispute_type.name,
        "org": d.org.name,
        "amount": d.amount,
        "received_on": d.received_on,
        "ended_on": d.ended_on,
        "outcome": d.outcome,
        "agreement_no": d.agreement_no,
        "fulfilment": d.fulfilment,
        "followup_on": d.followup_on,
        "followup_result": text(d.followup_result),
        "agreement_terms": text(d.agreement_terms),
        "description": text(c.description),
        "community": c.community.name if c.community_id else None,
        "due_at": clock.to_local(c.due_at).isoformat() if c.due_at and c.stage else None,
        "parties": [selectors.party_view(user, p) for p in people],
        "sessions": [
            {"id": s.pk, "held_on": s.held_on, "mediators": s.mediators, "notes": text(s.notes)}
            for s in d.sessions.all()
        ]
        if sessions
        else [],
    }


class DisputeListQuery(Schema):
    state: str = Field("", max_length=16)
    source: Literal["", "screening", "application", "police", "case", "court"] = ""
    type: str = Field("", max_length=20, description="纠纷类型编码")
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=1_000_000)


@router.get("", response=list[DisputeOut], summary="矛盾纠纷台账")
def list_disputes(request, q: Query[DisputeListQuery]):
    user = _user(request)
    rows = selectors.dispute_rows(user=user, state=q.state, source=q.source, dispute_type=q.type)
    return [_out(user, d) for d in rows[q.offset : q.offset + q.limit]]


@router.get("/figures", summary="矛盾纠纷统计")
def get_figures(request, start: date | None = None, end: date | None = None) -> dict:
    user = _user(request)
    end = end or clock.local_now().date()
    start = start or end.replace(month=1, day=1)
    if start > end or (end - start) > timedelta(days=3660):
        raise ValidationFailed("统计期不合法（开始不晚于结束，且不超过 10 年）", field="start")
    return metrics.figures(user=user, start=start, end=end).as_dict()


@router.get("/{int:dispute_id}", response=DisputeOut, summary="纠纷详情")
def get_dispute(request, dispute_id: Id):
    user = _user(request)
    return _out(user, selectors.get_dispute(user=user, pk=dispute_id), sessions=True)


class PartyIn(Schema):
    role: RoleIn
    name: Text = Field(..., max_length=60)
    phone: Text = Field("", max_length=30)
    address: Text = Field("", max_length=150)


class DisputeIn(Schema):
    source: SourceIn
    dispute_type: Id = Field(description="纠纷类型 id")
    org: Id = Field(description="调解组织 id")
    grid: Id = Field(description="发生网格 id")
    description: Text = Field(..., max_length=5000)
    address: Text = Field("", max_length=200)
    amount: Decimal | None = Field(None, ge=0, le=Decimal("999999999999.99"), description="涉及金额（元）")
    police_station: Text = Field("", max_length=60)
    police_ref: Text = Field("", max_length=40, description="警情号（警调衔接必填）")
    court_name: Text = Field("", max_length=60)
    linked_case: Text = Field("", max_length=20, description="关联工单编号（12345/网格转办必填）")
    parties: list[PartyIn] = Field(..., min_length=1, max_length=services.MAX_PARTIES)
    idempotency_key: Text | None = Field(None, max_length=100)


@router.post("", response={201: DisputeOut}, summary="登记矛盾纠纷")
def create_dispute(request, body: DisputeIn):
    user = _user(request)
    dtype = selectors.types().filter(pk=body.dispute_type).first()
    org = selectors.orgs_for(user=user).filter(pk=body.org).first()
    grid = selectors.grids_for(user=user).filter(pk=body.grid).first()
    if grid is None:
        raise ValidationFailed("网格不存在或不在您的辖区", field="grid", code="dispute_place_required")
    linked = None
    if body.source == DisputeSource.CASE and body.linked_case:
        linked = selectors.linkable_case(user=user, number=body.linked_case)
        if linked is None:
            raise ValidationFailed(
                "关联工单不存在或无权查看", field="linked_case", code="dispute_linked_case_required"
            )
    case = services.register_dispute(
        actor=user,
        source=body.source,
        dispute_type=dtype,
        org=org,
        grid=grid,
        description=body.description,
        address=body.address,
        amount=body.amount,
        police_station=body.police_station,
        police_ref=body.police_ref,
        court_name=body.court_name,
        linked_case=linked,
        parties=[services.PartyIn(p.role, p.name, p.phone, p.address) for p in body.parties],
        idempotency_key=body.idempotency_key,
    )
    return Status(201, _out(user, selectors.get_dispute(user=user, pk=case.pk), sessions=True))


@router.post("/{int:dispute_id}/parties", response={201: PartyOut}, summary="添加当事人")
def create_party(request, dispute_id: Id, body: PartyIn):
    user = _user(request)
    d = selectors.get_dispute(user=user, pk=dispute_id)
    party = services.add_party(
        actor=user, case=d.case, party=services.PartyIn(body.role, body.name, body.phone, body.address)
    )
    return Status(201, selectors.party_view(user, party))


class SessionIn(Schema):
    held_on: date
    mediators: Text = Field(..., max_length=100)
    notes: Text = Field(..., max_length=5000)


@router.post("/{int:dispute_id}/sessions", response={201: SessionOut}, summary="登记调解记录")
def create_session(request, dispute_id: Id, body: SessionIn):
    user = _user(request)
    d = selectors.get_dispute(user=user, pk=dispute_id)
    s = services.record_session(
        actor=user, case=d.case, held_on=body.held_on, mediators=body.mediators, notes=body.notes
    )
    return Status(201, {"id": s.pk, "held_on": s.held_on, "mediators": s.mediators, "notes": s.notes})
