"""Every write of 巡访打卡: start / track upload / stop of a patrol, a check-in (打卡) at a 巡查点位 whose finding may
become a case (source 网格员巡查, through :func:`civicgrid.cases.services.create_case`). Keyword-only, each takes
``actor``; write and audit in one transaction.

Everything the phone sends carries an id the phone made (``client_id``): a batch or a check-in sent twice (a bad
network, a retry after a timeout) is stored once.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction

from civicgrid.cases import findings as findings_registry
from civicgrid.cases import services as case_services
from civicgrid.cases.errors import CaseErrorCode
from civicgrid.cases.models import Category, Source
from civicgrid.core import audit, clock, geoindex
from civicgrid.core.errors import NotFound, PermissionDenied, ValidationFailed
from civicgrid.gridwork import selectors
from civicgrid.gridwork.errors import GridworkErrorCode as E
from civicgrid.gridwork.models import GridworkRule, Patrol, PatrolPoint, PointCheck, TrackPoint
from civicgrid.places.models import Grid

MAX_BATCH = 500  # points in one upload
MAX_BACKDATE = timedelta(days=7)  # a phone that was offline for days still uploads its queue
MAX_AHEAD = timedelta(minutes=5)  # phone clocks run a little fast
CLIENT_ID = re.compile(r"^[A-Za-z0-9_.:-]{8,64}$")


# --- pure helpers -----------------------------------------------------------------------------------


def metres(lng1: float, lat1: float, lng2: float, lat2: float) -> float:
    """Great-circle distance in metres (haversine, R = 6 371 km)."""
    r = 6_371_000.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True)
class Summary:
    tracked_s: int
    inside_s: int
    distance_m: int
    count: int


def summarise(points: Sequence[tuple[datetime, float, float, bool]], *, max_gap_s: int) -> Summary:
    """The track's 有轨迹时长, 在格时长 and 里程 (docs/gridwork.md): for each pair of consecutive fixes p_i, p_{i+1}
    (by time) with Δt = t_{i+1} − t_i ≤ ``max_gap_s``, Δt counts as tracked time, and as time in the own grid when
    p_i lay inside it; a longer gap (the page was closed, the phone asleep) counts as neither. The distance adds
    the straight lines between consecutive fixes of the counted pairs."""
    pts = sorted(points, key=lambda p: p[0])
    tracked = inside = 0.0
    dist = 0.0
    for (t0, x0, y0, in0), (t1, x1, y1, _in1) in zip(pts, pts[1:], strict=False):
        dt = (t1 - t0).total_seconds()
        if dt <= 0 or dt > max_gap_s:
            continue
        tracked += dt
        if in0:
            inside += dt
        dist += metres(x0, y0, x1, y1)
    return Summary(round(tracked), round(inside), round(dist), len(pts))


# --- checks -------------------------------------------------------------------------------------------


def _worker(actor) -> None:
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise PermissionDenied("请先登录", code=CaseErrorCode.LOGIN_REQUIRED)
    if not selectors.may_patrol(actor):
        raise PermissionDenied("仅网格员可以巡查打卡", code=E.NOT_GRID_WORKER)


def _client_id(value, field: str = "client_id") -> str:
    value = (value or "").strip() if isinstance(value, str) else ""
    if not CLIENT_ID.match(value):
        raise ValidationFailed(
            "客户端编号须为 8–64 位字母、数字或 - _ . :", field=field, code=E.CLIENT_ID_INVALID
        )
    return value


def _when(value: datetime | None, field: str, now: datetime) -> datetime:
    if value is None:
        return now
    if value.tzinfo is None:
        raise ValidationFailed("时间须带时区", field=field, code=E.TIME_INVALID)
    if value > now + MAX_AHEAD or value < now - MAX_BACKDATE:
        raise ValidationFailed("时间须在最近 7 天内且不晚于现在", field=field, code=E.TIME_INVALID)
    return value


def _position(lng, lat, field: str) -> tuple[float, float] | None:
    if lng is None and lat is None:
        return None
    try:
        x, y = float(lng), float(lat)
    except (TypeError, ValueError):
        raise ValidationFailed("经纬度须为数字", field=field, code=E.POSITION_INVALID)
    if not (math.isfinite(x) and math.isfinite(y) and -180 <= x <= 180 and -90 <= y <= 90):
        raise ValidationFailed("经纬度超出范围", field=field, code=E.POSITION_INVALID)
    return x, y


def locate_own(worker, coords: Sequence[tuple[float, float]]) -> list[tuple[int | None, bool]]:
    """Per position: the grid the index puts it in and whether that is one of the worker's own grids (the
    STRtree index of :mod:`civicgrid.core.geoindex`, vectorised)."""
    if not coords:
        return []
    own = selectors.own_grid_ids(worker)
    ids = geoindex.locate_many([c[0] for c in coords], [c[1] for c in coords])
    return [(g, g is not None and g in own) for g in ids]


def _home(worker) -> tuple[int, Grid | None]:
    """The worker's 街道 and main grid (the first ordinary one)."""
    grid = (
        worker.grids.filter(kind="ordinary").select_related("community").order_by("code").first()
        or worker.grids.select_related("community").order_by("code").first()
    )
    street_id = worker.street_id or (grid.community.street_id if grid else None)
    if street_id is None:
        raise ValidationFailed("您的账号未分配网格或街道，无法巡查", field="grid", code=E.NO_GRID)
    return street_id, grid


