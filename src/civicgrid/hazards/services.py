"""Every write of the 安全隐患 ledger: 检查 (with the hazards one submit finds), 隐患 (a ``hazard`` case through the
case services plus its detail record), the 消防设施 register. Keyword-only, each takes ``actor``; write and audit
in one transaction. The case tables are written only through :mod:`civicgrid.cases.services`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction

from civicgrid.accounts.roles import Capability, has_capability
from civicgrid.cases import services as case_services
from civicgrid.cases.attachments import store_upload
from civicgrid.cases.errors import CaseErrorCode
from civicgrid.cases.models import AttachmentKind, Case
from civicgrid.core import audit, clock
from civicgrid.core.errors import PermissionDenied, ValidationFailed
from civicgrid.hazards import selectors
from civicgrid.hazards.errors import HazardErrorCode
from civicgrid.hazards.models import (
    Checklist,
    ChecklistItem,
    Equipment,
    FireSafetyRegister,
    HazardCategory,
    HazardDetail,
    HazardLevel,
    Inspection,
    InspectionPhoto,
    InspectionResult,
    TargetKind,
)
from civicgrid.hazards.workflow import CODE

MAX_ITEMS = 200
MAX_INSPECTION_PHOTOS = 6  # photos of the inspection as a whole (each failed item has its own, as before)
MAX_BACKDATE_DAYS = 30  # an inspection entered afterwards


@dataclass
class Finding:
    """One checklist item's result; a failed one with ``hazard=True`` becomes a 隐患 in the same submit."""

    passed: bool
    item: ChecklistItem | None = None
    text: str = ""
    note: str = ""
    hazard: bool = False
    level: str = HazardLevel.GENERAL
    category: HazardCategory | None = None
    description: str = ""
    photos: list = field(default_factory=list)


@dataclass
class Target:
    kind: str
    name: str
    street_id: int
    grid: object = None
    unit: object = None
    building: object = None
    community: object = None
    address: str = ""
    lng: float | None = None
    lat: float | None = None


def _can_inspect(actor) -> None:
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise PermissionDenied("请先登录", code=CaseErrorCode.LOGIN_REQUIRED)
    if not has_capability(actor, Capability.CASE_CREATE):
        raise PermissionDenied(
            f"「{actor.get_role_display()}」不能录入检查", code=CaseErrorCode.ROLE_NOT_ALLOWED
        )


def resolve_target(
    *,
    actor,
    kind: str,
    unit_id=None,
    building_id=None,
    community_id=None,
    lng: float | None = None,
    lat: float | None = None,
    address: str = "",
    name: str = "",
) -> Target:
    """The 检查对象 as the actor may see it (404-like ``TARGET_NOT_FOUND`` otherwise)."""
    if kind not in TargetKind.values:
        raise ValidationFailed(
            "请选择检查对象类型", field="target_kind", code=HazardErrorCode.TARGET_REQUIRED
        )
    wanted = {"unit": unit_id, "building": building_id, "community": community_id}.get(kind)
    if kind != TargetKind.POINT and wanted in (None, ""):
        raise ValidationFailed("请选择检查对象", field=kind, code=HazardErrorCode.TARGET_REQUIRED)
    obj = selectors.target_object(user=actor, kind=kind, pk=wanted) if kind != TargetKind.POINT else None
    if kind != TargetKind.POINT and obj is None:
        raise ValidationFailed(
            "检查对象不存在或不在您的辖区", field=kind, code=HazardErrorCode.TARGET_NOT_FOUND
        )
    if kind == TargetKind.UNIT:
        return Target(
            kind,
            obj.name,
            obj.grid.community.street_id,
            grid=obj.grid,
            unit=obj,
            building=obj.building,
            community=obj.grid.community,
            address=obj.address,
            lng=obj.lng,
            lat=obj.lat,
        )
    if kind == TargetKind.BUILDING:
        return Target(
            kind,
            obj.name,
            obj.grid.community.street_id,
            grid=obj.grid,
            building=obj,
            community=obj.grid.community,
            address=obj.address,
            lng=obj.lng,
            lat=obj.lat,
        )
    if kind == TargetKind.COMMUNITY:
        return Target(kind, obj.name, obj.street_id, community=obj, address=address)
    # a street point: its grid from the coordinates, else the actor's 街道
    if lng is None or lat is None:
        raise ValidationFailed("请在地图上选点（经纬度）", field="lng", code=HazardErrorCode.TARGET_REQUIRED)
    grid = selectors.grid_at(user=actor, lng=lng, lat=lat)
    street_id = grid.community.street_id if grid is not None else getattr(actor, "street_id", None)
    if street_id is None:
        raise ValidationFailed("无法确定该点所属街道", field="lng", code=HazardErrorCode.NO_STREET)
    name = (name or address or "街面点位").strip()[:150]
    return Target(
        kind,
        name,
        street_id,
        grid=grid,
        community=grid.community if grid else None,
        address=(address or "").strip()[:200],
        lng=lng,
        lat=lat,
    )


