"""Estates API (/api/v1/estates): 出租房 (list with filters, detail with inspections, create, inspect with a
finding → case/隐患, 清退), 楼宇 (profiles with the 楼宇注册率), 企业走访 (诉求 → case), 专项排查 (campaigns, their
targets, a result per target, coverage). Scoping and masking are the pages' (selectors)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from ninja import Query, Router, Schema
from pydantic import Field

from civicgrid.core.errors import PermissionDenied
from civicgrid.core.validation import Id, Text
from civicgrid.estates import metrics, selectors, services

router = Router(tags=["出租房·楼宇企业·专项排查"])


def _user(request):
    user = request.auth
    if not selectors.can_view(user):
        raise PermissionDenied("当前角色不能查看基础台账", code="forbidden")
    return user


class RentalOut(Schema):
    id: int
    address: str
    building: int
    room: str
    grid: int
    landlord: str = Field(description="房东姓名（按角色脱敏）")
    landlord_phone: str = Field(description="房东电话（脱敏）")
    tenants: int
    crowded: bool
    three_in_one: bool
    status: str
    cleared_on: date | None


def _rental(user, r) -> dict:
    return {
        "id": r.pk,
        "address": str(r),
        "building": r.building_id,
        "room": r.room,
        "grid": r.grid_id,
        "landlord": selectors.shown_name(user, r.landlord_name),
        "landlord_phone": r.landlord_phone_masked,
        "tenants": r.tenants,
        "crowded": r.crowded,
        "three_in_one": r.three_in_one,
        "status": r.status,
        "cleared_on": r.cleared_on,
    }


class RentalQuery(Schema):
    q: Text = Field("", max_length=50)
    grid: Id | None = None
    crowded: bool | None = None
    three_in_one: bool | None = None
    status: Literal["", "active", "cleared"] = ""
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=1_000_000)


@router.get("/rentals", response=list[RentalOut], summary="出租房列表")
def list_rentals(request, q: Query[RentalQuery]):
    user = _user(request)
    rows = selectors.rental_rows(
        user=user, q=q.q, grid=q.grid, crowded=q.crowded, three_in_one=q.three_in_one, status=q.status
    )
    return [_rental(user, r) for r in rows[q.offset : q.offset + q.limit]]


class RentalInspectionOut(Schema):
    id: int
    inspected_on: date
    result: str
    findings: str
    case: int | None


class RentalDetailOut(RentalOut):
    inspections: list[RentalInspectionOut]


def _inspection(i) -> dict:
    return {"id": i.pk, "inspected_on": i.inspected_on, "result": i.result, "findings": i.findings,
            "case": i.case_id}  # fmt: skip


@router.get("/rentals/{rental_id}", response=RentalDetailOut, summary="出租房（含检查记录）")
def get_rental(request, rental_id: Id):
    user = _user(request)
    r = selectors.get_rental(user=user, pk=rental_id)
    return {**_rental(user, r), "inspections": [_inspection(i) for i in selectors.inspections(rental=r)]}


class RentalIn(Schema):
    building: Id
    room: Text = Field(..., max_length=20)
    landlord_name: Text = Field("", max_length=30)
    landlord_phone: Text = Field("", max_length=20)
    landlord_person: Id | None = Field(None, description="房东为在册人员时的人员 id")
    tenants: int = Field(0, ge=0, le=500)
    crowded: bool = False
    three_in_one: bool = False
    note: Text = Field("", max_length=300)


@router.post("/rentals", response=RentalOut, summary="登记出租房")
def create_rental(request, body: RentalIn):
    user = _user(request)
    r = services.save_rental(
        actor=user,
        building_id=body.building,
        room=body.room,
        landlord_name=body.landlord_name,
        landlord_phone=body.landlord_phone,
        landlord_person_id=body.landlord_person,
        tenants=body.tenants,
        crowded=body.crowded,
        three_in_one=body.three_in_one,
        note=body.note,
    )
    return _rental(user, r)


class RentalInspectionIn(Schema):
    result: Literal["ok", "rectify", "serious"]
    findings: Text = Field("", max_length=2000)
    inspected_on: date | None = None
    to: Literal["", "case", "hazard"] = Field("", description="发现问题转：工单 case / 安全隐患 hazard")
    hazard_level: Literal["general", "serious", "major"] = "general"
    idempotency_key: Text = Field("", max_length=60)


@router.post("/rentals/{rental_id}/inspections", response=RentalInspectionOut, summary="录入出租房检查")
def inspect_rental(request, rental_id: Id, body: RentalInspectionIn):
    user = _user(request)
    r = selectors.get_rental(user=user, pk=rental_id)
    i = services.inspect_rental(
        actor=user,
        rental=r,
        result=body.result,
        findings=body.findings,
        inspected_on=body.inspected_on,
        to=body.to,
        hazard_level=body.hazard_level,
        idempotency_key=body.idempotency_key or None,
    )
    return _inspection(i)


class RentalClearIn(Schema):
    reason: Text = Field(..., max_length=200)
    cleared_on: date | None = None


@router.post("/rentals/{rental_id}/clear", response=RentalOut, summary="清退出租房")
def clear_rental(request, rental_id: Id, body: RentalClearIn):
    user = _user(request)
    r = services.clear_rental(
        actor=user, rental=selectors.get_rental(user=user, pk=rental_id), cleared_on=body.cleared_on,
        reason=body.reason,
    )  # fmt: skip
    return _rental(user, r)


class EstateBuildingOut(Schema):
    id: int
    building: int
    name: str
    grid: int
    is_key: bool
    manager: str
    manager_phone: str
    leader: str
    occupants: int
    registered_here: int
    registration_rate: float | None = Field(description="楼宇注册率 %（无入驻单位为 null）")


@router.get("/buildings", response=list[EstateBuildingOut], summary="楼宇（含楼宇注册率）")
def list_buildings(request, key_only: bool = False):
    user = _user(request)
    rows = list(selectors.building_rows(user=user, key_only=key_only)[:1000])
    reg = metrics.registration(selectors.visible_enterprises(user=user))
    empty = {"occupants": 0, "registered_here": 0, "rate": None}
    return [
        {
            "id": p.pk,
            "building": p.building_id,
            "name": p.building.name,
            "grid": p.grid_id,
            "is_key": p.is_key,
            "manager": selectors.shown_name(user, p.manager_name),
            "manager_phone": p.manager_phone_masked,
            "leader": p.leader,
            "occupants": reg.get(p.building_id, empty)["occupants"],
            "registered_here": reg.get(p.building_id, empty)["registered_here"],
            "registration_rate": reg.get(p.building_id, empty)["rate"],
        }
        for p in rows
    ]


class BuildingRegistrationOut(Schema):
    street: int
    street_name: str
    occupants: int
    registered_here: int
    rate: float | None
    formula: str


@router.get("/registration", response=list[BuildingRegistrationOut], summary="街道楼宇注册率（重点楼宇）")
def registration(request):
    user = _user(request)
    out = metrics.street_registration(selectors.visible_enterprises(user=user))
    return [
        {"street": k, "street_name": v["street"], "occupants": v["occupants"],
         "registered_here": v["registered_here"], "rate": v["rate"], "formula": metrics.REGISTRATION_RATE.formula}
        for k, v in out.items()
    ]  # fmt: skip


class EnterpriseVisitIn(Schema):
    notes: Text = Field("", max_length=5000)
    demand: Text = Field("", max_length=2000, description="企业诉求：非空即上报为工单")
    visited_on: date | None = None
    idempotency_key: Text = Field("", max_length=60)


class EnterpriseVisitOut(Schema):
    id: int
    visited_on: date
    notes: str
    demand: str
    case: int | None


@router.post(
    "/enterprises/{enterprise_id}/visits", response=EnterpriseVisitOut, summary="企业走访（诉求转工单）"
)
def visit_enterprise(request, enterprise_id: Id, body: EnterpriseVisitIn):
    user = _user(request)
    e = selectors.get_enterprise(user=user, pk=enterprise_id)
    v = services.visit_enterprise(
        actor=user, enterprise=e, notes=body.notes, demand=body.demand, visited_on=body.visited_on,
        idempotency_key=body.idempotency_key or None,
    )  # fmt: skip
    return {"id": v.pk, "visited_on": v.visited_on, "notes": v.notes, "demand": v.demand, "case": v.case_id}


class CampaignOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    starts_on: date
    ends_on: date


@router.get("/campaigns", response=list[CampaignOut], summary="专项排查列表")
def list_campaigns(request):
    user = _user(request)
    return [
        {
            "id": c.pk,
            "code": c.code,
            "name": c.name,
            "kind": c.kind,
            "starts_on": c.starts_on,
            "ends_on": c.ends_on,
        }
        for c in selectors.visible_campaigns(user=user)[:200]
    ]


class CampaignTargetOut(Schema):
    id: int
    key: str
    name: str
    grid: int
    result: str
    note: str
    case: int | None


def _target(t) -> dict:
    return {"id": t.pk, "key": t.key, "name": t.name, "grid": t.grid_id, "result": t.result, "note": t.note,
            "case": t.case_id}  # fmt: skip


class CampaignTargetQuery(Schema):
    result: Literal["", "pending", "checked", "problem", "unreachable"] = ""
    grid: Id | None = None
    limit: int = Field(100, ge=1, le=1000)
    offset: int = Field(0, ge=0, le=1_000_000)


@router.get(
    "/campaigns/{campaign_id}/targets", response=list[CampaignTargetOut], summary="排查对象（本人辖区）"
)
def list_targets(request, campaign_id: Id, q: Query[CampaignTargetQuery]):
    user = _user(request)
    c = selectors.get_campaign(user=user, pk=campaign_id)
    rows = selectors.target_rows(user=user, campaign=c, result=q.result, grid=q.grid)
    return [_target(t) for t in rows[q.offset : q.offset + q.limit]]


class CampaignCoverageOut(Schema):
    key: int | None
    label: str | None
    targets: int
    reached: int
    attempted: int
    coverage: float | None
    done: float | None


@router.get("/campaigns/{campaign_id}/coverage", response=list[CampaignCoverageOut], summary="排查覆盖率")
def coverage(request, campaign_id: Id, by: Literal["community", "grid", "worker"] = "community"):
    user = _user(request)
    c = selectors.get_campaign(user=user, pk=campaign_id)
    return metrics.coverage(selectors.visible_targets(user=user).filter(campaign=c), by=by)


class CampaignTargetResultIn(Schema):
    result: Literal["checked", "problem", "unreachable"]
    note: Text = Field("", max_length=300)
    finding: Text = Field("", max_length=2000, description="发现的问题：非空即上报为工单（仅“发现问题”）")


@router.post("/targets/{target_id}/result", response=CampaignTargetOut, summary="录入排查结果")
def record_result(request, target_id: Id, body: CampaignTargetResultIn):
    user = _user(request)
    t = selectors.get_target(user=user, pk=target_id)
    return _target(services.record_result(actor=user, target=t, result=body.result, note=body.note,
                                          finding=body.finding))  # fmt: skip
