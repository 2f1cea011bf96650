"""Every write of the 舆情 ledger: 登记 a 舆情 (an ``opinion`` case through the case services and its detail record)
and the import of an existing ledger row. Keyword-only, each takes ``actor``; write and audit in one transaction;
the case tables are written only through :mod:`civicgrid.cases.services`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction

from civicgrid.accounts.models import Department
from civicgrid.cases import services as case_services
from civicgrid.cases.errors import CaseErrorCode
from civicgrid.cases.models import Case, DeadlineUnit
from civicgrid.core import audit, clock
from civicgrid.core.errors import PermissionDenied, ValidationFailed
from civicgrid.opinion.models import OpinionDetail, OpinionLevel, Platform
from civicgrid.opinion.workflow import CODE, LEVEL_BOUNDS, procedure

MAX_BACKDATE_DAYS = 365
_URL = URLValidator(schemes=["http", "https"])


def check_url(url: str) -> str:
    url = (url or "").strip()
    if not url:
        return ""
    if len(url) > 500:
        raise ValidationFailed("链接不能超过 500 个字符", field="url", code=CaseErrorCode.INVALID_INPUT)
    try:
        _URL(url)
    except ValidationError:
        raise ValidationFailed(
            "链接须是以 http:// 或 https:// 开头的网址", field="url", code=CaseErrorCode.INVALID_INPUT
        ) from None
    return url


def _check_time(value: datetime | None, *, field: str, label: str, now: datetime) -> None:
    if value is None:
        return
    if value.tzinfo is None:
        raise ValidationFailed(f"{label}必须带时区", field=field, code=CaseErrorCode.INVALID_INPUT)
    if value > now + timedelta(minutes=5) or value < now - timedelta(days=MAX_BACKDATE_DAYS):
        raise ValidationFailed(
            f"{label}须在最近 {MAX_BACKDATE_DAYS} 天内且不晚于现在",
            field=field,
            code=CaseErrorCode.INVALID_INPUT,
        )


def register_opinion(
    *,
    actor,
    platform: str,
    media_name: str,
    title: str,
    content: str = "",
    url: str = "",
    published_at: datetime | None = None,
    grid=None,
    address: str = "",
    external_ref: str = "",
    channel: str = "",
) -> Case:
    """登记 one 舆情 (state 已收集) with where it was published."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise PermissionDenied("请先登录", code=CaseErrorCode.LOGIN_REQUIRED)
    if not procedure().may_create(actor):
        raise PermissionDenied(
            f"「{actor.get_role_display()}」不能登记舆情", code=CaseErrorCode.ROLE_NOT_ALLOWED
        )
    if platform not in Platform.values:
        raise ValidationFailed("请选择来源平台", field="platform", code=CaseErrorCode.INVALID_INPUT)
    media_name = (media_name or "").strip()
    if not media_name:
        raise ValidationFailed("请填写媒体/账号名称", field="media_name", code=CaseErrorCode.FIELD_REQUIRED)
    if len(media_name) > 100:
        raise ValidationFailed(
            "媒体/账号名称不能超过 100 字", field="media_name", code=CaseErrorCode.INVALID_INPUT
        )
    title = (title or "").strip()
    if not title:
        raise ValidationFailed("请填写舆情标题", field="title", code=CaseErrorCode.FIELD_REQUIRED)
    url = check_url(url)
    now = clock.now()
    _check_time(published_at, field="published_at", label="发布时间", now=now)
    street_id = grid.community.street_id if grid is not None else getattr(actor, "street_id", None)
    if street_id is None:
        raise ValidationFailed("无法确定所属街道，请选择网格", field="grid", code=CaseErrorCode.INVALID_INPUT)
    text = title if not content.strip() else f"{title}\n{content.strip()}"
    with transaction.atomic():
        case = case_services.create_case(
            actor=actor,
            source="media",
            description=text[:5000],
            grid=grid,
            address=(address or "").strip()[:200],
            source_ref=url[:100],
            occurred_at=published_at,
            procedure=CODE,
            street_id=street_id,
            channel=channel,
        )
        OpinionDetail.objects.create(
            case=case,
            street_id=case.street_id,
            platform=platform,
            media_name=media_name,
            url=url,
            published_at=published_at,
            collected_at=case.created_at,
            external_ref=(external_ref or "")[:60],
        )
        audit.record(
            actor=actor,
            action="opinion.case.register",
            obj=case,
            after={"platform": platform, "media": media_name, "url": url},
        )
    return case


