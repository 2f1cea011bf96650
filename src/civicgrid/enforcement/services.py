"""Every write of the 综合执法 ledger: 登记 a case (an ``enforcement`` case through the case services, its detail
record, and the 受理 move that hands it to the 执法队 and starts the 立案审查 clock) and the import of an existing
ledger row. Keyword-only, each takes ``actor``; write and audit in one transaction. The case tables are written
only through :mod:`civicgrid.cases.services`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from math import ceil

from django.db import transaction

from civicgrid.accounts.models import Department
from civicgrid.cases import services as case_services
from civicgrid.cases.errors import CaseErrorCode
from civicgrid.cases.models import Case, DeadlineUnit
from civicgrid.core import audit, clock
from civicgrid.core.errors import PermissionDenied, ValidationFailed
from civicgrid.enforcement import selectors
from civicgrid.enforcement.errors import EnforcementErrorCode
from civicgrid.enforcement.models import EnforcementDetail, PartyKind, RightsResponse, ViolationType
from civicgrid.enforcement.workflow import CODE, limits, procedure

MAX_BACKDATE_DAYS = 365
PHONE_RE = re.compile(r"^[0-9+\-() ]{5,30}$")


@dataclass
class Party:
    name: str
    kind: str = PartyKind.PERSON
    contact: str = ""


def _check_party(party: Party) -> Party:
    name = (party.name or "").strip()
    if not name:
        raise ValidationFailed("请填写当事人", field="party_name", code=EnforcementErrorCode.PARTY_REQUIRED)
    if len(name) > 100:
        raise ValidationFailed("当事人不能超过 100 字", field="party_name", code=CaseErrorCode.INVALID_INPUT)
    if party.kind not in PartyKind.values:
        raise ValidationFailed("请选择当事人类型", field="party_kind", code=CaseErrorCode.INVALID_INPUT)
    contact = (party.contact or "").strip()
    if contact and not PHONE_RE.match(contact):
        raise ValidationFailed("联系电话格式不正确", field="party_contact", code=CaseErrorCode.INVALID_INPUT)
    return Party(name=name, kind=party.kind, contact=contact)


def _check_department(actor, department, street_id: int | None) -> Department:
    if department is None or not isinstance(department, Department):
        raise ValidationFailed(
            "请选择办案单位", field="department", code=EnforcementErrorCode.DEPARTMENT_INVALID
        )
    if not selectors.departments(user=actor).filter(pk=department.pk).exists() or not (
        case_services.department_serves(department, street_id)
    ):
        raise ValidationFailed(
            "办案单位不存在或不属于本街道", field="department", code=EnforcementErrorCode.DEPARTMENT_INVALID
        )
    return department


def file_days_left(discovered_at: datetime, now: datetime) -> int:
    """The 立案审查 limit still left of the configured days counted from 发现 (at least 1 自然日)."""
    total = limits()["file_days"]
    used = max(0, ceil((now - discovered_at).total_seconds() / 86400) - 1) if now > discovered_at else 0
    return max(1, min(total, total - used))


def register_case(
    *,
    actor,
    party: Party,
    violation_type: ViolationType | None,
    description: str,
    department: Department,
    discovered_at: datetime | None = None,
    address: str = "",
    grid=None,
    source_case: Case | None = None,
    attachments=(),
    note: str = "",
    external_ref: str = "",
    channel: str = "",
) -> Case:
    """登记 one 执法案件 (线索): the ``enforcement`` case, its detail record and the 受理 that hands it to the
    ``department`` (执法队) with the 立案审查 clock counted from ``discovered_at`` — all or nothing."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise PermissionDenied("请先登录", code=CaseErrorCode.LOGIN_REQUIRED)
    proc = procedure()
    if not proc.may_create(actor):
        raise PermissionDenied(
            f"「{actor.get_role_display()}」不能登记执法案件", code=CaseErrorCode.ROLE_NOT_ALLOWED
        )
    party = _check_party(party)
    if violation_type is None:
        raise ValidationFailed(
            "请选择违法行为类型", field="violation_type", code=EnforcementErrorCode.TYPE_REQUIRED
        )
    now = clock.now()
    found = discovered_at or now
    if found.tzinfo is None:
        raise ValidationFailed("发现时间必须带时区", field="discovered_at", code=CaseErrorCode.INVALID_INPUT)
    if found > now + timedelta(minutes=5) or found < now - timedelta(days=MAX_BACKDATE_DAYS):
        raise ValidationFailed(
            f"发现时间须在最近 {MAX_BACKDATE_DAYS} 天内且不晚于现在",
            field="discovered_at",
            code=EnforcementErrorCode.DISCOVERED_INVALID,
        )
    if (
        source_case is not None
        and not selectors.source_case_choices(user=actor).filter(pk=source_case.pk).exists()
    ):
        raise ValidationFailed(
            "来源案件不存在或无权查看", field="source_case", code=EnforcementErrorCode.SOURCE_CASE_NOT_FOUND
        )
    street_id = grid.community.street_id if grid is not None else getattr(actor, "street_id", None)
    if street_id is None and source_case is not None:
        street_id = source_case.street_id
    if street_id is None:
        raise ValidationFailed(
            "无法确定案件所属街道，请选择网格", field="grid", code=EnforcementErrorCode.NO_STREET
        )
    _check_department(actor, department, street_id)
    text = (description or "").strip() or f"{party.name}：{violation_type.name}"
    with transaction.atomic():
        case = case_services.create_case(
            actor=actor,
            source="dispatcher",
            description=text[:5000],
            grid=grid,
            address=(address or "").strip()[:200],
            reporter_name=party.name[:50],
            reporter_phone=party.contact[:30],
            occurred_at=found,
            attachments=list(attachments or ()),
            procedure=CODE,
            street_id=street_id,
            channel=channel,
        )
        detail = EnforcementDetail.objects.create(
            case=case,
            street_id=case.street_id,
            violation_type=violation_type,
            party_kind=party.kind,
            party_name=party.name,
            party_contact=party.contact,
            discovered_at=found,
            source_case=source_case,
            external_ref=(external_ref or "")[:60],
        )
        case = case_services.perform(
            actor=actor,
            case=case,
            move="receive",
            version=case.version,
            department=department,
            amount=file_days_left(found, now),
            unit=DeadlineUnit.NATURAL_DAYS,
            note=note,
            channel=channel,
        )
        audit.record(
            actor=actor,
            action="enforcement.case.register",
            obj=case,
            after={"party": party.name, "type": violation_type.name, "department": department.name},
        )
    case.enforcement_record = detail
    return case


