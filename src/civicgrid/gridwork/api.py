"""巡访打卡 API (/api/v1/gridwork): start a patrol, upload the queued track in batches, stop it, check in at a point
(a finding → a case), and read patrols, their track, the points and the monthly figures.

Every write carries the phone's own id (``client_id`` / a point's ``id``): a retried request is answered with what
the first one stored and stores nothing twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Query, Router, Schema
from pydantic import Field

from civicgrid.cases.models import Category
from civicgrid.core import clock
from civicgrid.core.errors import PermissionDenied, ValidationFailed
from civicgrid.core.validation import Id, Text
from civicgrid.gridwork import metrics, selectors, services

try:  # django-ninja >= 1.5
    from ninja import Status
except ImportError:  # pragma: no cover - older ninja takes a (status, body) tuple

    def Status(status_code, value):  # noqa: N802
        return status_code, value


router = Router(tags=["巡访打卡"])


def _user(request):
    user = request.auth
    if not selectors.may_view(user):
        raise PermissionDenied("当前角色不能查看巡访打卡", code="forbidden")
    return user


class PatrolOut(Schema):
    id: int
    client_id: str
    worker: str
    started_at: datetime
    ended_at: datetime | None
    auto_closed: bool
    duration_s: int = Field(description="巡查时长（秒）")
    tracked_s: int = Field(description="有轨迹时长（秒）")
    inside_s: int = Field(description="在格时长（秒）")
    inside_rate: float | None = Field(description="在格率 %")
    distance_m: int
    point_count: int
    check_count: int


def _patrol(p) -> dict:
    return {
        "id": p.pk,
        "client_id": p.client_id,
        "worker": p.worker.full_name or p.worker.username,
        "started_at": p.started_at,
        "ended_at": p.ended_at,
        "auto_closed": p.auto_closed,
        "duration_s": p.duration_s,
        "tracked_s": p.tracked_s,
        "inside_s": p.inside_s,
        "inside_rate": p.inside_rate,
        "distance_m": p.distance_m,
        "point_count": p.point_count,
        "check_count": p.check_count,
    }


class StartIn(Schema):
    client_id: str = Field(..., min_length=8, max_length=64, description="手机生成的巡查编号（重试时不变）")
    started_at: datetime | None = Field(None, description="开始时间（带时区；默认现在）")


@router.post("/patrols/start", response={200: PatrolOut, 201: PatrolOut}, summary="开始巡查")
def start(request, body: StartIn):
    p = services.start_patrol(actor=_user(request), client_id=body.client_id, started_at=body.started_at)
    return Status(200 if p.replayed else 201, _patrol(p))


class FixIn(Schema):
    id: str = Field(..., min_length=8, max_length=64, description="手机生成的轨迹点编号")
    t: datetime = Field(..., description="定位时间（带时区）")
    lng: float = Field(..., ge=-180, le=180)
    lat: float = Field(..., ge=-90, le=90)
    acc: float | None = Field(None, ge=0, le=100_000, description="定位精度（米）")


class PointsIn(Schema):
    points: list[FixIn] = Field(..., max_length=services.MAX_BATCH)


class PointsOut(Schema):
    accepted: int = Field(description="新存入的轨迹点")
    duplicates: int = Field(description="已存过的（重发）")
    inside: int = Field(description="新点中位于本人网格内的")
    patrol: PatrolOut


@router.post("/patrols/{patrol_id}/points", response=PointsOut, summary="批量上传轨迹点（按编号去重）")
def upload(request, patrol_id: Id, body: PointsIn):
    user = _user(request)
    patrol = selectors.own_patrol(user=user, pk=patrol_id)
    r = services.upload_points(
        actor=user,
        patrol=patrol,
        fixes=[
            services.Fix(client_id=f.id, at=f.t, lng=f.lng, lat=f.lat, accuracy=f.acc) for f in body.points
        ],
    )
    patrol.refresh_from_db()
    return {"accepted": r.accepted, "duplicates": r.duplicates, "inside": r.inside, "patrol": _patrol(patrol)}


class StopIn(Schema):
    ended_at: datetime | None = Field(None, description="结束时间（带时区；默认现在）")


@router.post("/patrols/{patrol_id}/stop", response=PatrolOut, summary="结束巡查")
def stop(request, patrol_id: Id, body: StopIn):
    user = _user(request)
    patrol = selectors.own_patrol(user=user, pk=patrol_id)
    return _patrol(services.stop_patrol(actor=user, patrol=patrol, ended_at=body.ended_at))


class GridworkListQuery(Schema):
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=1_000_000)


@router.get("/patrols", response=list[PatrolOut], summary="巡查记录")
def list_patrols(request, q: Query[GridworkListQuery]):
    qs = selectors.visible_patrols(user=_user(request)).select_related("worker")
    return [_patrol(p) for p in qs[q.offset : q.offset + q.limit]]


@router.get("/patrols/{patrol_id}/track", summary="巡查轨迹（回放）")
def track(request, patrol_id: Id) -> dict:
    patrol = selectors.get_patrol(user=_user(request), pk=patrol_id)
    return track_payload(patrol)


def track_payload(patrol) -> dict:
    points = list(patrol.points.order_by("at", "pk").values_list("at", "lng", "lat", "inside"))
    checks = list(patrol.checks.select_related("point__kind", "case").order_by("at"))
    return {
        "patrol": {
            "id": patrol.pk,
            "worker": patrol.worker.full_name or patrol.worker.username,
            "started_at": clock.to_local(patrol.started_at).isoformat(),
            "ended_at": clock.to_local(patrol.ended_at).isoformat() if patrol.ended_at else None,
            "inside_rate": patrol.inside_rate,
            "distance_m": patrol.distance_m,
        },
        "points": [
            {"t": clock.to_local(t).isoformat(), "lng": x, "lat": y, "inside": i} for t, x, y, i in points
        ],
        "checks": [
            {
                "t": clock.to_local(c.at).isoformat(),
                "point": c.point.name,
                "kind": c.point.kind.name,
                "lng": c.lng if c.lng is not None else c.point.lng,
                "lat": c.lat if c.lat is not None else c.point.lat,
                "valid": c.valid,
                "inside": c.inside,
                "score": c.score,
                "case": c.case.display_number if c.case_id else None,
            }
            for c in checks
        ],
    }


class PointOut(Schema):
    id: int
    name: str
    kind: str
    grid: str
    lng: float
    lat: float
    radius_m: int
    frequency: str


@router.get("/points", response=list[PointOut], summary="巡查点位")
def list_points(request, q: Query[GridworkListQuery]):
    qs = selectors.visible_points(user=_user(request)).filter(is_active=True).select_related("kind", "grid")
    return [
        {
            "id": p.pk,
            "name": p.name,
            "kind": p.kind.name,
            "grid": p.grid.name,
            "lng": p.lng,
            "lat": p.lat,
            "radius_m": p.radius_m,
            "frequency": p.frequency_label,
        }
        for p in qs[q.offset : q.offset + q.limit]
    ]


class CheckIn(Schema):
    client_id: str = Field(..., min_length=8, max_length=64, description="手机生成的打卡编号（重试时不变）")
    point: Id
    patrol: Id | None = None
    lng: float | None = Field(None, ge=-180, le=180)
    lat: float | None = Field(None, ge=-90, le=90)
    at: datetime | None = None
    score: int | None = Field(None, ge=0, le=100)
    findings: Text = Field("", max_length=2000)
    report: bool = Field(False, description="将发现的问题上报为工单（来源：网格员巡查）")
    category: Id | None = Field(None, description="问题分类（小类）；可由网格员立案的分类直接立案")
    report_as: Literal["case", "hazard"] = Field("case", description="上报为：工单 case / 安全隐患 hazard")


class CheckOut(Schema):
    id: int
    point: int
    at: datetime
    valid: bool = Field(description="在点位打卡半径内")
    inside: bool = Field(description="在本人网格内")
    distance_m: int | None
    score: int | None
    case: int | None
    case_number: str | None


@router.post("/checks", response={200: CheckOut, 201: CheckOut}, summary="点位打卡（发现问题可一键上报工单）")
def check(request, body: CheckIn):
    user = _user(request)
    point = selectors.get_point(user=user, pk=body.point)
    patrol = selectors.own_patrol(user=user, pk=body.patrol) if body.patrol else None
    category = None
    if body.category:
        category = Category.objects.filter(pk=body.category, level="minor", is_enabled=True).first()
        if category is None:
            raise ValidationFailed("问题分类不存在或已停用", field="category")
    c = services.check_in(
        actor=user,
        point=point,
        client_id=body.client_id,
        lng=body.lng,
        lat=body.lat,
        at=body.at,
        patrol=patrol,
        score=body.score,
        findings=body.findings,
        report=body.report,
        category=category,
        report_as=body.report_as,
    )
    out = {
        "id": c.pk,
        "point": c.point_id,
        "at": c.at,
        "valid": c.valid,
        "inside": c.inside,
        "distance_m": c.distance_m,
        "score": c.score,
        "case": c.case_id,
        "case_number": c.case.display_number if c.case_id else None,
    }
    return Status(200 if c.replayed else 201, out)


class MonthQuery(Schema):
    month: str = Field("", pattern=r"^(\d{4}-\d{2})?$", description="月份 YYYY-MM，默认本月")
    by: str = Field("worker", pattern=r"^(worker|grid|community)$", description="worker | grid | community")


def parse_month(text: str) -> metrics.Period:
    today = clock.local_now().date()
    if not text:
        return metrics.month_period(today.year, today.month)
    try:
        year, month = (int(x) for x in text.split("-"))
        period = metrics.month_period(year, month) if 2000 <= year <= 2100 and 1 <= month <= 12 else None
    except ValueError:
        period = None
    if period is None:
        raise ValidationFailed("月份不合法（YYYY-MM，且不晚于本月）", field="month")
    return period


@router.get("/figures", summary="巡查统计（按网格员 / 网格 / 社区，按月）")
def figures(request, q: Query[MonthQuery]) -> dict:
    user = _user(request)
    period = parse_month(q.month)
    rows = metrics.figures(user=user, period=period, by=q.by)
    return {
        "month": period.key,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "workdays": len(period.workdays),
        "by": q.by,
        "rows": [r.as_dict() for r in rows],
    }