# --- patrols ------------------------------------------------------------------------------------------


def _refresh(patrol: Patrol, rule: GridworkRule) -> None:
    rows = list(patrol.points.values_list("at", "lng", "lat", "inside"))
    s = summarise(rows, max_gap_s=rule.max_gap_seconds)
    patrol.tracked_s, patrol.inside_s, patrol.distance_m, patrol.point_count = (
        s.tracked_s,
        s.inside_s,
        s.distance_m,
        s.count,
    )
    end = patrol.ended_at or (max(r[0] for r in rows) if rows else patrol.started_at)
    patrol.duration_s = max(0, round((end - patrol.started_at).total_seconds()))
    patrol.check_count = patrol.checks.count()


def _close(patrol: Patrol, *, at: datetime, auto: bool, rule: GridworkRule) -> None:
    last = patrol.points.order_by("-at").values_list("at", flat=True).first()
    if auto:
        at = last or patrol.started_at
    patrol.ended_at = max(at, patrol.started_at)
    patrol.auto_closed = auto
    _refresh(patrol, rule)
    patrol.save()


def start_patrol(*, actor, client_id: str, started_at: datetime | None = None) -> Patrol:
    """开始巡查. The same ``client_id`` again returns the patrol it started (``replayed = True``). A patrol the
    worker left open (phone died, page closed) is closed first at its last fix (``auto_closed``)."""
    _worker(actor)
    client_id = _client_id(client_id)
    now = clock.now()
    when = _when(started_at, "started_at", now)
    existing = Patrol.objects.filter(worker=actor, client_id=client_id).first()
    if existing is not None:
        existing.replayed = True
        return existing
    street_id, grid = _home(actor)
    rule = GridworkRule.current()
    try:
        with transaction.atomic():
            for old in Patrol.objects.select_for_update().filter(worker=actor, ended_at__isnull=True):
                _close(old, at=when, auto=True, rule=rule)
                audit.record(actor=actor, action="gridwork.patrol.stop", obj=old, after={"auto": True})
            patrol = Patrol.objects.create(
                street_id=street_id,
                community=grid.community if grid else None,
                grid=grid,
                worker=actor,
                client_id=client_id,
                started_at=when,
                created_at=now,
            )
            audit.record(
                actor=actor, action="gridwork.patrol.start", obj=patrol, after={"client_id": client_id}
            )
    except IntegrityError:  # a concurrent retry of the same start won the insert
        patrol = Patrol.objects.get(worker=actor, client_id=client_id)
        patrol.replayed = True
        return patrol
    patrol.replayed = False
    return patrol


@dataclass
class Fix:
    client_id: str
    at: datetime
    lng: float
    lat: float
    accuracy: float | None = None


@dataclass
class UploadResult:
    accepted: int
    duplicates: int
    inside: int


