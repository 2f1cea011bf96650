"""Benchmark: the case Excel export (the safe writer) — what a background export job spends per row.

    .venv/bin/python bench/bench_export.py            # 8,000 cases (the size testers reported: 9 s in the request)
    .venv/bin/python bench/bench_export.py --quick    # 2,000 cases (< 30 s)

A fresh SQLite database in a temporary directory is migrated; cases are created set-based through the case
engine's historical import (each with an address, reporter and a description, one in ten starting with ``=``
so the writer's formula guard is exercised), then ``civicgrid.cases.exports.write_cases`` writes them for a
dispatcher — the work the background job does — three times; the best time is reported.
The last line is ``RESULT rows=N seconds=S rows_per_s=N``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rows", type=int, default=None)
    args = parser.parse_args()
    n = args.rows or (2000 if args.quick else 8000)

    tmp = Path(tempfile.mkdtemp(prefix="cg_bench_export_"))
    os.environ["CIVICGRID_DATA_DIR"] = str(tmp)
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.settings")
    sys.path.insert(0, str(REPO / "src"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from civicgrid.accounts.models import Department, User
    from civicgrid.cases import exports, selectors
    from civicgrid.cases import services as case_services
    from civicgrid.cases.models import Case, Category
    from civicgrid.core import clock
    from civicgrid.places.models import Street

    street = Street.objects.create(name="压测街道", division_code="330106", code="330106001")
    dept = Department.objects.create(code="CGZD", name="城管中队", street=street)
    user = User.objects.create(
        username="bench_dispatcher", role="dispatcher", full_name="压测受理员", street=street
    )
    category = Category.objects.filter(level="minor", is_enabled=True).first()
    start = clock.aware(datetime(2026, 1, 5, 9, 0))
    rows = []
    for i in range(n):
        at = start + timedelta(minutes=7 * i)
        text = f'=HYPERLINK("x") 第{i}号' if i % 10 == 0 else f"小区门口垃圾堆放无人清理，第{i}次反映"
        rows.append(
            case_services.HistoricalCase(
                source_ref=f"B{i:07d}",
                description=text,
                category_id=category.pk,
                created_at=at,
                closed_at=at + timedelta(hours=20),
                address=f"示范路{i % 300}号",
                department_id=dept.pk,
                reporter_name="张先生",
                reporter_phone="13800138000",
            )
        )
    for i in range(0, n, 1000):
        case_services.import_closed_case_ids(
            actor=None, rows=rows[i : i + 1000], source="hotline_12345", batch_note="bench"
        )
    assert Case.objects.count() == n

    best = None
    for _ in range(3):
        qs = selectors.filter_cases(user=user)
        t0 = time.perf_counter()
        written = exports.write_cases(tmp / "out.xlsx", qs, user=user)
        elapsed = time.perf_counter() - t0
        assert written == n
        best = elapsed if best is None else min(best, elapsed)
    print(
        f"export of {n:,} cases: {best:.2f} s ({n / best:,.0f} rows/s), file {(tmp / 'out.xlsx').stat().st_size:,} bytes"
    )
    print(f"RESULT rows={n} seconds={best:.2f} rows_per_s={n / best:.0f}")


if __name__ == "__main__":
    main()
