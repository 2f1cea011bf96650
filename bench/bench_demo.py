"""Benchmark the first run of ``civicgrid demo --no-serve`` on a fresh SQLite data directory (the part of
``make demo`` after the install): migrate, 示范街道, accounts and a year of cases (≈ 8,400, with timelines,
photos, ratings, audit rows and notifications). Target: under 60 s on a 2-core machine.

    .venv/bin/python bench/bench_demo.py            # first run, then a second run that must add nothing
    .venv/bin/python bench/bench_demo.py --quick    # the first run only

Reports wall time and the CPU time of the run (user + system; on a busy machine the wall time stretches,
the CPU time does not). The last line is ``RESULT seconds=N cpu_seconds=N cases=N …``.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 60.0


def run(data_dir: str) -> tuple[float, float, str]:
    env = {**os.environ, "CIVICGRID_DATA_DIR": data_dir, "PYTHONPATH": str(ROOT / "src")}
    env.pop("DATABASE_URL", None)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "civicgrid.cli", "demo", "--no-serve"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, out


def counts(data_dir: str) -> dict[str, int]:
    db = sqlite3.connect(Path(data_dir) / "civicgrid.sqlite3")
    try:
        return {
            t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]  # noqa: S608 - fixed table names
            for t in (
                "cases_case",
                "cases_caseevent",
                "cases_attachment",
                "cases_notification",
                "core_auditlog",
            )
        }
    finally:
        db.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="first run only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cg-bench-demo-") as data_dir:
        wall, cpu, out = run(data_dir)
        for line in out.splitlines():
            if line.startswith(("历史", "最近", "演示案件", "用时")):
                print(line)
        first = counts(data_dir)
        load = os.getloadavg()[0]
        print(f"first run: {wall:.1f} s wall, {cpu:.1f} s CPU (load average {load:.1f}); rows {first}")
        idempotent = 1
        if not args.quick:
            wall2, _, out2 = run(data_dir)
            idempotent = int(counts(data_dir) == first and "演示案件已存在" in out2)
            print(f"second run: {wall2:.1f} s, adds nothing: {bool(idempotent)}")
        cases = first["cases_case"]
        ok = int(wall < TARGET_S and idempotent == 1 and cases > 8000)
        print(
            f"RESULT seconds={wall:.1f} cpu_seconds={cpu:.1f} cases={cases} events={first['cases_caseevent']} "
            f"load={load:.1f} idempotent={idempotent} target_s={TARGET_S:.0f} ok={ok}"
        )
        if not re.search(r"演示案件 \d+ 件", out):
            return 1
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
