"""巡访打卡 figures for one month (公式见 docs/gridwork.md), per 网格员, per 网格 and per 社区, over what the user
sees. The period is a calendar month of whole Asia/Shanghai days; in the running month it ends today.

Per 网格员 w (patrols by their 开始时间, check-ins by 打卡时间, cases by 上报时间):

- 工作日数 W: the days of the period that the work calendar (``core.workcalendar``: 节假日, 调休) marks as 工作日;
- 有效巡查: a patrol whose 巡查时长 (结束 − 开始) is at least ``GridworkRule.valid_minutes``;
- 打卡天数: working days with at least one valid patrol started that day; 打卡率 = 打卡天数 / W;
- 巡查时长 = Σ 巡查时长 of the patrols started in the period (every day, holidays included);
- 在格率 = Σ 在格时长 / Σ 有轨迹时长 (:func:`civicgrid.gridwork.services.summarise`);
- 点位覆盖率 = 达标点位 / 点位: the active points of the worker's grids; a point 达标 when its 有效打卡 (within its
  radius, by anyone) in the period reach its 应巡次数 (每日: times × W; 每周: ⌈times × 自然日数 / 7⌉; 每月: times);
- 主动上报数: standard-procedure cases of source 网格员巡查 the worker reported in the period;
- 有效上报率 = 立案数 / 主动上报数 (立案: the case has a 立案时间, whenever it came).

A 网格 / 社区 adds up the counts of the 网格员 assigned to it (打卡天数 over W × 网格员数, the times) and takes the
points and the 网格员巡查 cases located in it. A rate whose denominator is 0 is ``None`` (“—”).

考核得分 (0–100) = Σ 权重_k × 得分率_k / Σ 权重_k over the terms that have a value: 打卡率, 在格率, 点位覆盖率,
有效上报率 and 主动上报完成率 = min(1, 主动上报数 / 月目标数).
"""

from __future__ import annotations

import calendar
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Q

from civicgrid.accounts.models import User
from civicgrid.cases import procedures
from civicgrid.cases.models import Case, Source
from civicgrid.core import clock, workcalendar
from civicgrid.gridwork import selectors
from civicgrid.gridwork.models import Frequency, GridworkRule, Patrol, PatrolPoint, PointCheck


@dataclass(frozen=True)
class Period:
    year: int
    month: int
    start: date
    end: date  # inclusive; today in the running month

    @property
    def label(self) -> str:
        return f"{self.year}年{self.month}月"

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        return (
            datetime.combine(self.start, time.min, tzinfo=clock.SHANGHAI),
            datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=clock.SHANGHAI),
        )

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]

    @property
    def workdays(self) -> set[date]:
        return {d for d in self.days if workcalendar.is_workday(d)}


def month_period(year: int, month: int, *, today: date | None = None) -> Period | None:
    """The month as a period (``None`` for a month that has not begun)."""
    today = today or clock.local_now().date()
    start = date(year, month, 1)
    if start > today:
        return None
    end = min(date(year, month, calendar.monthrange(year, month)[1]), today)
    return Period(year, month, start, end)


def required_visits(point: PatrolPoint, period: Period, workdays: int) -> int:
    if point.period == Frequency.DAY:
        return point.times * workdays
    if point.period == Frequency.WEEK:
        return math.ceil(point.times * len(period.days) / 7)
    return point.times


def _rate(num: float, den: float) -> float | None:
    return round(100 * num / den, 1) if den else None


