"""Every write of the estates registers. Keyword-only, each takes ``actor``; the write and its audit row commit in
one transaction (a finding's case is filed in the same transaction through the case engine or the hazards app).
Phones are stored only encrypted (the 基础台账's key) and audited only masked."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.db import transaction

from civicgrid.accounts.roles import Capability, Role, has_capability
from civicgrid.cases import services as case_services
from civicgrid.cases.models import Source
from civicgrid.core import audit, clock
from civicgrid.core.errors import PermissionDenied, ValidationFailed
from civicgrid.core.validation import MAX_DB_INT
from civicgrid.estates import selectors
from civicgrid.estates.models import (
    BuildingProfile,
    Campaign,
    CampaignKind,
    CampaignTarget,
    EnterpriseProfile,
    EnterpriseVisit,
    Industry,
    InspectionResult,
    Rental,
    RentalInspection,
    RentalStatus,
    TargetResult,
)
from civicgrid.hazards import services as hazard_services
from civicgrid.hazards.models import HazardLevel
from civicgrid.places import selectors as place_selectors
from civicgrid.places.models import Building, Grid, Unit
from civicgrid.registers import crypto
from civicgrid.registers import selectors as register_selectors

WRITER_ROLES = (Role.GRID_WORKER, Role.COMMUNITY_STAFF, Role.LEADER, Role.SYSTEM_ADMIN)
CAMPAIGN_ROLES = (Role.LEADER, Role.SYSTEM_ADMIN)
MAX_BACKDATE_DAYS = 60
RENTAL_FIELDS = ["building", "room", "landlord_person", "landlord_name", "landlord_phone_masked", "tenants",
                 "crowded", "three_in_one", "status", "cleared_on", "note"]  # fmt: skip
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
ROOM_RE = re.compile(r"^[0-9A-Za-z\-\u4e00-\u9fff]{1,20}$")


def can_write(actor) -> bool:
    return getattr(actor, "role", None) in WRITER_ROLES and has_capability(actor, Capability.BUSINESS_VIEW)


def _check_writer(actor, roles=WRITER_ROLES) -> None:
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise PermissionDenied("请先登录", code="login_required")
    if actor.role not in roles or not has_capability(actor, Capability.BUSINESS_VIEW):
        raise PermissionDenied(f"「{actor.get_role_display()}」不能执行此操作", code="role_not_allowed")


def in_patch(actor, grid: Grid) -> bool:
    """The grid lies in what the actor may write: own grids (网格员), own 社区, else the tier."""
    if not place_selectors.visible_grids(user=actor).filter(pk=grid.pk).exists():
        return False
    if actor.role == Role.GRID_WORKER:
        return actor.grids.filter(pk=grid.pk).exists()
    if actor.role == Role.COMMUNITY_STAFF:
        return grid.community_id == actor.community_id
    return True


def writable_buildings(actor):
    """The places buildings the actor may register things in (own grids / own 社区 / the tier)."""
    qs = place_selectors.visible_buildings(user=actor)
    if actor.role == Role.GRID_WORKER:
        return qs.filter(grid__in=actor.grids.all())
    if actor.role == Role.COMMUNITY_STAFF:
        return qs.filter(grid__community_id=actor.community_id or -1)
    return qs


def _building(actor, building_id, field: str = "building") -> Building:
    try:
        b = (
            place_selectors.visible_buildings(user=actor)
            .select_related("grid__community")
            .get(pk=_int(building_id))
        )
    except (Building.DoesNotExist, TypeError, ValueError):
        raise ValidationFailed("楼栋不存在或不在您的辖区", field=field) from None
    if not in_patch(actor, b.grid):
        raise ValidationFailed("楼栋不在您负责的网格/社区", field=field)
    return b


def _day(value: date | None, field: str, *, default_today: bool = True) -> date | None:
    today = clock.local_now().date()
    if value is None:
        return today if default_today else None
    if value > today:
        raise ValidationFailed("日期不得晚于今天", field=field)
    return value


def _phone(value: str, field: str) -> str:
    digits = "".join(c for c in (value or "") if c.isdigit())
    if value and not 7 <= len(digits) <= 12:
        raise ValidationFailed("电话应为 7–12 位数字", field=field)
    return digits


def uscc_problem(code: str) -> str | None:
    """The 统一社会信用代码 check (GB 32100-2015): 18 characters of its alphabet and the check character."""
    if len(code) != 18 or any(c not in USCC_ALPHABET for c in code):
        return "应为 18 位数字或大写字母（不含 I、O、Z、S、V）"
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(code[:17], USCC_WEIGHTS, strict=True))
    if USCC_ALPHABET[(31 - total % 31) % 31] != code[17]:
        return "校验位不正确"
    return None


# --- 出租房 ------------------------------------------------------------------------------------------------


def save_rental(
    *,
    actor,
    building_id,
    room: str,
    landlord_name: str = "",
    landlord_phone: str = "",
    landlord_person_id=None,
    tenants: int = 0,
    crowded: bool = False,
    three_in_one: bool = False,
    note: str = "",
    rental: Rental | None = None,
    action: str = "estates.rental.save",
) -> Rental:
    """登记 (``rental`` None) or 修改 an 出租房. The landlord: a register person (name taken from there) or a name."""
    _check_writer(actor)
    building = _building(actor, building_id)
    room = (room or "").strip()
    if not ROOM_RE.match(room):
        raise ValidationFailed("请填写室号（1–20 位数字、字母或汉字）", field="room")
    person = None
    if landlord_person_id not in (None, ""):
        person = register_selectors.visible_persons(user=actor).filter(pk=_int(landlord_person_id)).first()
        if person is None:
            raise ValidationFailed("房东不在人员台账中或无权查看", field="landlord_person")
        landlord_name = person.name
    landlord_name = (landlord_name or "").strip()[:30]
    if not landlord_name:
        raise ValidationFailed("请填写房东姓名或选择在册人员", field="landlord_name")
    if not isinstance(tenants, int) or not 0 <= tenants <= 500:
        raise ValidationFailed("租住人数应为 0–500", field="tenants")
    phone = _phone(landlord_phone, "landlord_phone")
    clash = Rental.objects.filter(building=building, room=room)
    if rental is not None:
        clash = clash.exclude(pk=rental.pk)
    if clash.exists():
        raise ValidationFailed(f"{building.name}{room}室已登记为出租房", field="room")
    with transaction.atomic():
        before = audit.snapshot(rental, RENTAL_FIELDS) if rental else None
        if rental is None:
            rental = Rental(created_by=actor)
        rental.street_id, rental.grid, rental.building, rental.room = (
            building.grid.community.street_id, building.grid, building, room,
        )  # fmt: skip
        rental.landlord_person, rental.landlord_name = person, landlord_name
        if phone or not landlord_phone:
            rental.landlord_phone_cipher = crypto.encrypt(phone) if phone else ""
            rental.landlord_phone_masked = crypto.mask_phone(phone) if phone else ""
        rental.tenants, rental.crowded, rental.three_in_one = tenants, bool(crowded), bool(three_in_one)
        rental.note = (note or "")[:300]
        rental.updated_at = clock.now()
        rental.save()
        b, a = audit.diff(before, audit.snapshot(rental, RENTAL_FIELDS))
        audit.record(actor=actor, action=action, obj=rental, before=b, after=a)
    return rental


def _int(value) -> int:
    try:
        n = int(value)
    except (TypeError, ValueError):
        return -1
    return n if 0 <= n <= MAX_DB_INT else -1


def inspect_rental(
    *,
    actor,
    rental: Rental,
    result: str,
    findings: str = "",
    inspected_on: date | None = None,
    to: str = "",
    hazard_level: str = HazardLevel.GENERAL,
    idempotency_key: str | None = None,
) -> RentalInspection:
    """一次检查. ``to``: ``"case"`` files the findings as a case (source 网格员巡查), ``"hazard"`` as a 安全隐患
    of the building (the hazards app), both in the same transaction; ``""`` records only."""
    _check_writer(actor)
    rental = selectors.get_rental(user=actor, pk=rental.pk)
    if not in_patch(actor, rental.grid):
        raise PermissionDenied("该出租房不在您负责的网格/社区", code="out_of_patch")
    if result not in InspectionResult.values:
        raise ValidationFailed("请选择检查结果", field="result")
    inspected_on = _day(inspected_on, "inspected_on")
    if inspected_on < clock.local_now().date() - timedelta(days=MAX_BACKDATE_DAYS):
        raise ValidationFailed(f"检查日期应在近 {MAX_BACKDATE_DAYS} 天内", field="inspected_on")
    findings = (findings or "").strip()[:2000]
    if to not in ("", "case", "hazard"):
        raise ValidationFailed("问题去向只能是工单或隐患", field="to")
    if to and not findings:
        raise ValidationFailed("转工单/隐患前请填写发现的问题", field="findings")
    if to == "hazard" and hazard_level not in HazardLevel.values:
        raise ValidationFailed("请选择隐患等级", field="hazard_level")
    if idempotency_key:
        done = RentalInspection.objects.filter(rental=rental, idempotency_key=idempotency_key[:64]).first()
        if done is not None:
            return done
    with transaction.atomic():
        case = None
        text = f"出租房检查发现：{findings}（{rental}）"
        if to == "case":
            case = case_services.create_case(
                actor=actor,
                source=Source.GRID_PATROL,
                description=text,
                grid=rental.grid,
                lng=rental.building.lng,
                lat=rental.building.lat,
                address=f"{rental.building.address or rental.building.name}{rental.room}室",
            )
        elif to == "hazard":
            target = hazard_services.resolve_target(
                actor=actor, kind="building", building_id=rental.building_id
            )
            case = hazard_services.report_hazard(
                actor=actor, target=target, level=hazard_level, description=text
            )
        inspection = RentalInspection.objects.create(
            rental=rental,
            inspected_on=inspected_on,
            inspector=actor,
            result=result,
            findings=findings,
            case=case,
            idempotency_key=(idempotency_key or "")[:64],
        )
        audit.record(
            actor=actor,
            action="estates.rental.inspect",
            obj=rental,
            after={"inspected_on": str(inspected_on), "result": result, "case": case.number if case else ""},
        )
    return inspection


def clear_rental(*, actor, rental: Rental, cleared_on: date | None = None, reason: str = "") -> Rental:
    """清退: 在租 → 已清退 with its date and reason (once)."""
    _check_writer(actor)
    rental = selectors.get_rental(user=actor, pk=rental.pk)
    if not in_patch(actor, rental.grid):
        raise PermissionDenied("该出租房不在您负责的网格/社区", code="out_of_patch")
    if rental.status == RentalStatus.CLEARED:
        raise ValidationFailed("该出租房已清退", field="status")
    reason = (reason or "").strip()[:200]
    if not reason:
        raise ValidationFailed("请填写清退原因", field="reason")
    cleared_on = _day(cleared_on, "cleared_on")
    with transaction.atomic():
        rental.status, rental.cleared_on, rental.clear_reason = RentalStatus.CLEARED, cleared_on, reason
        rental.updated_at = clock.now()
        rental.save(update_fields=["status", "cleared_on", "clear_reason", "updated_at"])
        audit.record(
            actor=actor,
            action="estates.rental.clear",
            obj=rental,
            before={"status": RentalStatus.ACTIVE},
            after={"status": RentalStatus.CLEARED, "cleared_on": str(cleared_on), "reason": reason},
        )
    return rental


# --- 楼宇 / 企业 ------------------------------------------------------------------------------------------


def save_building_profile(
    *,
    actor,
    building_id,
    is_key: bool = False,
    manager_name: str = "",
    manager_phone: str | None = None,
    leader: str = "",
    total_area: Decimal | None = None,
    note: str = "",
) -> BuildingProfile:
    _check_writer(actor)
    building = _building(actor, building_id)
    phone = _phone(manager_phone or "", "manager_phone")  # None: keep the stored phone; "": clear it
    if total_area is not None and not Decimal(0) <= Decimal(total_area) < Decimal(10**8):
        raise ValidationFailed("建筑面积应为非负数", field="total_area")
    with transaction.atomic():
        profile, _ = BuildingProfile.objects.get_or_create(
            building=building,
            defaults={"street_id": building.grid.community.street_id, "grid": building.grid},
        )
        before = audit.snapshot(profile, ["is_key", "manager_name", "manager_phone_masked", "leader"])
        profile.is_key, profile.manager_name, profile.leader = (
            bool(is_key),
            (manager_name or "")[:30],
            (leader or "")[:50],
        )
        if manager_phone is not None:
            profile.manager_phone_cipher = crypto.encrypt(phone) if phone else ""
            profile.manager_phone_masked = crypto.mask_phone(phone) if phone else ""
        profile.total_area, profile.note, profile.updated_at = total_area, (note or "")[:300], clock.now()
        profile.save()
        b, a = audit.diff(
            before, audit.snapshot(profile, ["is_key", "manager_name", "manager_phone_masked", "leader"])
        )
        audit.record(actor=actor, action="estates.building.save", obj=profile, before=b, after=a)
    return profile


def save_enterprise(
    *,
    actor,
    unit_id,
    credit_code: str = "",
    registered_here: bool = False,
    industry: str = Industry.OTHER,
    above_scale: bool = False,
    vacant_area: Decimal | int | float | str = 0,
    moved_in_on: date | None = None,
    moved_out_on: date | None = None,
) -> EnterpriseProfile:
    """入驻单位 profile of a places Unit in a building (the unit must name its building)."""
    _check_writer(actor)
    try:
        unit = (
            place_selectors.visible_units(user=actor).select_related("grid__community").get(pk=_int(unit_id))
        )
    except (Unit.DoesNotExist, TypeError, ValueError):
        raise ValidationFailed("单位不存在或不在您的辖区", field="unit") from None
    if unit.building_id is None:
        raise ValidationFailed("该单位未关联楼宇，请先在地图数据中指定所在楼宇", field="unit")
    if not in_patch(actor, unit.grid):
        raise ValidationFailed("单位不在您负责的网格/社区", field="unit")
    credit_code = (credit_code or "").strip().upper()
    if credit_code and (problem := uscc_problem(credit_code)):
        raise ValidationFailed(f"统一社会信用代码：{problem}", field="credit_code")
    if industry not in Industry.values:
        raise ValidationFailed("未知行业", field="industry")
    try:
        vacant = Decimal(str(vacant_area or 0))
    except InvalidOperation:
        raise ValidationFailed("闲置面积应为数字", field="vacant_area") from None
    if not Decimal(0) <= vacant < Decimal(10**7):
        raise ValidationFailed("闲置面积应为非负数", field="vacant_area")
    if moved_in_on and moved_out_on and moved_out_on < moved_in_on:
        raise ValidationFailed("迁出日期不得早于入驻日期", field="moved_out_on")
    fields = ["credit_code", "registered_here", "industry", "above_scale", "vacant_area", "moved_out_on"]
    with transaction.atomic():
        profile = EnterpriseProfile.objects.filter(unit=unit).first()
        before = audit.snapshot(profile, fields) if profile else None
        profile = profile or EnterpriseProfile(unit=unit)
        profile.street_id, profile.grid, profile.building_id = (
            unit.grid.community.street_id,
            unit.grid,
            unit.building_id,
        )
        profile.credit_code, profile.registered_here, profile.industry = (
            credit_code,
            bool(registered_here),
            industry,
        )
        profile.above_scale, profile.vacant_area = bool(above_scale), vacant
        profile.moved_in_on, profile.moved_out_on, profile.updated_at = moved_in_on, moved_out_on, clock.now()
        profile.save()
        b, a = audit.diff(before, audit.snapshot(profile, fields))
        audit.record(actor=actor, action="estates.enterprise.save", obj=profile, before=b, after=a)
    return profile


def visit_enterprise(
    *,
    actor,
    enterprise: EnterpriseProfile,
    notes: str = "",
    demand: str = "",
    visited_on: date | None = None,
    idempotency_key: str | None = None,
) -> EnterpriseVisit:
    """企业走访. A 诉求 becomes a case (source 网格员巡查, at the enterprise) in the same transaction."""
    _check_writer(actor)
    enterprise = selectors.get_enterprise(user=actor, pk=enterprise.pk)
    visited_on = _day(visited_on, "visited_on")
    notes, demand = (notes or "").strip()[:5000], (demand or "").strip()[:2000]
    if not notes and not demand:
        raise ValidationFailed("请填写走访情况或企业诉求", field="notes")
    with transaction.atomic():
        case = None
        if demand:
            unit = enterprise.unit
            case = case_services.create_case(
                actor=actor,
                source=Source.GRID_PATROL,
                description=f"企业走访诉求：{demand}（{unit.name}）",
                grid=enterprise.grid,
                lng=unit.lng or enterprise.building.lng,
                lat=unit.lat or enterprise.building.lat,
                address=unit.address or enterprise.building.address,
                idempotency_key=f"estates-visit:{idempotency_key}" if idempotency_key else None,
            )
        visit = EnterpriseVisit.objects.create(
            enterprise=enterprise, visited_on=visited_on, visitor=actor, notes=notes, demand=demand, case=case
        )
        audit.record(
            actor=actor,
            action="estates.enterprise.visit",
            obj=enterprise,
            after={"visited_on": str(visited_on), "case": case.number if case else ""},
        )
    return visit


# --- 专项排查 -----------------------------------------------------------------------------------------------


def create_campaign(
    *, actor, code: str, name: str, kind: str, starts_on: date, ends_on: date, note: str = ""
) -> Campaign:
    _check_writer(actor, CAMPAIGN_ROLES)
    street_id = getattr(actor, "street_id", None)
    if street_id is None:
        raise ValidationFailed("您的账号未归属街道，不能建立专项排查", field="street")
    code = (code or "").strip()
    if not re.fullmatch(r"[A-Za-z0-9_-]{2,20}", code):
        raise ValidationFailed("活动编号：2–20 位字母、数字、- 或 _", field="code")
    if Campaign.objects.filter(code=code).exists():
        raise ValidationFailed("活动编号已存在", field="code")
    name = (name or "").strip()[:100]
    if not name:
        raise ValidationFailed("请填写名称", field="name")
    if kind not in CampaignKind.values:
        raise ValidationFailed("请选择类别", field="kind")
    if not starts_on or not ends_on or ends_on < starts_on:
        raise ValidationFailed("截止日期不得早于开始日期", field="ends_on")
    with transaction.atomic():
        c = Campaign.objects.create(
            street_id=street_id, code=code, name=name, kind=kind, starts_on=starts_on, ends_on=ends_on,
            note=(note or "")[:300], created_by=actor,
        )  # fmt: skip
        audit.record(actor=actor, action="estates.campaign.save", obj=c, after={"code": code, "name": name})
    return c


def record_result(
    *,
    actor,
    target: CampaignTarget,
    result: str,
    note: str = "",
    finding: str = "",
) -> CampaignTarget:
    """排查结果. ``finding`` (with result 发现问题) becomes a case in the same transaction; a retried submit of the
    same finding files nothing twice (the target keeps its case)."""
    _check_writer(actor)
    target = selectors.get_target(user=actor, pk=target.pk)
    if not in_patch(actor, target.grid):
        raise PermissionDenied("该排查对象不在您负责的网格/社区", code="out_of_patch")
    if result not in TargetResult.values or result == TargetResult.PENDING:
        raise ValidationFailed("请选择排查结果", field="result")
    finding = (finding or "").strip()[:2000]
    if finding and result != TargetResult.PROBLEM:
        raise ValidationFailed("只有“发现问题”才能转工单", field="finding")
    note = (note or "").strip()[:300]
    if result == TargetResult.UNREACHABLE and not note:
        raise ValidationFailed("无法联系/入户时请说明原因", field="note")
    with transaction.atomic():
        before = {"result": target.result}
        if finding and target.case_id is None:
            b = target.building
            target.case = case_services.create_case(
                actor=actor,
                source=Source.GRID_PATROL,
                description=f"{target.campaign.name}发现：{finding}（{target.name}）",
                grid=target.grid,
                lng=b.lng if b else None,
                lat=b.lat if b else None,
                address=target.address or target.name,
            )
        target.result, target.note = result, note
        target.checked_at, target.checked_by = clock.now(), actor
        target.save(update_fields=["result", "note", "checked_at", "checked_by", "case"])
        audit.record(
            actor=actor,
            action="estates.target.result",
            obj=target,
            before=before,
            after={"result": result, "case": target.case.number if target.case_id else ""},
        )
    return target