def record_inspection(
    *,
    actor,
    target: Target,
    checklist: Checklist | None,
    findings: Iterable[Finding],
    inspected_at: datetime | None = None,
    inspectors: Iterable = (),
    note: str = "",
    photos: Iterable = (),
) -> Inspection:
    """One 检查 (one 检查家次) with its item results and photos of the inspection as a whole (validated and
    thumbnailed like case photos, at most :data:`MAX_INSPECTION_PHOTOS`); each failed item marked as a hazard
    becomes a ``hazard`` case (state 发现) with its detail record and before-photos — all or nothing."""
    _can_inspect(actor)
    findings = list(findings)
    photos = [p for p in photos or () if p]
    if len(findings) > MAX_ITEMS:
        raise ValidationFailed("检查项过多", field="items", code=CaseErrorCode.INVALID_INPUT)
    if len(photos) > MAX_INSPECTION_PHOTOS:
        raise ValidationFailed(
            f"检查照片最多 {MAX_INSPECTION_PHOTOS} 张", field="photos", code=CaseErrorCode.ATTACHMENT_INVALID
        )
    if not selectors.street_in_tier(user=actor, street_id=target.street_id):
        raise ValidationFailed(
            "检查对象不在您的辖区", field=target.kind, code=HazardErrorCode.TARGET_NOT_FOUND
        )
    for i, f in enumerate(findings):
        if f.item is not None and checklist is not None and f.item.checklist_id != checklist.pk:
            raise ValidationFailed(
                "检查项不属于所选检查表", field=f"items.{i}", code=HazardErrorCode.CHECKLIST_ITEM_UNKNOWN
            )
        if f.hazard and not f.passed:
            if f.level not in HazardLevel.values:
                raise ValidationFailed(
                    "请选择隐患等级", field=f"items.{i}.level", code=HazardErrorCode.LEVEL_INVALID
                )
            if not (f.description or f.note or (f.item and f.item.text)):
                raise ValidationFailed(
                    "请描述隐患", field=f"items.{i}.description", code=HazardErrorCode.DESCRIPTION_REQUIRED
                )
    now = clock.now()
    when = inspected_at or now
    if when > now + timedelta(minutes=5) or when < now - timedelta(days=MAX_BACKDATE_DAYS):
        raise ValidationFailed(
            f"检查时间须在最近 {MAX_BACKDATE_DAYS} 天内且不晚于现在",
            field="inspected_at",
            code=CaseErrorCode.INVALID_INPUT,
        )
    people = {u.pk: u for u in inspectors}
    people.pop(actor.pk, None)
    if people:
        known = set(selectors.colleagues(user=actor).filter(pk__in=list(people)).values_list("pk", flat=True))
        if known != set(people):
            raise ValidationFailed(
                "同行检查人员不存在或不在您的辖区", field="inspectors", code=CaseErrorCode.INVALID_INPUT
            )
    people[actor.pk] = actor
    with transaction.atomic():
        inspection = Inspection.objects.create(
            street_id=target.street_id,
            target_kind=target.kind,
            unit=target.unit,
            building=target.building,
            community=target.community,
            grid=target.grid,
            target_name=target.name,
            address=target.address,
            lng=target.lng,
            lat=target.lat,
            checklist=checklist,
            inspected_at=when,
            note=(note or "").strip(),
            created_by=actor,
            created_at=now,
        )
        inspection.inspectors.set(list(people.values()))
        for p in photos:
            attachment = store_upload(file=p, kind=AttachmentKind.OTHER, actor=actor)
            InspectionPhoto.objects.create(inspection=inspection, attachment=attachment)
        InspectionResult.objects.bulk_create(
            [
                InspectionResult(
                    inspection=inspection,
                    item=f.item,
                    item_text=(f.item.text if f.item else f.text)[:200] or "检查项",
                    passed=f.passed,
                    note=(f.note or "")[:300],
                )
                for f in findings
            ]
        )
        hazards = [
            _create_hazard(
                actor=actor,
                target=target,
                inspection=inspection,
                level=f.level,
                category=f.category or (f.item.category if f.item else None),
                description=(f.description or f.note or "").strip()
                or f"{target.name}：{f.item.text if f.item else f.text}不合格",
                photos=f.photos,
            )
            for f in findings
            if f.hazard and not f.passed
        ]
        inspection.hazard_count = len(hazards)
        inspection.save(update_fields=["hazard_count"])
        audit.record(
            actor=actor,
            action="hazards.inspection.create",
            obj=inspection,
            after={
                "target": target.name,
                "items": len(findings),
                "hazards": len(hazards),
                "photos": len(photos),
            },
        )
    inspection.new_hazards = hazards
    return inspection