def move(*, actor, case: Case, name: str, **kw) -> Case:
    """One move of the procedure (the case engine's ``perform`` on the case's current version)."""
    case.refresh_from_db()
    return case_services.perform(actor=actor, case=case, move=name, version=case.version, **kw)


@dataclass
class LedgerRow:
    """One row of an existing 执法案件 ledger (the import)."""

    ref: str
    procedure_kind: str
    party: Party
    violation_type: ViolationType
    description: str
    department: Department
    accepted_at: datetime
    discovered_at: datetime | None = None
    address: str = ""
    legal_basis: str = ""
    penalty: str = ""
    decision_no: str = ""
    decided_at: datetime | None = None
    fine_amount: Decimal | None = None
    demolished_area: Decimal | None = None
    demolished_sites: int | None = None
    incident_count: int | None = None
    executed_at: datetime | None = None
    concluded_at: datetime | None = None


NOT_IN_LEDGER = "（原台账未载明）"

EDITABLE = (
    "legal_basis",
    "penalty",
    "decision_no",
    "fine_amount",
    "demolished_area",
    "demolished_sites",
    "incident_count",
)


def import_row(*, actor, row: LedgerRow) -> Case:
    """One ledger row: a new case walked through the procedure's moves as far as the row goes (the timeline says
    ``import``; the detail record keeps the sheet's dates), or — the same 原台账编号 in the actor's 街道 — an update
    of the existing record's figures and dates (its state is not replayed)."""
    street_id = getattr(actor, "street_id", None)
    if street_id is None:
        raise ValidationFailed("请使用街道账号导入", field="street", code=EnforcementErrorCode.NO_STREET)
    existing = (
        EnforcementDetail.objects.filter(street_id=street_id, external_ref=row.ref, case__procedure=CODE)
        .select_related("case")
        .first()
    )
    dates = {
        "accepted_at": row.accepted_at,
        "decided_at": row.decided_at,
        "executed_at": row.executed_at,
        "concluded_at": row.concluded_at,
    }
    if row.procedure_kind == "simple":
        dates["decided_at"] = dates["decided_at"] or row.accepted_at
        dates["executed_at"] = dates["executed_at"] or row.accepted_at
        dates["concluded_at"] = dates["concluded_at"] or row.accepted_at
    with transaction.atomic():
        if existing is not None:
            record, case = existing, existing.case
            before = audit.snapshot(record, list(EDITABLE) + list(dates))
        else:
            case = register_case(
                actor=actor,
                party=row.party,
                violation_type=row.violation_type,
                description=row.description,
                department=row.department,
                discovered_at=None,
                address=row.address,
                external_ref=row.ref,
                channel="import",
            )
            # the moves require their record; a ledger that left a cell empty says so instead
            detail = {k: getattr(row, k) or NOT_IN_LEDGER for k in ("legal_basis", "penalty", "decision_no")}
            detail["violation_type"] = row.violation_type.pk
            detail["fine_amount"] = row.fine_amount or 0
            if row.procedure_kind == "simple":
                case = move(actor=actor, case=case, name="summary_penalty", detail=detail, channel="import")
            else:
                case = move(
                    actor=actor,
                    case=case,
                    name="file_case",
                    detail={"violation_type": row.violation_type.pk},
                    channel="import",
                )
                if row.decided_at is not None:
                    case = move(
                        actor=actor, case=case, name="notify_rights", note="（导入）", channel="import"
                    )
                    detail["rights_response"] = RightsResponse.NONE
                    case = move(actor=actor, case=case, name="decide", detail=detail, channel="import")
                    if row.executed_at is not None:
                        quantities = {
                            "demolished_area": row.demolished_area or 0,
                            "demolished_sites": row.demolished_sites or 0,
                        }
                        case = move(
                            actor=actor,
                            case=case,
                            name="execute",
                            note="（导入）",
                            detail=quantities,
                            channel="import",
                        )
                        if row.concluded_at is not None:
                            case = move(actor=actor, case=case, name="close_case", channel="import")
            record = EnforcementDetail.objects.get(case=case)
            before = None
        for name in EDITABLE:
            value = getattr(row, name)
            if value not in (None, ""):
                setattr(record, name, value)
        record.violation_type = row.violation_type
        record.procedure_kind = row.procedure_kind
        record.discovered_at = row.discovered_at or row.accepted_at
        for name, value in dates.items():
            # a date the case has not reached is not written (a row says 结案 but the case is still open: the
            # procedure decides, not the sheet)
            if value is not None and getattr(record, name) is not None:
                setattr(record, name, value)
        record.save()
        audit.record(
            actor=actor,
            action="enforcement.case.import",
            obj=case,
            before=before,
            after=audit.snapshot(record, list(EDITABLE) + list(dates)),
            note=f"原台账编号 {row.ref}",
        )
    return case