def move(*, actor, case: Case, name: str, **kw) -> Case:
    case.refresh_from_db()
    return case_services.perform(actor=actor, case=case, move=name, version=case.version, **kw)


@dataclass
class LedgerRow:
    ref: str
    title: str
    platform: str
    media_name: str
    collected_at: datetime
    url: str = ""
    published_at: datetime | None = None
    level: str = ""
    department: Department | None = None
    actions: str = ""
    response_text: str = ""
    responded_at: datetime | None = None
    concluded_at: datetime | None = None


DATES = ("collected_at", "assessed_at", "handled_at", "responded_at", "concluded_at")
EDITABLE = ("level", "actions", "response_text")
NOT_IN_LEDGER = "（原台账未载明）"


def import_row(*, actor, row: LedgerRow) -> Case:
    """One ledger row: a new 舆情 walked through the moves as far as the row goes (timeline ``import``, the detail
    keeps the sheet's dates), or — same 原台账编号 in the actor's 街道 — an update of its level, texts and dates."""
    street_id = getattr(actor, "street_id", None)
    if street_id is None:
        raise ValidationFailed("请使用街道账号导入", field="street", code=CaseErrorCode.INVALID_INPUT)
    existing = (
        OpinionDetail.objects.filter(street_id=street_id, external_ref=row.ref, case__procedure=CODE)
        .select_related("case")
        .first()
    )
    with transaction.atomic():
        if existing is None:
            case = register_opinion(
                actor=actor,
                platform=row.platform,
                media_name=row.media_name,
                title=row.title,
                url=row.url,
                external_ref=row.ref,
                channel="import",
            )
            before = None
            if row.level:
                case = move(actor=actor, case=case, name="assess", channel="import",
                            detail={"level": row.level, "assessment": NOT_IN_LEDGER})  # fmt: skip
                if row.department is not None:
                    case = move(actor=actor, case=case, name="assign_handling", department=row.department,
                                amount=LEVEL_BOUNDS[row.level][1], unit=DeadlineUnit.NATURAL_DAYS,
                                channel="import")  # fmt: skip
                    if row.actions or row.concluded_at:
                        case = move(actor=actor, case=case, name="report_handled", channel="import",
                                    detail={"actions": row.actions or NOT_IN_LEDGER})  # fmt: skip
                        if row.response_text:
                            case = move(actor=actor, case=case, name="respond", channel="import",
                                        detail={"response_text": row.response_text,
                                                "response_channel": NOT_IN_LEDGER})  # fmt: skip
                        if row.concluded_at:
                            case = move(actor=actor, case=case, name="conclude", channel="import")
            record = OpinionDetail.objects.get(case=case)
        else:
            record, case = existing, existing.case
            before = audit.snapshot(record, list(EDITABLE) + list(DATES))
        if row.level:
            record.level = row.level
        record.actions = row.actions or record.actions
        record.response_text = row.response_text or record.response_text
        record.published_at = row.published_at or record.published_at
        record.collected_at = row.collected_at
        sheet = {"responded_at": row.responded_at, "concluded_at": row.concluded_at}
        for name, value in sheet.items():
            if value is not None and getattr(record, name) is not None:
                setattr(record, name, value)
        for name in ("assessed_at", "handled_at"):  # the sheet has no such column: keep them in order
            if getattr(record, name) is not None and existing is None:
                setattr(record, name, row.collected_at)
        record.save()
        audit.record(
            actor=actor,
            action="opinion.case.import",
            obj=case,
            before=before,
            after=audit.snapshot(record, list(EDITABLE) + list(DATES)),
            note=f"原台账编号 {row.ref}",
        )
    return case


LEVELS = dict(OpinionLevel.choices)
