"""Benchmark one audit write in-process: ``audit.record`` in its own ``transaction.atomic()`` (as a service does).

    .venv/bin/python bench/bench_audit.py                 # SQLite (temporary data dir), 3,000 writes
    .venv/bin/python bench/bench_audit.py --quick         #   500 writes
    .venv/bin/python bench/bench_audit.py --pg            # PostgreSQL database cg_bench_audit (dropped/created)

Two figures: ``alone_us`` = one transaction holding just the audit write (commit included), ``in_tx_us`` = the
audit write's share of a bigger transaction (100 writes per commit). The last line is
``RESULT alone_us=N alone_cpu_us=N in_tx_us=N db=NAME`` (``alone_cpu_us``: CPU time of this process per write,
less sensitive to a busy machine than wall time).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PG = "postgres://postgres@127.0.0.1:5432"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--pg", action="store_true")
    parser.add_argument("--db-name", default="cg_bench_audit")
    args = parser.parse_args()
    n = 500 if args.quick else 3000

    os.environ.setdefault("CIVICGRID_DATA_DIR", tempfile.mkdtemp(prefix="cg_bench_audit_"))
    os.environ["CIVICGRID_DEBUG"] = "0"
    os.environ["DJANGO_SETTINGS_MODULE"] = "civicgrid.settings"
    if args.pg:
        for sql in (f"DROP DATABASE IF EXISTS {args.db_name}", f"CREATE DATABASE {args.db_name}"):
            subprocess.run(["psql", PG + "/postgres", "-qc", sql], check=True, capture_output=True)
        os.environ["DATABASE_URL"] = f"{PG}/{args.db_name}"
    else:
        os.environ.pop("DATABASE_URL", None)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from civicgrid.core import audit

    call_command("migrate", verbosity=0)

    def one(i: int) -> None:
        audit.record(
            actor=None,
            action="bench.case.create",
            object_type="cases.case",
            object_id=i,
            object_repr=f"GD2026{i:08d}",
            after={
                "state": "reported",
                "description": "井盖松动，有安全隐患" * 3,
                "lng": 120.1234,
                "lat": 30.25,
            },
        )

    for i in range(50):  # warm up
        with transaction.atomic():
            one(i)
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(n):
        with transaction.atomic():
            one(i)
    alone = (time.perf_counter() - t0) / n * 1e6
    alone_cpu = (time.process_time() - c0) / n * 1e6
    t0 = time.perf_counter()
    for start in range(0, n, 100):
        with transaction.atomic():
            for i in range(start, start + 100):
                one(i)
    in_tx = (time.perf_counter() - t0) / n * 1e6
    vendor = connection.vendor
    connection.close()
    if args.pg:
        subprocess.run(
            ["psql", PG + "/postgres", "-qc", f"DROP DATABASE IF EXISTS {args.db_name}"], check=False
        )
    print(
        f"{n} audit writes on {vendor}: {alone:.0f} µs each in its own transaction, {in_tx:.0f} µs inside one"
    )
    print(f"RESULT alone_us={alone:.0f} alone_cpu_us={alone_cpu:.0f} in_tx_us={in_tx:.0f} db={vendor}")


if __name__ == "__main__":
    sys.exit(main())