def upload_points(*, actor, patrol: Patrol, fixes: Iterable[Fix]) -> UploadResult:
    """A batch of the phone's queued fixes. Fixes already stored (by ``client_id``) are skipped, so a batch sent
    twice stores each fix once; each new fix gets its grid and whether it lies in the worker's own grids. Fixes
    after the patrol's end are refused (the patrol is closed); all or nothing per batch."""
    _worker(actor)
    if patrol.worker_id != actor.pk:
        raise NotFound("巡查记录不存在", code=E.PATROL_NOT_FOUND)
    fixes = list(fixes)
    if len(fixes) > MAX_BATCH:
        raise ValidationFailed(f"一次最多上传 {MAX_BATCH} 个轨迹点", field="points", code=E.TOO_MANY)
    now = clock.now()
    seen: dict[str, Fix] = {}
    for i, f in enumerate(fixes):
        cid = _client_id(f.client_id, f"points.{i}.id")
        _when(f.at, f"points.{i}.t", now)
        _position(f.lng, f.lat, f"points.{i}.lng")
        if f.at < patrol.started_at - timedelta(minutes=1):
            raise ValidationFailed("轨迹点早于巡查开始时间", field=f"points.{i}.t", code=E.TIME_INVALID)
        if patrol.ended_at is not None and f.at > patrol.ended_at + timedelta(minutes=1):
            raise ValidationFailed(
                "巡查已结束，不能再上传轨迹点", field=f"points.{i}.t", code=E.PATROL_CLOSED
            )
        seen.setdefault(cid, f)
    with transaction.atomic():
        patrol = Patrol.objects.select_for_update().get(pk=patrol.pk)
        stored = set(
            TrackPoint.objects.filter(patrol=patrol, client_id__in=list(seen)).values_list(
                "client_id", flat=True
            )
        )
        new = [f for cid, f in seen.items() if cid not in stored]
        where = locate_own(actor, [(f.lng, f.lat) for f in new])
        TrackPoint.objects.bulk_create(
            [
                TrackPoint(
                    patrol=patrol,
                    client_id=f.client_id.strip(),
                    at=f.at,
                    lng=f.lng,
                    lat=f.lat,
                    accuracy=f.accuracy,
                    grid_id=g,
                    inside=inside,
                )
                for f, (g, inside) in zip(new, where, strict=True)
            ]
        )
        result = UploadResult(
            accepted=len(new), duplicates=len(fixes) - len(new), inside=sum(i for _, i in where)
        )
        if new:
            _refresh(patrol, GridworkRule.current())
            patrol.save()
            audit.record(
                actor=actor,
                action="gridwork.track.upload",
                obj=patrol,
                after={"accepted": result.accepted, "duplicates": result.duplicates},
            )
    return result


def stop_patrol(*, actor, patrol: Patrol, ended_at: datetime | None = None) -> Patrol:
    """结束巡查 (again: the same patrol, unchanged)."""
    _worker(actor)
    if patrol.worker_id != actor.pk:
        raise NotFound("巡查记录不存在", code=E.PATROL_NOT_FOUND)
    if patrol.ended_at is not None:
        return patrol
    when = _when(ended_at, "ended_at", clock.now())
    with transaction.atomic():
        patrol = Patrol.objects.select_for_update().get(pk=patrol.pk)
        if patrol.ended_at is not None:
            return patrol
        _close(patrol, at=when, auto=False, rule=GridworkRule.current())
        audit.record(
            actor=actor,
            action="gridwork.patrol.stop",
            obj=patrol,
            after={
                "duration_s": patrol.duration_s,
                "points": patrol.point_count,
                "inside_s": patrol.inside_s,
            },
        )
    return patrol


# --- check-ins ----------------------------------------------------------------------------------------


