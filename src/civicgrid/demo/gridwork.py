"""A year of 巡访打卡 for the demo 街道: 巡查点位 in every ordinary grid (河道, 农贸市场, 背街小巷 …, each with its
required frequency) and, for every 网格员, a patrol on most working days (now and then one on a weekend or a short
one under the valid length), with a GPS track that mostly stays in the worker's own grid, and check-ins at the
grid's points; the demo's 网格员巡查 cases become the findings of a check-in on that day's patrol.

Cheap on purpose (bulk inserts, one vectorised grid lookup): each patrol's track is walked at one fix per
:data:`FIX_EVERY` seconds and summarised exactly as the phone's upload is (``services.summarise``: 有轨迹时长, 在格时长,
里程); the fixes of the last :data:`FULL_DAYS` days are stored in full for the replay, older tracks are stored
thinned to every :data:`THIN`-th fix (the summary still describes the walked track). Rows go in with the core
set-based inserter (COPY on PostgreSQL).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, time, timedelta

DAYS = 365
FIX_EVERY = 600  # seconds between two fixes of the walked track (the rule's default 轨迹断点: still counted)
FULL_DAYS = 14  # the fixes of the recent patrols are all stored
THIN = 4  # of older patrols, every 4th fix (and the last)
POINT_KINDS = [  # (type, name pattern, period, times, weight)
    ("river", "{}河道段", "week", 3, 3),
    ("market", "{}农贸市场", "week", 3, 2),
    ("alley", "{}背街小巷", "week", 2, 4),
    ("refuse", "{}垃圾房", "day", 1, 4),
    ("relic", "{}文保点", "week", 1, 1),
    ("civility", "{}创文点位", "week", 2, 3),
]
SCORES = [100, 100, 90, 90, 90, 75, 60]
FINDINGS = ["垃圾桶满溢", "绿化带内有白色垃圾", "共享单车乱停放", "墙面小广告", "占道经营", "河面有漂浮物"]


def load_gridwork(
    street,
    rng: random.Random,
    *,
    staff,
    log: Callable[[str], None] = lambda m: None,
    days: int = DAYS,
    scale: float = 1.0,
) -> dict | None:
    from django.db import transaction

    from civicgrid.cases.models import Case
    from civicgrid.core import clock, geoindex, workcalendar
    from civicgrid.core.bulk import SetBasedInserter
    from civicgrid.gridwork import defaults, services
    from civicgrid.gridwork.models import GridworkRule, Patrol, PatrolPoint, PointCheck, PointType, TrackPoint
    from civicgrid.places.models import Grid

    if Patrol.objects.filter(street=street).exists():
        log("演示巡查记录已存在，跳过。")
        return None
    defaults.ensure()
    rule = GridworkRule.current()
    types = {t.code: t for t in PointType.objects.all()}
    grids = list(
        Grid.objects.filter(community__street=street, kind="ordinary", is_active=True)
        .select_related("community")
        .order_by("code")
    )
    grids = [g for g in grids if staff.workers.get(g.pk)]
    grids = grids[: max(1, round(len(grids) * min(1.0, scale)))]  # a smaller demo: fewer grids
    if not grids:
        return None
    children: dict[int, set[int]] = {}
    for pk, parent in Grid.objects.filter(parent__in=grids).values_list("pk", "parent_id"):
        children.setdefault(parent, set()).add(pk)
    log("正在生成一年的巡查轨迹与点位打卡……")

    def spot(g, margin: float = 0.2) -> tuple[float, float]:
        return (
            g.min_lng + (g.max_lng - g.min_lng) * rng.uniform(margin, 1 - margin),
            g.min_lat + (g.max_lat - g.min_lat) * rng.uniform(margin, 1 - margin),
        )

    # --- the points: 1–3 per grid, placed where the grid index finds that grid ---------------------------
    planned = []
    for g in grids:
        for kind, pattern, period, times, _w in rng.sample(POINT_KINDS, rng.choice([1, 2, 2, 3])):
            planned.append((g, kind, pattern, period, times, [spot(g, 0.25) for _ in range(4)]))
    flat = [c for *_rest, cands in planned for c in cands]
    located = geoindex.locate_many([c[0] for c in flat], [c[1] for c in flat])
    points, i = [], 0
    for g, kind, pattern, period, times, cands in planned:
        own = {g.pk} | children.get(g.pk, set())
        ok = [c for c, gid in zip(cands, located[i : i + len(cands)], strict=True) if gid in own]
        i += len(cands)
        if not ok:
            continue
        lng, lat = ok[0]
        name = pattern.format(g.name.removesuffix("网格"))
        points.append(
            PatrolPoint(
                street=street,
                grid=g,
                kind=types[kind],
                name=name,
                address=f"{g.community.name}{name}",
                lng=round(lng, 6),
                lat=round(lat, 6),
                period=period,
                times=times,
                radius_m=150,
            )
        )
    PatrolPoint.objects.bulk_create(points)
    points_by_grid: dict[int, list] = {}
    for p in PatrolPoint.objects.filter(street=street):
        points_by_grid.setdefault(p.grid_id, []).append(p)

    # --- the patrols: walked tracks, one vectorised lookup for every fix -------------------------------
    now = clock.now()
    today = clock.to_local(now).date()
    tz = clock.SHANGHAI
    beats: dict[int, list] = {}  # worker id → their grids (a 网格员 may hold several)
    for g in grids:
        beats.setdefault(staff.workers[g.pk].pk, []).append(g)
    people = {staff.workers[g.pk].pk: staff.workers[g.pk] for g in grids}
    own_of = {
        uid: {g.pk for g in gs} | {c for g in gs for c in children.get(g.pk, set())}
        for uid, gs in beats.items()
    }
    attendance = {uid: rng.uniform(0.82, 0.98) for uid in beats}
    walks = []  # (grid, worker, start, [(t, lng, lat)])
    for back in range(days, 0, -1):
        day = today - timedelta(days=back)
        workday = workcalendar.is_workday(day)
        for uid, gs in beats.items():
            if rng.random() > (attendance[uid] if workday else 0.05):
                continue
            g = rng.choice(gs)
            h = rng.choice([8.6, 9.0, 9.5, 14.0, 14.5]) + rng.uniform(0, 0.5)
            start = datetime.combine(day, time(int(h), int((h % 1) * 60)), tzinfo=tz)
            minutes = rng.uniform(12, 28) if rng.random() < 0.07 else rng.uniform(45, 150)
            n = max(2, int(minutes * 60 // FIX_EVERY) + 1)
            stray = rng.random() < 0.25  # now and then the walk leaves the grid for a while
            pos = spot(g)
            fixes = []
            for k in range(n):
                if stray and n // 2 <= k < n // 2 + max(1, n // 5):
                    pos = (g.max_lng + (g.max_lng - g.min_lng) * 0.15, pos[1])
                else:
                    step = spot(g, 0.05)
                    pos = (pos[0] * 0.6 + step[0] * 0.4, pos[1] * 0.6 + step[1] * 0.4)
                fixes.append((start + timedelta(seconds=k * FIX_EVERY), round(pos[0], 6), round(pos[1], 6)))
            walks.append((g, people[uid], start, fixes))
    all_fixes = [f for *_rest, fixes in walks for f in fixes]
    where = geoindex.locate_many([f[1] for f in all_fixes], [f[2] for f in all_fixes])

    # --- check-ins at the grid's points during the patrol; the day's 网格员巡查 cases as their findings ------
    cases: dict[tuple[int, object], list] = {}
    for pk, uid, created, desc in Case.objects.filter(
        street=street, source="grid_patrol", procedure="standard"
    ).values_list("pk", "created_by_id", "created_at", "description"):
        cases.setdefault((uid, clock.to_local(created).date()), []).append((pk, desc))

    patrols, tracks, checks, j = [], [], [], 0
    recent = now - timedelta(days=FULL_DAYS)
    for n, (g, worker, start, fixes) in enumerate(walks):
        own = own_of[worker.pk]
        gids = where[j : j + len(fixes)]
        j += len(fixes)
        rows = [(t, x, y, gid in own) for (t, x, y), gid in zip(fixes, gids, strict=True)]
        s = services.summarise(rows, max_gap_s=rule.max_gap_seconds)
        end = fixes[-1][0]
        duration = int((end - start).total_seconds())
        keep = range(len(rows)) if start >= recent else sorted({*range(0, len(rows), THIN), len(rows) - 1})
        tracks.append([(k, rows[k], gids[k]) for k in keep])
        day_cases = cases.pop((worker.pk, start.date()), [])
        made = 0
        for pt in (pt for gid in own for pt in points_by_grid.get(gid, ())):
            chance = 0.97 if pt.period == "day" else min(0.95, pt.times / 5 * 1.3)
            if rng.random() > chance:
                continue
            near = rng.random() < 0.93
            dx = rng.uniform(-0.0006, 0.0006) if near else rng.uniform(0.003, 0.005)
            lng, lat = round(pt.lng + dx, 6), round(pt.lat + rng.uniform(-0.0004, 0.0004), 6)
            case = day_cases.pop() if day_cases else None
            findings = (case[1][:300] if case else "") or (
                rng.choice(FINDINGS) if rng.random() < 0.05 else ""
            )
            distance = round(services.metres(lng, lat, pt.lng, pt.lat))
            checks.append(
                {
                    "street_id": street.pk,
                    "point_id": pt.pk,
                    "patrol_id": n,  # the patrol's position for now; its id once inserted
                    "worker_id": worker.pk,
                    "client_id": f"demo-check-{n}-{pt.pk}",
                    "at": start + timedelta(seconds=rng.uniform(0.1, 0.9) * max(60, duration)),
                    "lng": lng,
                    "lat": lat,
                    "distance_m": distance,
                    "valid": distance <= pt.radius_m,
                    "score": rng.choice(SCORES) if not findings else rng.choice([60, 75]),
                    "findings": findings,
                    "case_id": case[0] if case else None,
                    "_own": own,
                }
            )
            made += 1
        patrols.append(
            {
                "street_id": street.pk,
                "community_id": g.community_id,
                "grid_id": g.pk,
                "worker_id": worker.pk,
                "client_id": f"demo-{worker.pk}-{start:%Y%m%d%H%M}",
                "started_at": start,
                "ended_at": end,
                "auto_closed": False,
                "duration_s": duration,
                "tracked_s": s.tracked_s,
                "inside_s": s.inside_s,
                "distance_m": s.distance_m,
                "point_count": s.count,
                "check_count": made,
                "created_at": start,
            }
        )
    located = geoindex.locate_many([c["lng"] for c in checks], [c["lat"] for c in checks])
    for c, gid in zip(checks, located, strict=True):
        c["inside"] = gid is not None and gid in c.pop("_own")

    # --- one set-based insert per table (COPY on PostgreSQL) -------------------------------------------------
    with transaction.atomic():
        ids = SetBasedInserter(Patrol).insert(patrols)
        points_rows = [
            {
                "patrol_id": ids[n],
                "client_id": f"d{ids[n]}-{k}",
                "at": t,
                "lng": x,
                "lat": y,
                "accuracy": None,
                "grid_id": gid,
                "inside": inside,
            }
            for n, track in enumerate(tracks)
            for k, (t, x, y, inside), gid in track
        ]
        SetBasedInserter(TrackPoint, take_ids=False).insert(points_rows)
        for c in checks:
            c["patrol_id"] = ids[c["patrol_id"]]
            c["client_id"] = f"demo-check-{c['patrol_id']}-{c['point_id']}"
        SetBasedInserter(PointCheck, take_ids=False).insert(checks)
    counts = {
        "points": len(points),
        "patrols": len(patrols),
        "track_points": len(points_rows),
        "checks": len(checks),
        "reports": sum(1 for c in checks if c["case_id"]),
    }
    log(
        f"巡查点位 {counts['points']} 个，巡查 {counts['patrols']} 次（轨迹点 {counts['track_points']} 个），"
        f"点位打卡 {counts['checks']} 次，其中上报工单 {counts['reports']} 件。"
    )
    return counts
