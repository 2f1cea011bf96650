"""Benchmark the work report: drafting one 街道-year of the demo against rendering the same template with constant
values (the floor: docxtpl, the chart and the zip, no figures to collect).

    .venv/bin/python bench/bench_report.py            # the demo 街道's year, 5 drafts
    .venv/bin/python bench/bench_report.py --quick    # 2 drafts (< 1 min once the demo is built)

The demo (``civicgrid demo --no-serve``, SQLite) is built once into ``var/bench-report/`` and reused while its
database exists (``--fresh`` builds it again). Measured in the same run, each the median of the runs:

- ``draft_s``: :func:`civicgrid.reports.services.draft` for the demo 街道 over the year up to yesterday — the
  figures from the metrics rollup and the ledgers, the chart, docxtpl, the version row (what the page and
  ``civicgrid report draft`` do; the goal is < 5 s);
- ``const_s``: :func:`civicgrid.reports.render.render_docx` of the same template over a snapshot whose every
  value is a constant (the same placeholders, tables and chart sizes);
- ``cli_s``: one ``civicgrid report draft … --out FILE.docx`` as a user runs it (process start included).

The last line is ``RESULT draft_s=X const_s=Y ratio=R cli_s=Z figures=N``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "var" / "bench-report"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--fresh", action="store_true", help="build the demo again")
    args = ap.parse_args()
    runs = 2 if args.quick else 5

    env = {
        **os.environ,
        "CIVICGRID_DATA_DIR": str(DATA),
        "CIVICGRID_DEBUG": "0",
        "CIVICGRID_LOG_LEVEL": "WARNING",
    }
    env.pop("DATABASE_URL", None)
    if args.fresh and DATA.exists():
        shutil.rmtree(DATA)
    if not (DATA / "civicgrid.sqlite3").exists():
        DATA.mkdir(parents=True, exist_ok=True)
        print("building the demo (once) …", flush=True)
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "civicgrid.cli", "demo", "--no-serve"], env=env, check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
        print(f"demo built in {time.perf_counter() - t:.0f}s", flush=True)
    os.environ.update({k: env[k] for k in ("CIVICGRID_DATA_DIR", "CIVICGRID_DEBUG", "CIVICGRID_LOG_LEVEL")})
    os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "civicgrid.settings"
    import django

    django.setup()
    from civicgrid.accounts.models import User
    from civicgrid.core import clock
    from civicgrid.core.roles import Role
    from civicgrid.metrics import services as metric_services
    from civicgrid.places.models import Street
    from civicgrid.reports import render, services, template

    street = Street.objects.order_by("code").first()
    leader = User(username="bench", role=Role.LEADER, street=street, is_active=True)
    end = clock.local_now().date() - timedelta(days=1)
    start = end.replace(year=end.year - 1) + timedelta(days=1)
    metric_services.rebuild()  # the rollup as the running job keeps it (not part of a draft)

    draft_times, version = [], None
    for _ in range(runs):
        t = time.perf_counter()
        version = services.draft(actor=None, reader=leader, street=street, start=start, end=end)
        draft_times.append(time.perf_counter() - t)
    snapshot = version.snapshot
    const = {
        **snapshot,
        "values": {k: {**v, "value": 1, "text": "1件"} for k, v in snapshot["values"].items()},
        "tables": {
            name: [{col: ("1" if col != "received" and col != "done" else 1) for col in row} for row in rows]
            for name, rows in snapshot["tables"].items()
        },
    }
    tpl = template.build_default()
    const_times = []
    for _ in range(runs):
        t = time.perf_counter()
        render.render_docx(tpl, const, {})
        const_times.append(time.perf_counter() - t)
    out = Path(tempfile.mkdtemp(prefix="cg_bench_report_")) / "report.docx"
    t = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "civicgrid.cli", "report", "draft", "--from", start.isoformat(), "--to",
         end.isoformat(), "--street", street.code, "--out", str(out)],
        env=env, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    cli_s = time.perf_counter() - t
    shutil.rmtree(out.parent, ignore_errors=True)
    draft_s, const_s = statistics.median(draft_times), statistics.median(const_times)
    print(
        f"{street.name} {start} 至 {end}: {len(snapshot['values'])} figures, sections {snapshot['sections']}"
    )
    print(f"draft  median {draft_s:.2f}s  (runs: {', '.join(f'{x:.2f}' for x in draft_times)})")
    print(f"const  median {const_s:.2f}s  (runs: {', '.join(f'{x:.2f}' for x in const_times)})")
    print(f"cli    {cli_s:.2f}s (one process: start-up, migrations check, draft, write)")
    print(
        f"RESULT draft_s={draft_s:.2f} const_s={const_s:.2f} ratio={draft_s / const_s:.2f} cli_s={cli_s:.2f} "
        f"figures={len(snapshot['values'])}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
