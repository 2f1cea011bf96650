"""Every write of the 矛盾纠纷 ledger: 登记 (a ``dispute`` case through the case services plus its detail record and
当事人), 当事人 added later, 调解记录. Keyword-only, each takes ``actor``; write and audit in one transaction. The
case tables are written only through :mod:`civicgrid.cases.services`; the procedure's moves (受理, 调解成功 …) are
``cases.services.perform``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.db import transaction

from civicgrid.cases import selectors as case_selectors
from civicgrid.cases import services as case_services
from civicgrid.cases.errors import CaseErrorCode
from civicgrid.cases.models import Case
from civicgrid.core import audit, clock
from civicgrid.core.errors import IllegalTransition, PermissionDenied, ValidationFailed
from civicgrid.disputes.errors import DisputeErrorCode
from civicgrid.disputes.models import (
    DisputeDetail,
    DisputeSource,
    DisputeType,
    MediationOrg,
    MediationSession,
    Party,
    PartyRole,
)
from civicgrid.disputes.workflow import CODE, MEDIATOR_ROLES

MAX_PARTIES = 30
MAX_AMOUNT = Decimal("999999999999.99")
PHONE_RE = re.compile(r"^[0-9+\-() ]{5,20}$")
# the 12345/城管 source a dispute case carries (the dispute's own source is on its detail record)
CASE_SOURCE = {
    DisputeSource.SCREENING: "grid_patrol",
    DisputeSource.APPLICATION: "dispatcher",
    DisputeSource.POLICE: "other",
    DisputeSource.CASE: "hotline_12345",
    DisputeSource.COURT: "other",
}


@dataclass
class PartyIn:
    role: str
    name: str
    phone: str = ""
    address: str = ""


def _login(actor) -> None:
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise PermissionDenied("请先登录", code=CaseErrorCode.LOGIN_REQUIRED)


def _can_register(actor) -> None:
    _login(actor)
    if actor.role not in MEDIATOR_ROLES:
        raise PermissionDenied(
            f"「{actor.get_role_display()}」不能登记矛盾纠纷", code=CaseErrorCode.ROLE_NOT_ALLOWED
        )


def check_mediator(*, actor, case: Case) -> None:
    """May ``actor`` work on ``case`` as its mediator (the desk; a 社区工作人员 for their own community)?"""
    _can_register(actor)
    if case.procedure != CODE or not case_selectors.visible_cases(user=actor).filter(pk=case.pk).exists():
        raise PermissionDenied("纠纷不存在或无权办理", code=CaseErrorCode.OUT_OF_JURISDICTION)
    if actor.role == "community_staff" and case.community_id != actor.community_id:
        raise PermissionDenied("只能办理本社区的纠纷", code=CaseErrorCode.OUT_OF_JURISDICTION)


def clean_parties(parties: Iterable[PartyIn]) -> list[PartyIn]:
    out = []
    for i, p in enumerate(parties):
        name, phone = (p.name or "").strip(), re.sub(r"\s+", "", p.phone or "")
        if not name and not phone:
            continue  # an empty row of the form
        field = f"parties.{i}"
        if not name:
            raise ValidationFailed(
                "请填写当事人姓名", field=f"{field}.name", code=DisputeErrorCode.PARTY_INVALID
            )
        if len(name) > 60:
            raise ValidationFailed(
                "当事人姓名不能超过 60 字", field=f"{field}.name", code=DisputeErrorCode.PARTY_INVALID
            )
        if p.role not in PartyRole.values:
            raise ValidationFailed(
                "请选择当事人身份", field=f"{field}.role", code=DisputeErrorCode.PARTY_INVALID
            )
        if phone and not PHONE_RE.match(phone):
            raise ValidationFailed(
                f"当事人「{name}」的联系电话格式不正确",
                field=f"{field}.phone",
                code=DisputeErrorCode.PARTY_INVALID,
            )
        out.append(PartyIn(p.role, name, phone, (p.address or "").strip()[:150]))
    if len(out) > MAX_PARTIES:
        raise ValidationFailed("当事人过多", field="parties", code=DisputeErrorCode.PARTY_INVALID)
    if not any(p.role == PartyRole.APPLICANT for p in out):
        raise ValidationFailed("请至少登记一名申请人", field="parties", code=DisputeErrorCode.PARTY_REQUIRED)
    return out


def parse_amount(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value).replace(",", "").replace("，", "").strip())
    except InvalidOperation:
        raise ValidationFailed("涉及金额必须是数字（元）", field="amount", code=CaseErrorCode.INVALID_INPUT)
    if not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT:
        raise ValidationFailed("涉及金额超出范围", field="amount", code=CaseErrorCode.INVALID_INPUT)
    return amount.quantize(Decimal("0.01"))


def register_dispute(
    *,
    actor,
    source: str,
    dispute_type: DisputeType | None,
    org: MediationOrg | None,
    description: str,
    grid,
    parties: Iterable[PartyIn],
    address: str = "",
    amount=None,
    police_station: str = "",
    police_ref: str = "",
    court_name: str = "",
    linked_case: Case | None = None,
    received_on: date | None = None,
    ledger_no: str = "",
    idempotency_key: str | None = None,
) -> Case:
    """登记 a dispute: a ``dispute`` case (待受理) in ``grid`` with its detail record and 当事人 — all or nothing."""
    _can_register(actor)
    if source not in DisputeSource.values:
        raise ValidationFailed("请选择纠纷来源", field="source", code=DisputeErrorCode.SOURCE_INVALID)
    police_station, police_ref = (police_station or "").strip()[:60], (police_ref or "").strip()[:40]
    court_name = (court_name or "").strip()[:60]
    if source == DisputeSource.POLICE and not (police_station and police_ref):
        raise ValidationFailed(
            "警调衔接须填写移交派出所和警情号",
            field="police_ref" if police_station else "police_station",
            code=DisputeErrorCode.POLICE_REF_REQUIRED,
        )
    if source == DisputeSource.COURT and not court_name:
        raise ValidationFailed(
            "法院委派须填写委派法院", field="court_name", code=DisputeErrorCode.COURT_REQUIRED
        )
    if source == DisputeSource.CASE:
        if linked_case is None:
            raise ValidationFailed(
                "12345/网格转办须关联原工单", field="linked_case", code=DisputeErrorCode.LINKED_CASE_REQUIRED
            )
        if not case_selectors.visible_cases(user=actor).filter(pk=linked_case.pk).exists():
            raise ValidationFailed(
                "关联工单不存在或无权查看", field="linked_case", code=DisputeErrorCode.LINKED_CASE_REQUIRED
            )
    if dispute_type is None or not dispute_type.is_active:
        raise ValidationFailed("请选择纠纷类型", field="dispute_type", code=DisputeErrorCode.TYPE_REQUIRED)
    if grid is None:
        raise ValidationFailed("请选择纠纷发生的网格", field="grid", code=DisputeErrorCode.PLACE_REQUIRED)
    street_id = grid.community.street_id
    if org is None or not org.is_active or (org.street_id is not None and org.street_id != street_id):
        raise ValidationFailed("请选择本街道的调解组织", field="org", code=DisputeErrorCode.ORG_REQUIRED)
    people = clean_parties(parties)
    amount = parse_amount(amount)
    today = clock.local_now().date()
    received_on = received_on or today
    if received_on > today or received_on < today - timedelta(days=3660):
        raise ValidationFailed("受理日期须在近 10 年内且不晚于今天", field="received_on")
    description = (description or "").strip()
    if not description:
        raise ValidationFailed("请填写纠纷简要情况", field="description", code=CaseErrorCode.INVALID_INPUT)
    with transaction.atomic():
        case = case_services.create_case(
            actor=actor,
            source=CASE_SOURCE[source],
            description=description[:5000],
            grid=grid,
            address=(address or "").strip()[:200],
            source_ref=police_ref or (linked_case.number if linked_case else "") or "",
            procedure=CODE,
            idempotency_key=idempotency_key,
        )
        if getattr(case, "idempotent_replay", False):
            return case
        detail = DisputeDetail.objects.create(
            case=case,
            source=source,
            police_station=police_station if source == DisputeSource.POLICE else "",
            police_ref=police_ref if source == DisputeSource.POLICE else "",
            court_name=court_name if source == DisputeSource.COURT else "",
            linked_case=linked_case if source == DisputeSource.CASE else None,
            dispute_type=dispute_type,
            org=org,
            amount=amount,
            received_on=received_on,
            ledger_no=(ledger_no or "")[:40],
        )
        Party.objects.bulk_create(
            [
                Party(dispute=detail, role=p.role, name=p.name, phone=p.phone, address=p.address)
                for p in people
            ]
        )
        audit.record(
            actor=actor,
            action="disputes.dispute.create",
            obj=case,
            after={
                "source": source,
                "type": dispute_type.name,
                "org": org.name,
                "parties": len(people),
                "police_ref": police_ref,
            },
        )
    return case


def add_party(*, actor, case: Case, party: PartyIn) -> Party:
    check_mediator(actor=actor, case=case)
    if case.state not in ("registered", "mediating"):
        raise IllegalTransition(
            "调解结束后不能再添加当事人", field="move", code=CaseErrorCode.ILLEGAL_TRANSITION
        )
    p = clean_parties([PartyIn(PartyRole.APPLICANT, "占位"), party])[1:]
    if not p:
        raise ValidationFailed("请填写当事人姓名", field="name", code=DisputeErrorCode.PARTY_INVALID)
    with transaction.atomic():
        detail = DisputeDetail.objects.select_for_update().get(case=case)
        if detail.parties.count() >= MAX_PARTIES:
            raise ValidationFailed("当事人过多", field="name", code=DisputeErrorCode.PARTY_INVALID)
        row = Party.objects.create(
            dispute=detail, role=p[0].role, name=p[0].name, phone=p[0].phone, address=p[0].address
        )
        audit.record(actor=actor, action="disputes.party.create", obj=case, after={"role": row.role})
    return row


def record_session(*, actor, case: Case, held_on: date, mediators: str, notes: str) -> MediationSession:
    """一次调解: only while the dispute is 调解中; the date lies between 受理 and today."""
    check_mediator(actor=actor, case=case)
    if case.state != "mediating":
        raise IllegalTransition(
            "只有调解中的纠纷可以登记调解记录（请先受理）",
            field="move",
            code=CaseErrorCode.ILLEGAL_TRANSITION,
        )
    mediators, notes = (mediators or "").strip(), (notes or "").strip()
    if not mediators:
        raise ValidationFailed("请填写调解员", field="mediators", code=DisputeErrorCode.SESSION_INVALID)
    if len(mediators) > 100:
        raise ValidationFailed(
            "调解员不能超过 100 字", field="mediators", code=DisputeErrorCode.SESSION_INVALID
        )
    if not notes:
        raise ValidationFailed("请填写调解情况", field="notes", code=DisputeErrorCode.SESSION_INVALID)
    if len(notes) > 5000:
        raise ValidationFailed(
            "调解情况不能超过 5000 字", field="notes", code=DisputeErrorCode.SESSION_INVALID
        )
    with transaction.atomic():
        detail = DisputeDetail.objects.select_for_update().get(case=case)
        if held_on is None or held_on > clock.local_now().date() or held_on < detail.received_on:
            raise ValidationFailed(
                "调解日期须在受理日期与今天之间", field="held_on", code=DisputeErrorCode.SESSION_INVALID
            )
        session = MediationSession.objects.create(
            dispute=detail, held_on=held_on, mediators=mediators, notes=notes, recorded_by=actor
        )
        audit.record(
            actor=actor,
            action="disputes.session.create",
            obj=case,
            after={"held_on": held_on.isoformat(), "mediators": mediators},
        )
    return session


def note_agreement_generated(*, actor, detail: DisputeDetail) -> None:
    """The 协议书 (with the parties' personal data) was generated: an audit row naming who."""
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="disputes.agreement.generate",
            obj=detail.case,
            after={"agreement_no": detail.agreement_no},
        )