def check_in(
    *,
    actor,
    point: PatrolPoint,
    client_id: str,
    lng: float | None,
    lat: float | None,
    at: datetime | None = None,
    patrol: Patrol | None = None,
    score: int | None = None,
    findings: str = "",
    report: bool = False,
    category: Category | None = None,
    photos: Iterable = (),
    report_as: str = "case",
) -> PointCheck:
    """点位打卡: where the worker was (distance to the point, in the own grid or not; 有效 within the point's
    radius), a score 0–100 and findings. ``report``: the findings become a case (source 网格员巡查) — or, with
    ``report_as="hazard"``, a 安全隐患 (:mod:`civicgrid.cases.findings`) — in the same transaction: all or nothing. The same ``client_id`` again returns the first check-in (``replayed``)."""
    _worker(actor)
    client_id = _client_id(client_id)
    existing = PointCheck.objects.filter(worker=actor, client_id=client_id).first()
    if existing is not None:
        existing.replayed = True
        return existing
    if not point.is_active or not selectors.visible_points(user=actor).filter(pk=point.pk).exists():
        raise NotFound("点位不存在或不在您的网格", code=E.POINT_NOT_FOUND)
    now = clock.now()
    when = _when(at, "at", now)
    pos = _position(lng, lat, "lng")
    if score is not None and not (0 <= int(score) <= 100):
        raise ValidationFailed("评分须在 0–100 之间", field="score", code=E.SCORE_INVALID)
    findings = (findings or "").strip()
    if len(findings) > 2000:
        raise ValidationFailed("发现问题不能超过 2000 字", field="findings", code=CaseErrorCode.INVALID_INPUT)
    if report and len(findings) < 4:
        raise ValidationFailed(
            "上报工单请描述发现的问题（至少 4 个字）", field="findings", code=E.FINDINGS_REQUIRED
        )
    if report and report_as not in dict(findings_registry.choices()):
        raise ValidationFailed(
            "请选择上报为工单或安全隐患", field="report_as", code=CaseErrorCode.INVALID_INPUT
        )
    if patrol is not None and patrol.worker_id != actor.pk:
        raise NotFound("巡查记录不存在", code=E.PATROL_NOT_FOUND)
    inside, distance = False, None
    if pos is not None:
        ((_grid_id, inside),) = locate_own(actor, [pos])
        distance = round(metres(pos[0], pos[1], point.lng, point.lat))
    try:
        with transaction.atomic():
            case = None
            if report and report_as != "case":
                case = findings_registry.file_finding(
                    actor=actor,
                    target=report_as,
                    place=findings_registry.Place(
                        street_id=point.street_id,
                        grid=point.grid,
                        lng=point.lng,
                        lat=point.lat,
                        address=point.address or point.name,
                        name=f"{point.kind.name}·{point.name}",
                    ),
                    description=f"【{point.kind.name}·{point.name}】{findings}"[:5000],
                    idempotency_key=f"gridwork:{client_id}",
                    photos=photos,
                )
            elif report:
                case = case_services.create_case(
                    actor=actor,
                    source=Source.GRID_PATROL,
                    description=f"【{point.kind.name}·{point.name}】{findings}"[:5000],
                    category=category,
                    # the case is where the point is (the worker reports the point's problem)
                    lng=point.lng,
                    lat=point.lat,
                    grid=point.grid,
                    address=point.address or point.name,
                    idempotency_key=f"gridwork:{client_id}",
                    attachments=list(photos or ()),
                    auto_accept=bool(category and category.grid_worker_can_file),
                )
            check = PointCheck.objects.create(
                street_id=point.street_id,
                point=point,
                patrol=patrol,
                worker=actor,
                client_id=client_id,
                at=when,
                lng=pos[0] if pos else None,
                lat=pos[1] if pos else None,
                distance_m=distance,
                inside=inside,
                valid=distance is not None and distance <= point.radius_m,
                score=score,
                findings=findings,
                case=case,
            )
            if patrol is not None:
                Patrol.objects.filter(pk=patrol.pk).update(check_count=patrol.checks.count())
            audit.record(
                actor=actor,
                action="gridwork.point_check.create",
                obj=check,
                after={
                    "point": point.name,
                    "valid": check.valid,
                    "inside": inside,
                    "score": score,
                    "case": case.number if case is not None and case.number else (case.pk if case else None),
                },
            )
    except IntegrityError:  # a concurrent retry of the same check-in won the insert
        check = PointCheck.objects.filter(worker=actor, client_id=client_id).first()
        if check is None:
            raise
        check.replayed = True
        return check
    check.replayed = False
    return check