def report_hazard(
    *,
    actor,
    target: Target,
    level: str,
    description: str,
    category: HazardCategory | None = None,
    photos: Iterable = (),
) -> Case:
    """A 隐患 found outside a checklist inspection (e.g. on patrol)."""
    _can_inspect(actor)
    if level not in HazardLevel.values:
        raise ValidationFailed("请选择隐患等级", field="level", code=HazardErrorCode.LEVEL_INVALID)
    if not selectors.street_in_tier(user=actor, street_id=target.street_id):
        raise ValidationFailed(
            "检查对象不在您的辖区", field=target.kind, code=HazardErrorCode.TARGET_NOT_FOUND
        )
    with transaction.atomic():
        return _create_hazard(
            actor=actor,
            target=target,
            inspection=None,
            level=level,
            category=category,
            description=description,
            photos=photos,
        )


def _create_hazard(*, actor, target: Target, inspection, level, category, description, photos) -> Case:
    description = (description or "").strip()
    if not description:
        raise ValidationFailed("请描述隐患", field="description", code=HazardErrorCode.DESCRIPTION_REQUIRED)
    case = case_services.create_case(
        actor=actor,
        source="grid_patrol",
        description=description[:5000],
        grid=target.grid,
        lng=target.lng,
        lat=target.lat,
        address=target.address or target.name,
        attachments=list(photos or ()),
        procedure=CODE,
        street_id=target.street_id,
        # a unit/building/community was checked against the actor's patch above; a point by the case engine
        place_checked=target.kind != TargetKind.POINT,
    )
    HazardDetail.objects.create(
        case=case,
        category=category,
        level=level,
        inspection=inspection,
        target_kind=target.kind,
        target_unit=target.unit,
        target_building=target.building,
        target_name=target.name,
        responsible_unit=target.unit.name if target.unit is not None else "",
        responsible_person=(target.unit.contact_name if target.unit is not None else "")[:50],
    )
    audit.record(
        actor=actor,
        action="hazards.hazard.create",
        obj=case,
        after={"level": level, "category": category.name if category else "", "target": target.name},
    )
    return case


def save_fire_register(
    *, actor, building, checked_at=None, note: str = "", **status: str
) -> FireSafetyRegister:
    """The 消防设施 register of ``building`` (烟感, 灭火器, 喷淋, 消防通道: 完好/损坏/缺失/不适用)."""
    _can_inspect(actor)
    if selectors.target_object(user=actor, kind="building", pk=building.pk) is None:
        raise ValidationFailed(
            "楼宇不存在或不在您的辖区", field="building", code=HazardErrorCode.TARGET_NOT_FOUND
        )
    for name, value in status.items():
        if name not in FireSafetyRegister.FIELDS:
            raise ValidationFailed(f"未知设施：{name}", field=name, code=CaseErrorCode.INVALID_INPUT)
        if value not in Equipment.values:
            raise ValidationFailed("请选择设施状态", field=name, code=CaseErrorCode.INVALID_INPUT)
    with transaction.atomic():
        register, _ = FireSafetyRegister.objects.select_for_update().get_or_create(building=building)
        before = {f: getattr(register, f) for f in FireSafetyRegister.FIELDS}
        for name, value in status.items():
            setattr(register, name, value)
        register.checked_at = checked_at or clock.local_now().date()
        register.note = (note or "")[:300]
        register.save()
        audit.record(
            actor=actor,
            action="hazards.fire_register.save",
            obj=register,
            before=before,
            after={f: getattr(register, f) for f in FireSafetyRegister.FIELDS},
        )
    return register


def file_finding(*, actor, place, description: str, category=None, idempotency_key=None, photos=()) -> Case:
    """The ``hazard`` filer of :mod:`civicgrid.cases.findings`: a finding on a visit or at a patrol point becomes a
    一般隐患 on the visited unit / building, else on the point where it was found. ``category`` (a case category
    of the caller's form) is not a 隐患类别 and is left for the 复核 to set."""
    if place.unit is not None:
        kind = TargetKind.UNIT
    elif place.building is not None:
        kind = TargetKind.BUILDING
    else:
        kind = TargetKind.POINT
    target = Target(
        kind,
        (place.name or place.address or "巡查发现")[:150],
        place.street_id,
        grid=place.grid,
        unit=place.unit,
        building=place.building or getattr(place.unit, "building", None),
        community=getattr(place.grid, "community", None),
        address=(place.address or "")[:200],
        lng=place.lng,
        lat=place.lat,
    )
    if kind == TargetKind.POINT and (place.lng is None or place.lat is None):
        raise ValidationFailed("上报隐患需要位置", field="lng", code=HazardErrorCode.TARGET_REQUIRED)
    return report_hazard(
        actor=actor, target=target, level=HazardLevel.GENERAL, description=description, photos=photos
    )
