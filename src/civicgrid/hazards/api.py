"""安全隐患 API (/api/v1/hazards): figures, the 四色地图 scores, inspections (list; record one with its hazards).

The hazards themselves are cases: list/detail/moves are the case API's (``GET /api/v1/cases?…``,
``POST /api/v1/cases/{id}/assign-fix`` …, generated from the procedure).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Literal

from ninja import Query, Router, Schema
from pydantic import Field

from civicgrid.accounts.roles import Capability, has_capability
from civicgrid.core import clock
from civicgrid.core.errors import PermissionDenied, ValidationFailed
from civicgrid.core.validation import Id, Text
from civicgrid.hazards import fourcolor, metrics, selectors, services
from civicgrid.hazards.models import ChecklistItem, HazardLevel

router = Router(tags=["安全隐患"])


def _user(request):
    user = request.auth
    if not has_capability(user, Capability.BUSINESS_VIEW):
        raise PermissionDenied("当前角色不能查看安全隐患", code="forbidden")
    return user


class PeriodQuery(Schema):
    start: date | None = Field(None, description="开始日期（含），默认本月 1 日")
    end: date | None = Field(None, description="结束日期（含），默认今天")


class AgeOut(Schema):
    label: str
    count: int


class FiguresOut(Schema):
    start: date
    end: date
    inspections: int = Field(description="检查家次")
    found: int = Field(description="发现隐患数（按发现日期，不含作废）")
    closed: int = Field(description="销号数（按销号日期）")
    closed_on_time: int
    found_closed: int = Field(0, description="期内发现且到期末已销号的隐患数")
    fix_rate: float | None = Field(description="整改率 % = 期内发现且到期末已销号 / 发现隐患数")
    on_time_rate: float | None = Field(description="按期整改率 % = 按期销号数 / 销号数")
    major: int = Field(description="重大隐患数")
    by_level: dict[str, int]
    open_by_age: list[AgeOut]


@router.get("/figures", response=FiguresOut, summary="安全隐患统计")
def get_figures(request, q: Query[PeriodQuery]):
    user = _user(request)
    end = q.end or clock.local_now().date()
    start = q.start or end.replace(day=1)
    if start > end or (end - start) > timedelta(days=3660):
        raise ValidationFailed("统计期不合法（开始不晚于结束，且不超过 10 年）", field="start")
    return metrics.figures(user=user, start=start, end=end).as_dict()


@router.get("/map", summary="四色地图评分")
def get_map(request) -> dict:
    return fourcolor.scores(user=_user(request))


class InspectionOut(Schema):
    id: int
    target_kind: str
    target_name: str
    inspected_at: datetime
    checklist: str | None
    hazard_count: int
    hazards: list[int] = []


def _out(i, hazards=()) -> dict:
    return {
        "id": i.pk,
        "target_kind": i.target_kind,
        "target_name": i.target_name,
        "inspected_at": i.inspected_at,
        "checklist": i.checklist.name if i.checklist_id else None,
        "hazard_count": i.hazard_count,
        "hazards": [c.pk for c in hazards],
    }


class ListQuery(Schema):
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=1_000_000)


@router.get("/inspections", response=list[InspectionOut], summary="检查记录列表")
def list_inspections(request, q: Query[ListQuery]):
    qs = selectors.visible_inspections(user=_user(request)).select_related("checklist")
    return [_out(i) for i in qs[q.offset : q.offset + q.limit]]


class ItemIn(Schema):
    item: Id = Field(description="检查项 id")
    passed: bool
    note: Text = Field("", max_length=300)
    hazard: bool = Field(False, description="不合格时是否列为隐患")
    level: Literal["general", "serious", "major"] = HazardLevel.GENERAL
    category: Id | None = None
    description: Text = Field("", max_length=2000)


class InspectionIn(Schema):
    target_kind: Literal["unit", "building", "community", "point"]
    unit: Id | None = None
    building: Id | None = None
    community: Id | None = None
    lng: float | None = Field(None, ge=-180, le=180)
    lat: float | None = Field(None, ge=-90, le=90)
    address: Text = Field("", max_length=200)
    target_name: Text = Field("", max_length=150)
    checklist: Id
    items: list[ItemIn] = Field(..., max_length=services.MAX_ITEMS)
    note: Text = Field("", max_length=2000)
    inspected_at: datetime | None = Field(None, description="检查时间（带时区；默认现在，最近 30 天内）")
    inspectors: list[Id] = Field([], max_length=20, description="同行检查人员（本人自动计入）")


@router.post("/inspections", response=InspectionOut, summary="录入一次检查（不合格项可同时登记隐患）")
def create_inspection(request, body: InspectionIn):
    user = _user(request)
    checklist = selectors.checklists().filter(pk=body.checklist).first()
    if checklist is None:
        raise ValidationFailed("检查表不存在或已停用", field="checklist")
    items = {i.pk: i for i in ChecklistItem.objects.filter(checklist=checklist)}
    cats = {c.pk: c for c in selectors.categories()}
    findings = []
    for n, it in enumerate(body.items):
        if it.item not in items:
            raise ValidationFailed(
                "检查项不属于所选检查表", field=f"items.{n}.item", code="hazard_checklist_item_unknown"
            )
        findings.append(
            services.Finding(
                passed=it.passed,
                item=items[it.item],
                note=it.note,
                hazard=it.hazard,
                level=it.level,
                category=cats.get(it.category) if it.category else None,
                description=it.description,
            )
        )
    target = services.resolve_target(
        actor=user,
        kind=body.target_kind,
        unit_id=body.unit,
        building_id=body.building,
        community_id=body.community,
        lng=body.lng,
        lat=body.lat,
        address=body.address,
        name=body.target_name,
    )
    i = services.record_inspection(
        actor=user, target=target, checklist=checklist, findings=findings, note=body.note
    )
    return _out(i, i.new_hazards)