@dataclass
class Row:
    """One line of the figures: a 网格员, a 网格 or a 社区."""

    key: int
    name: str
    grid: str = ""
    community: str = ""
    workers: int = 0
    workdays: int = 0  # W × 网格员数 for an area
    attended: int = 0
    patrols: int = 0
    valid_patrols: int = 0
    duration_s: int = 0
    tracked_s: int = 0
    inside_s: int = 0
    points: int = 0
    covered: int = 0
    checks: int = 0
    reports: int = 0
    accepted: int = 0
    score: float | None = None
    parts: dict = field(default_factory=dict)

    @property
    def attendance(self) -> float | None:
        return _rate(self.attended, self.workdays)

    @property
    def inside_rate(self) -> float | None:
        return _rate(self.inside_s, self.tracked_s)

    @property
    def coverage(self) -> float | None:
        return _rate(self.covered, self.points)

    @property
    def valid_report_rate(self) -> float | None:
        return _rate(self.accepted, self.reports)

    @property
    def hours(self) -> float:
        return round(self.duration_s / 3600, 1)

    def as_dict(self) -> dict:
        return {
            "id": self.key,
            "name": self.name,
            "grid": self.grid,
            "community": self.community,
            "workers": self.workers,
            "workdays": self.workdays,
            "attended_days": self.attended,
            "attendance_rate": self.attendance,
            "patrols": self.patrols,
            "valid_patrols": self.valid_patrols,
            "hours": self.hours,
            "inside_rate": self.inside_rate,
            "points": self.points,
            "points_covered": self.covered,
            "coverage_rate": self.coverage,
            "checks": self.checks,
            "reports": self.reports,
            "accepted": self.accepted,
            "valid_report_rate": self.valid_report_rate,
            "score": self.score,
        }


def score(row: Row, rule: GridworkRule) -> tuple[float | None, dict]:
    """考核得分 and the part of each term (see the module docstring)."""
    rates = {
        "attendance": row.attendance,
        "inside": row.inside_rate,
        "coverage": row.coverage,
        "reports": min(100.0, 100 * row.reports / rule.report_target) if rule.report_target else None,
        "valid_reports": row.valid_report_rate,
    }
    weights = rule.weights
    used = {k: v for k, v in rates.items() if v is not None and weights[k]}
    total_w = sum(weights[k] for k in used)
    if not total_w:
        return None, rates
    return round(sum(weights[k] * used[k] for k in used) / total_w, 1), rates


@dataclass
class _Facts:
    """What one month's figures are computed from (all of the user's scope)."""

    period: Period
    rule: GridworkRule
    workers: list
    worker_grids: dict  # worker id → set of grid ids
    patrols: dict  # worker id → list of (date, duration, tracked, inside)
    point_rows: list  # (point id, grid id, covered, valid checks)
    reports_by_worker: dict
    reports_by_grid: dict


def _facts(*, user, period: Period) -> _Facts:
    rule = GridworkRule.current()
    lo, hi = period.bounds
    workdays = len(period.workdays)
    workers = list(
        selectors.visible_workers(user=user).order_by("username").only("pk", "username", "full_name")
    )
    wids = [w.pk for w in workers]
    worker_grids: dict[int, set[int]] = defaultdict(set)
    for uid, gid in User.grids.through.objects.filter(user_id__in=wids).values_list("user_id", "grid_id"):
        worker_grids[uid].add(gid)
    patrols: dict[int, list] = defaultdict(list)
    for uid, started, dur, tracked, inside in (
        Patrol.objects.filter(worker_id__in=wids, started_at__gte=lo, started_at__lt=hi)
        .values_list("worker_id", "started_at", "duration_s", "tracked_s", "inside_s")
        .iterator()
    ):
        patrols[uid].append((clock.to_local(started).date(), dur, tracked, inside))
    points = selectors.visible_points(user=user).filter(is_active=True)
    valid_checks = dict(
        PointCheck.objects.filter(point__in=points, valid=True, at__gte=lo, at__lt=hi)
        .values("point_id")
        .annotate(n=Count("pk"))
        .values_list("point_id", "n")
    )
    point_rows = [
        (
            p.pk,
            p.grid_id,
            valid_checks.get(p.pk, 0) >= required_visits(p, period, workdays),
            valid_checks.get(p.pk, 0),
        )
        for p in points.only("pk", "grid_id", "period", "times")
    ]
    cases = Case.objects.filter(
        source=Source.GRID_PATROL,
        procedure=procedures.DEFAULT_CODE,
        created_at__gte=lo,
        created_at__lt=hi,
    )
    reports_by_worker = {
        r["created_by_id"]: (r["n"], r["a"])
        for r in cases.filter(created_by_id__in=wids)
        .values("created_by_id")
        .annotate(n=Count("pk"), a=Count("pk", filter=Q(accepted_at__isnull=False)))
    }
    from civicgrid.places import selectors as place_selectors

    visible_grid_ids = list(place_selectors.visible_grids(user=user).values_list("pk", flat=True))
    reports_by_grid = {
        r["grid_id"]: (r["n"], r["a"])
        for r in cases.filter(grid_id__in=visible_grid_ids)
        .values("grid_id")
        .annotate(n=Count("pk"), a=Count("pk", filter=Q(accepted_at__isnull=False)))
    }
    return _Facts(
        period, rule, workers, worker_grids, patrols, point_rows, reports_by_worker, reports_by_grid
    )


