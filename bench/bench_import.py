"""Benchmark: the 12345 import (CSV and xlsx) against a raw bulk insert of the same rows into the same database.

    .venv/bin/python bench/bench_import.py            # 1,000,000 rows per format on PostgreSQL (cg_bench_import)
    .venv/bin/python bench/bench_import.py --quick    # 20,000 rows per format (< 1 min)
    .venv/bin/python bench/bench_import.py --db sqlite --rows 200000

The database is dropped and re-created (PostgreSQL ``cg_bench_import``, or ``$CIVICGRID_BENCH_PG_DB``; or a fresh
SQLite file) and migrated.
Synthetic rows are historical (办结) 12345 工单 spread over four years, over 2,000 buildings in 40 grids, with 30
category texts (names, synonyms, a path form and a fuzzy variant), ~3 % unmatched addresses (→ placement queue).
Files are generated in a child process so the peak RSS reported is the import's own. Each format imports
distinct 工单编号, so both runs create cases. The raw baseline inserts the same rows, already parsed, with
a set-based insert (PostgreSQL COPY, SQLite executemany; batches of 1,000, one transaction each) — no file
reading, no parsing, no lookups, no timeline/ledger/link rows. ``Case.objects.bulk_create`` of up to 100,000 of the
same rows is printed for reference. The *stored-rows* baseline is a raw
set-based insert of everything the import stores per row (case, timeline entry, department link, ledger row), of
the same number of rows, run before, between and after the imports (its mean is used: on a shared machine the load
moves, and so both sides see the same load).

The last line is ``RESULT rows_per_s=N raw_ratio=R stored_ratio=S peak_rss_mb=N db=NAME`` (both formats
together): ``raw_ratio`` against the raw insert of the case rows alone, ``stored_ratio`` against the raw insert of
everything the import stores per row (the goal is ≥ 0.5).

``--profile FILE`` writes a cProfile of the import runs (``python -m pstats FILE``).
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PG_URL = "postgres://postgres@127.0.0.1:5432/" + os.environ.get("CIVICGRID_BENCH_PG_DB", "cg_bench_import")

HEADERS = ["工单编号", "来电时间", "诉求人", "联系电话", "诉求内容", "问题分类", "事发地址", "承办单位", "办理时限",
           "办结时间", "办理结果", "回访满意度"]  # fmt: skip
CATEGORY_TEXTS = ["暴露垃圾", "油烟污染", "垃圾桶满溢", "城市管理-市容环境-暴露垃圾", "乱堆杂物", "道路不洁", "非法小广告",
                  "占道经营", "垃圾站（箱）满溢", "绿地脏乱", "垃圾未分类", "非机动车乱停放", "共享单车乱象", "沿街晾挂",
                  "油烟污染问题", "积存垃圾渣土", "街头散发广告", "无照经营游商", "店外经营", "露天烧烤", "施工扰民",
                  "其他问题", "供水井盖", "污水井盖", "雨水箅子", "路灯", "行道树", "焚烧垃圾、树叶", "消防设施", "积存垃圾渣土"]  # fmt: skip
DEPARTMENTS = [("CGZD", "城管中队"), ("HBS", "环保所"), ("ZJB", "住建办"), ("SCJG", "市场监管所"), ("AJB", "安监办"),
               ("PCS", "派出所"), ("SFS", "司法所"), ("SWB", "社会事务办"), ("XFB", "信访办"), ("YJB", "应急办")]  # fmt: skip
RATINGS = ["满意", "满意", "满意", "基本满意", "不满意", "未回访"]
N_GRIDS, N_BUILDINGS = 40, 2000


def address(i: int) -> str:
    return f"幸福路{i + 1}号"


def generate(kind: str, path: Path, n: int, prefix: str, seed: int) -> None:
    rnd = random.Random(seed)
    start = datetime(2021, 1, 1, 8, 0)
    span = 4 * 365 * 24 * 3600

    def rows():
        for i in range(n):
            t = start + timedelta(seconds=rnd.randrange(span))
            closed = t + timedelta(hours=rnd.randrange(2, 240))
            addr = (
                address(rnd.randrange(N_BUILDINGS))
                if rnd.random() > 0.03
                else f"无名巷{rnd.randrange(500)}弄"
            )
            yield [
                f"{prefix}{i:09d}",
                t.strftime("%Y-%m-%d %H:%M:%S"),
                "市民" + "张王李赵刘陈"[i % 6],
                f"13{rnd.randrange(10**9):09d}",
                f"市民反映{addr}附近问题，请尽快处理（{i}）",
                CATEGORY_TEXTS[rnd.randrange(len(CATEGORY_TEXTS))],
                addr,
                DEPARTMENTS[rnd.randrange(len(DEPARTMENTS))][1],
                (t + timedelta(days=5)).strftime("%Y-%m-%d %H:%M:%S"),
                closed.strftime("%Y-%m-%d %H:%M:%S"),
                "已处理完毕，已回复市民",
                RATINGS[rnd.randrange(len(RATINGS))],
            ]

    if kind == "csv":
        with open(path, "w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(HEADERS)
            w.writerows(rows())
    else:
        import openpyxl

        wb = openpyxl.Workbook(write_only=True)
        ws = wb.create_sheet("工单")
        ws.append(HEADERS)
        for r in rows():
            ws.append(r)
        wb.save(path)


def prepare_database(db: str, data_dir: Path) -> None:
    if db == "postgres":
        import psycopg

        with psycopg.connect(PG_URL.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
            pg_db = PG_URL.rsplit("/", 1)[1]
            conn.execute(f"DROP DATABASE IF EXISTS {pg_db} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {pg_db}")
        os.environ["DATABASE_URL"] = PG_URL
    else:
        os.environ.pop("DATABASE_URL", None)
    os.environ["CIVICGRID_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "civicgrid.settings"
    os.environ.setdefault("CIVICGRID_SCHEDULER", "0")
    os.environ.setdefault("CIVICGRID_DEBUG", "0")  # as in production: no per-query log in the peak RSS
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def build_world():
    from shapely.geometry import box, mapping

    from civicgrid.accounts.models import Department, User
    from civicgrid.cases.categories import resolve_departments
    from civicgrid.places.models import Building, Community, Grid, Street

    street = Street.objects.create(name="基准街道", division_code="330106", code="330106001")
    community = Community.objects.create(street=street, code="330106001001", name="基准社区")
    grids = []
    for i in range(N_GRIDS):
        x0, y0 = 120.1 + (i % 8) * 0.005, 30.25 + (i // 8) * 0.005
        grids.append(
            Grid.objects.create(
                community=community,
                code=f"330106001001{i + 1:03d}",
                name=f"第{i + 1}网格",
                geometry=mapping(box(x0, y0, x0 + 0.005, y0 + 0.005)),
                min_lng=x0,
                min_lat=y0,
                max_lng=x0 + 0.005,
                max_lat=y0 + 0.005,
            )
        )
    Building.objects.bulk_create(
        [
            Building(
                grid=grids[i % N_GRIDS],
                name=f"{i + 1}号楼",
                address=address(i),
                lng=grids[i % N_GRIDS].min_lng + 0.001,
                lat=grids[i % N_GRIDS].min_lat + 0.001,
            )
            for i in range(N_BUILDINGS)
        ]
    )
    # the 街道's own departments and a dispatcher of that 街道: an import places addresses and finds departments
    # only in the importing account's tier (an account without one would see none and every row would fail)
    for code, name in DEPARTMENTS:
        Department.objects.get_or_create(code=code, defaults={"name": name, "street": street})
    resolve_departments()
    return User.objects.create_user(
        "bench", role="dispatcher", full_name="基准派遣员", password=None, street=street
    )


def run_import(user, path: Path, kind: str, batch: int):
    from civicgrid.intake import tasks
    from civicgrid.intake.hotline import FIELDS
    from civicgrid.intake.models import ImportJob, JobStatus

    job = ImportJob.objects.create(
        original_name=path.name,
        file_path=str(path.relative_to(Path(os.environ["CIVICGRID_DATA_DIR"]))),
        file_format=kind,
        encoding="utf-8-sig" if kind == "csv" else "",
        mapping={f.name: f.label for f in FIELDS if f.label in HEADERS},
        created_by=user,
        status=JobStatus.RUNNING,
    )
    t0 = time.perf_counter()
    job = tasks.run_job(job.pk, batch_size=batch)
    elapsed = time.perf_counter() - t0
    assert job.status in (JobStatus.DONE, JobStatus.PARTIAL), job.message
    # the generated rows are all valid: a run where rows fail measures the error path, not the import
    assert job.failed <= job.processed // 100, f"{job.failed} of {job.processed} rows failed"
    return job, elapsed


def raw_rows(user, n: int, prefix: str, seed: int):
    """The same rows as the generator makes, already parsed and resolved, as Case column dicts: with every column
    the import fills for a placed row (grid, community, 街道, 承办单位, coordinates), so that each side of a ratio
    pays the same foreign-key checks."""
    from civicgrid.accounts.models import Department
    from civicgrid.cases.models import Category
    from civicgrid.core.clock import SHANGHAI
    from civicgrid.places.models import Grid

    cat_ids = list(Category.objects.filter(level="minor").values_list("pk", flat=True)[:30])
    grid_ids = list(
        Grid.objects.values_list("pk", "community_id", "community__street_id", "min_lng", "min_lat")
    )
    dept_ids = list(Department.objects.order_by("pk").values_list("pk", flat=True))
    rnd = random.Random(seed)
    start = datetime(2021, 1, 1, 8, 0, tzinfo=SHANGHAI)
    span = 4 * 365 * 24 * 3600
    for i in range(n):
        t = start + timedelta(seconds=rnd.randrange(span))
        g, c, street, lng, lat = grid_ids[i % len(grid_ids)]
        yield {
            "number": f"{prefix}{i:013d}"[-16:],
            "title": "暴露垃圾 · 幸福路1号",
            "description": f"市民反映幸福路{i}号附近问题，请尽快处理（{i}）",
            "source": "hotline_12345",
            "source_ref": f"{prefix}{i:09d}",
            "category_id": cat_ids[i % len(cat_ids)],
            "state": "closed",
            "address": "幸福路1号",
            "grid_id": g,
            "community_id": c,
            "street_id": street,
            "department_id": dept_ids[i % len(dept_ids)],
            "lng": lng + 0.001,
            "lat": lat + 0.001,
            "reporter_name": "市民张",
            "reporter_phone": "13800138000",
            "created_by_id": user.pk,
            "rating": "satisfied",
            "handling_feedback": "已处理完毕，已回复市民",
            "due_at": t + timedelta(days=5),
            "created_at": t,
            "accepted_at": t,
            "dispatched_at": t,
            "handled_at": t + timedelta(hours=5),
            "closed_at": t + timedelta(hours=5),
            "updated_at": t,
        }


def run_raw_copy(user, n: int, batch: int) -> float:
    """Raw set-based insert (COPY / executemany) of the same rows into cases_case, one transaction per batch."""
    from django.db import transaction

    from civicgrid.cases.models import Case
    from civicgrid.intake.importing import SetBasedInserter

    inserter = SetBasedInserter(Case)
    t0 = time.perf_counter()
    buf = []
    for r in raw_rows(user, n, "RC", 7):
        buf.append(r)
        if len(buf) >= batch:
            with transaction.atomic():
                inserter.insert(buf)
            buf.clear()
    if buf:
        with transaction.atomic():
            inserter.insert(buf)
    return time.perf_counter() - t0


def run_raw_copy_stored(user, n: int, batch: int, prefix: str = "RS") -> float:
    """For reference: a raw set-based insert of everything the import stores per row — the case (all the columns
    the import fills), its timeline entry (with the job and row number in its data), its department link and the
    import ledger row (linked to a job, as the import's are) — one transaction per batch (still no file reading,
    parsing, lookups, checks, case numbering, placement tasks or audit rows)."""
    from django.db import transaction

    from civicgrid.cases.models import Case, CaseDepartment, CaseEvent
    from civicgrid.intake.importing import SetBasedInserter
    from civicgrid.intake.models import ImportedRecord, ImportJob, JobStatus

    cases = SetBasedInserter(Case)
    events = SetBasedInserter(CaseEvent, take_ids=False)
    links = SetBasedInserter(CaseDepartment, take_ids=False)
    records = SetBasedInserter(ImportedRecord, take_ids=False)
    job = ImportJob.objects.create(
        original_name=f"{prefix}.csv",
        file_path=f"imports/{prefix}.csv",
        file_format="csv",
        mapping={},
        created_by=user,
        status=JobStatus.DONE,
    )
    row_number = iter(range(2, n + 2))

    def flush(buf):
        with transaction.atomic():
            ids = cases.insert(buf)
            events.insert(
                [
                    {
                        "case_id": cid,
                        "seq": 1,
                        "move": "import",
                        "to_state": "closed",
                        "actor_id": user.pk,
                        "actor_name": "基准派遣员",
                        "actor_role": "dispatcher",
                        "at": r["created_at"],
                        "data": {
                            "job": job.pk,
                            "row": next(row_number),
                            "source_ref": r["source_ref"],
                            "closed_at": r["closed_at"],
                        },
                        "clock": {},
                    }
                    for cid, r in zip(ids, buf, strict=True)
                ]
            )
            links.insert(
                [
                    {
                        "case_id": cid,
                        "department_id": r["department_id"],
                        "first_assigned_at": r["created_at"],
                    }
                    for cid, r in zip(ids, buf, strict=True)
                ]
            )
            records.insert(
                [
                    {
                        "source": "hotline_12345",
                        "source_ref": r["source_ref"],
                        "case_id": cid,
                        "row_hash": "0" * 32,
                        "job_id": job.pk,
                        "imported_at": r["created_at"],
                    }
                    for cid, r in zip(ids, buf, strict=True)
                ]
            )

    t0 = time.perf_counter()
    buf = []
    for r in raw_rows(user, n, prefix, 11):
        buf.append(r)
        if len(buf) >= batch:
            flush(buf)
            buf = []
    if buf:
        flush(buf)
    return time.perf_counter() - t0


def run_raw_orm(user, n: int, batch: int) -> float:
    """The same rows through ``Case.objects.bulk_create`` (for reference)."""
    from civicgrid.cases.models import Case

    t0 = time.perf_counter()
    buf = []
    for r in raw_rows(user, n, "RO", 9):
        buf.append(Case(**r))
        if len(buf) >= batch:
            Case.objects.bulk_create(buf)
            buf.clear()
    if buf:
        Case.objects.bulk_create(buf)
    return time.perf_counter() - t0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    p.add_argument("--rows", type=int, default=1_000_000, help="rows per format")
    p.add_argument("--quick", action="store_true", help="20,000 rows per format")
    p.add_argument("--formats", default="csv,xlsx")
    p.add_argument("--batch", type=int, default=1000)
    p.add_argument("--profile", metavar="FILE", help="write a cProfile of the import runs to FILE")
    p.add_argument("--generate", nargs=4, metavar=("KIND", "PATH", "N", "PREFIX"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.generate:
        kind, path, n, prefix = args.generate
        generate(kind, Path(path), int(n), prefix, seed=hash(prefix) & 0xFFFF)
        return 0
    n = 20_000 if args.quick else args.rows
    formats = [f for f in args.formats.split(",") if f]
    work = Path(tempfile.mkdtemp(prefix="cg_bench_import_"))
    (work / "imports").mkdir()

    files = {}
    for kind in formats:
        path = work / "imports" / f"bench_{kind}.{kind}"
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, __file__, "--generate", kind, str(path), str(n), kind[0].upper() + "G"],
            check=True,
        )
        print(
            f"generated {n:,} rows of {kind} in {time.perf_counter() - t0:.1f}s ({path.stat().st_size / 1e6:.0f} MB)"
        )
        files[kind] = path

    prepare_database(args.db, work)
    sys.path.insert(0, str(REPO / "src"))
    user = build_world()
    from django.db import connection

    db_name = f"{connection.vendor}"
    total_rows, total_time = 0, 0.0
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
    # the stored-rows baseline is sampled before, between and after the imports (same run, same database), so a
    # load that comes and goes on a shared machine weighs on both sides alike
    stored_samples: list[float] = []

    def sample_stored() -> None:
        stored_samples.append(run_raw_copy_stored(user, n, args.batch, prefix=f"RS{len(stored_samples)}"))

    sample_stored()
    for kind, path in files.items():
        if profiler:
            profiler.enable()
        job, elapsed = run_import(user, path, kind, args.batch)
        if profiler:
            profiler.disable()
        rate = job.processed / elapsed
        print(
            f"import {kind}: {job.processed:,} rows in {elapsed:.1f}s = {rate:,.0f} rows/s "
            f"(created {job.created_count:,}, failed {job.failed:,}, placement {job.placement_count:,})"
        )
        total_rows += job.processed
        total_time += elapsed
        sample_stored()
    raw_time = run_raw_copy(user, n, args.batch)
    raw_rate = n / raw_time
    print(
        f"raw set-based insert (COPY/executemany) into cases_case: {n:,} rows in {raw_time:.1f}s = {raw_rate:,.0f} rows/s"
    )
    stored_time = sum(stored_samples) / len(stored_samples)
    stored_rate = n / stored_time
    print(
        f"raw set-based insert of all the import stores per row (case + timeline entry + department link + "
        f"import record): {n:,} rows in {stored_time:.1f}s = {stored_rate:,.0f} rows/s (mean of "
        f"{len(stored_samples)} runs: {', '.join(f'{t:.1f}s' for t in stored_samples)}); "
        f"import / that = {total_rows / total_time / stored_rate:.2f}"
    )
    orm_n = min(n, 100_000)
    orm_time = run_raw_orm(user, orm_n, args.batch)
    print(
        f"raw Case.objects.bulk_create (reference): {orm_n:,} rows in {orm_time:.1f}s = {orm_n / orm_time:,.0f} rows/s"
    )
    if profiler:
        profiler.dump_stats(args.profile)
    rate = total_rows / total_time
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"RESULT rows_per_s={rate:.0f} raw_ratio={rate / raw_rate:.2f} stored_ratio={rate / stored_rate:.2f} "
        f"peak_rss_mb={peak_mb:.0f} db={db_name}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
