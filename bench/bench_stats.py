"""Benchmark the case figures: the daily rollup against a direct count over the cases (the same counters).

    .venv/bin/python bench/bench_stats.py             # SQLite (temporary data dir), 200,000 cases over a year
    .venv/bin/python bench/bench_stats.py --quick     #  20,000 cases
    .venv/bin/python bench/bench_stats.py --pg        # PostgreSQL database cg_metrics (dropped/created)

The cases are 12345 工单 imported closed (the set-based import), spread over 2026 in 4 communities × 2 grids,
4 departments, the enabled categories, 3 sources, with ratings. Measured in the same run:

- ``rebuild_s``: ``civicgrid stats rebuild`` over all of them;
- ``rollup_ms`` / ``direct_ms``: the median of 5 runs of one year's counters grouped by 社区 from the rollup
  (what ``/api/v1/stats/`` reads) and counted directly over ``cases_case`` (:mod:`civicgrid.metrics.direct`,
  the baseline); ``speedup`` = direct / rollup;
- ``refresh_ms``: one incremental round after 1,000 more cases arrive (what the periodic job does each minute).

The last line is ``RESULT cases=N rollup_ms=X direct_ms=Y speedup=R rebuild_s=S refresh_ms=Z rows=N db=NAME``.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PG = "postgres://postgres@127.0.0.1:5432"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--pg", action="store_true")
    parser.add_argument("--db-name", default="cg_metrics")
    parser.add_argument("--cases", type=int, default=None)
    args = parser.parse_args()
    n = args.cases or (20_000 if args.quick else 200_000)

    os.environ["CIVICGRID_DATA_DIR"] = tempfile.mkdtemp(prefix="cg_bench_stats_")
    os.environ["CIVICGRID_DEBUG"] = "0"
    os.environ["DJANGO_SETTINGS_MODULE"] = "civicgrid.settings"
    if args.pg:
        for sql in (f"DROP DATABASE IF EXISTS {args.db_name}", f"CREATE DATABASE {args.db_name}"):
            subprocess.run(["psql", PG + "/postgres", "-qc", sql], check=True, capture_output=True)
        os.environ["DATABASE_URL"] = f"{PG}/{args.db_name}"
    else:
        os.environ.pop("DATABASE_URL", None)
    sys.path.insert(0, str(REPO / "src"))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)

    from civicgrid.accounts.models import Department
    from civicgrid.cases import services as case_services
    from civicgrid.cases.models import Case, Category
    from civicgrid.core import clock
    from civicgrid.metrics import direct, selectors, services
    from civicgrid.metrics.models import DailyRollup
    from civicgrid.places.models import Community, Grid, Street

    rnd = random.Random(13)
    street = Street.objects.create(name="压测街道", division_code="330106", code="330106001")
    grids = []
    for c in range(4):
        community = Community.objects.create(
            street=street, code=f"330106001{c + 1:03d}", name=f"压测{c + 1}社区"
        )
        for g in range(2):
            lng, lat = 120.1 + 0.01 * (2 * c + g), 30.2
            grids.append(
                Grid.objects.create(
                    community=community,
                    code=f"330106001{c + 1:03d}{g + 1:03d}",
                    name=f"压测网格{c + 1}-{g + 1}",
                    geometry={
                        "type": "Polygon",
                        "coordinates": [
                            [[lng, lat], [lng + 0.01, lat], [lng + 0.01, lat + 0.01], [lng, lat]]
                        ],
                    },
                    min_lng=lng,
                    min_lat=lat,
                    max_lng=lng + 0.01,
                    max_lat=lat + 0.01,
                )
            )
    depts = [Department.objects.create(code=f"D{i}", name=f"压测部门{i}", street=street) for i in range(4)]
    categories = list(
        Category.objects.filter(level="minor", is_enabled=True).values_list("pk", flat=True)[:40]
    )
    start = clock.aware(datetime(2026, 1, 1, 0, 0))

    def rows(count: int, offset: int):
        out = []
        for i in range(count):
            at = start + timedelta(seconds=rnd.randrange(364 * 86400))
            grid = rnd.choice(grids)
            out.append(
                case_services.HistoricalCase(
                    source_ref=f"B{offset + i:08d}",
                    description="小区门口垃圾堆放无人清理",
                    category_id=rnd.choice(categories),
                    created_at=at,
                    closed_at=at + timedelta(hours=rnd.randint(1, 200)),
                    due_at=at + timedelta(hours=72),
                    grid_id=grid.pk,
                    department_id=rnd.choice(depts).pk,
                    rating=rnd.choice(["", "satisfied", "satisfied", "basic", "dissatisfied"]),
                )
            )
        return out

    def load(count: int, offset: int) -> None:
        batch = rows(count, offset)
        for i in range(0, count, 2000):
            case_services.import_closed_case_ids(
                actor=None,
                rows=batch[i : i + 2000],
                source=rnd.choice(["hotline_12345", "resident"]),
                batch_note="bench",
            )

    t0 = time.perf_counter()
    load(n, 0)
    print(f"loaded {Case.objects.count():,} cases in {time.perf_counter() - t0:.1f} s")
    # steady state: these were written an hour ago (outside the job's look-back window)
    Case.objects.update(updated_at=clock.now() - timedelta(hours=1))

    t0 = time.perf_counter()
    out = services.rebuild()
    rebuild_s = time.perf_counter() - t0
    print(f"rebuild: {out['cases']:,} cases → {out['rollup_rows']:,} rollup rows in {rebuild_s:.1f} s")

    year = (date(2026, 1, 1), date(2026, 12, 31))

    cpu: dict[str, float] = {}

    def timed(fn, name: str = "") -> tuple[float, object]:
        runs, cpus, result = [], [], None
        for _ in range(5):
            t, c = time.perf_counter(), time.process_time()
            result = fn()
            runs.append((time.perf_counter() - t) * 1000)
            cpus.append((time.process_time() - c) * 1000)
        cpu[name] = statistics.median(cpus)
        return statistics.median(runs), result

    rollup_ms, got = timed(
        lambda: selectors.rollup_counters(user=None, start=year[0], end=year[1], by="community"), "rollup"
    )
    direct_ms, want = timed(lambda: direct.counters(Case.objects.all(), *year, by="community_id"), "direct")
    assert got == want, "the rollup and the direct count disagree"
    stats_ms, _ = timed(lambda: selectors.stats(user=None, start=year[0], end=year[1], by="community"))
    print(
        f"one year by 社区: rollup {rollup_ms:.1f} ms (CPU {cpu['rollup']:.1f}), direct {direct_ms:.1f} ms "
        f"(CPU {cpu['direct']:.1f}); whole stats JSON {stats_ms:.1f} ms"
    )

    load(1000, n)
    t0 = time.perf_counter()
    services.refresh()
    refresh_ms = (time.perf_counter() - t0) * 1000
    print(f"incremental round after 1,000 new cases: {refresh_ms:.0f} ms")
    speedup = direct_ms / rollup_ms
    print(
        f"RESULT cases={n} rollup_ms={rollup_ms:.1f} direct_ms={direct_ms:.1f} speedup={speedup:.1f} "
        f"rebuild_s={rebuild_s:.1f} refresh_ms={refresh_ms:.0f} rows={DailyRollup.objects.count()} db={connection.vendor}"
    )


if __name__ == "__main__":
    main()