def _add_patrols(row: Row, facts: _Facts, worker_ids) -> None:
    workdays = facts.period.workdays
    min_s = facts.rule.valid_minutes * 60
    for wid in worker_ids:
        days = set()
        for day, dur, tracked, inside in facts.patrols.get(wid, ()):
            row.patrols += 1
            row.duration_s += dur
            row.tracked_s += tracked
            row.inside_s += inside
            if dur >= min_s:
                row.valid_patrols += 1
                if day in workdays:
                    days.add(day)
        row.attended += len(days)
        row.workdays += len(workdays)
        row.workers += 1


def _add_points(row: Row, facts: _Facts, grid_ids: set[int]) -> None:
    for _pk, gid, covered, checks in facts.point_rows:
        if gid in grid_ids:
            row.points += 1
            row.covered += covered
            row.checks += checks


def by_worker(*, user, period: Period) -> list[Row]:
    facts = _facts(user=user, period=period)
    from civicgrid.places.models import Grid

    grids = {
        g.pk: g
        for g in Grid.objects.filter(
            pk__in={g for s in facts.worker_grids.values() for g in s}
        ).select_related("community")
    }
    children: dict[int, set[int]] = defaultdict(set)  # the 专属网格 inside a worker's grids count as theirs
    for pk, parent in Grid.objects.filter(parent_id__in=list(grids)).values_list("pk", "parent_id"):
        children[parent].add(pk)
    rows = []
    for w in facts.workers:
        own = facts.worker_grids.get(w.pk, set())
        names = sorted((grids[g] for g in own if g in grids), key=lambda g: g.code)
        row = Row(
            key=w.pk,
            name=w.full_name or w.username,
            grid="、".join(g.name for g in names if g.kind == "ordinary") or "、".join(g.name for g in names),
            community="、".join(sorted({g.community.name for g in names})),
        )
        _add_patrols(row, facts, [w.pk])
        with_children = own | {c for g in own for c in children.get(g, ())}
        _add_points(row, facts, with_children)
        row.reports, row.accepted = facts.reports_by_worker.get(w.pk, (0, 0))
        row.score, row.parts = score(row, facts.rule)
        rows.append(row)
    return rows


def by_grid(*, user, period: Period) -> list[Row]:
    facts = _facts(user=user, period=period)
    rows = []
    for g in selectors.visible_grids(user=user).select_related("community").order_by("code"):
        row = Row(key=g.pk, name=g.name, grid=g.code, community=g.community.name)
        _add_patrols(row, facts, [w.pk for w in facts.workers if g.pk in facts.worker_grids.get(w.pk, ())])
        _add_points(row, facts, {g.pk})
        row.reports, row.accepted = facts.reports_by_grid.get(g.pk, (0, 0))
        rows.append(row)
    return rows


def by_community(*, user, period: Period) -> list[Row]:
    facts = _facts(user=user, period=period)
    from civicgrid.places.models import Grid

    rows = []
    for c in selectors.visible_communities(user=user).order_by("code"):
        grid_ids = set(Grid.objects.filter(community=c).values_list("pk", flat=True))
        row = Row(key=c.pk, name=c.name, community=c.name)
        _add_patrols(
            row, facts, [w.pk for w in facts.workers if facts.worker_grids.get(w.pk, set()) & grid_ids]
        )
        _add_points(row, facts, grid_ids)
        for gid in grid_ids:
            n, a = facts.reports_by_grid.get(gid, (0, 0))
            row.reports += n
            row.accepted += a
        rows.append(row)
    return rows


def figures(*, user, period: Period, by: str = "worker") -> list[Row]:
    return {"worker": by_worker, "grid": by_grid, "community": by_community}[by](user=user, period=period)
