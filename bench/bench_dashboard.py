"""Benchmark the dashboard's data endpoints at city scale (issue 13): a Beijing year of cases on PostgreSQL.

    .venv/bin/python bench/bench_dashboard.py            # 20,000,000 cases (≈ 1 h the first time: 15 min data, 34 min rollup; 28 GB)
    .venv/bin/python bench/bench_dashboard.py --quick    #  1,000,000 cases
    .venv/bin/python bench/bench_dashboard.py --generate-only   # fill the data cache and stop
    .venv/bin/python bench/bench_dashboard.py --drop     # drop the cached databases (cg_dashbench_*) and stop

Data (bench/dashgen.py): 16 区 / 343 街道 / ~6,700 社区 / ~30,000 网格 / ~8,600 处置部门, the seeded categories,
7 sources, 3 procedures, a seasonal daily volume over the 365 days up to "today" (2026-11-26), the states and
times of real closed loops and one 签收 event per signed case: per million cases numpy computes the columns,
a binary COPY fills a staging table and one INSERT … SELECT writes ``cases_case`` and ``cases_caseevent``
(secondary indexes and FK triggers off during the load, rebuilt after; 20 M cases ≈ 15 minutes).

**Cache**: generating is the slow part, so the database is kept between runs as
``cg_dashbench_<size>_<schema hash>`` (the hash of the cases/places/accounts migrations: a schema change makes a
new one); a run that finds it complete says "reusing cached database". The metrics rollup is then rebuilt
with ``civicgrid.metrics.services.rebuild`` (set-based on PostgreSQL; its equality with the per-case path is
tested in tests/metrics/test_rebuild_sql.py) — also cached, keyed by the metrics code, unless ``--rebuild``.

Measured in the same run, through ``civicgrid serve`` (gunicorn, 1 worker, 1 thread) with API tokens:

- the endpoints of the dashboards: ``/api/v1/stats/`` for one big 街道 (its 街道 account) for 本月 and 今年以来
  with ``by`` = none|community|department|source|category, its 30-day daily trend (``by=day``), the 区 view
  (the 区 account, ``by=street``) and the whole city (系统管理员, ``by=street``, 343 街道); each request
  ``--runs`` times (after one warm-up), p50/p95 per endpoint;
- the naive baseline: the same counters (current period, 环比, 同比 and the groups) by GROUP BY over
  ``cases_case`` (+ the first 签收 event), SQL only (no HTTP, no JSON), median of 3 (``--quick``: one run); checked equal to the
  rollup's figures (except 响应 (responded), whose 工作时 limit the SQL approximates by natural hours);
- the RSS of the gunicorn worker after the run (max over samples).

``p95_ms`` is the worst endpoint's p95; ``speedup`` is Σ naive medians / Σ endpoint medians (the per-endpoint
minimum is printed too). Last line: ``RESULT p95_ms=N speedup=R cases=N rss_mb=N``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "src"))

from opslib import PG, Client, free_port, percentile  # noqa: E402

TODAY = date(2026, 11, 26)
SCHEMA_APPS = ("cases", "places", "accounts")
METRICS_FILES = ("services.py", "models.py", "sqlrollup.py")


def _hash(paths) -> str:
    h = hashlib.sha1()
    for p in sorted(paths):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:8]


def schema_key() -> str:
    return _hash(
        p for app in SCHEMA_APPS for p in (REPO / "src/civicgrid" / app / "migrations").glob("0*.py")
    )


def metrics_key() -> str:
    base = REPO / "src/civicgrid/metrics"
    return _hash(
        [*(base / f for f in METRICS_FILES if (base / f).exists()), *(base / "migrations").glob("0*.py")]
    )


def admin_sql(*stmts):
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        out = []
        for s in stmts:
            cur = conn.execute(s)
            out.append(cur.fetchall() if s.lstrip().upper().startswith("SELECT") else None)
        return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--cases", type=int, default=None)
    parser.add_argument("--runs", type=int, default=None)
    parser.add_argument("--generate-only", action="store_true")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the rollup even when cached")
    parser.add_argument("--drop", action="store_true", help="drop every cg_dashbench_* database and stop")
    parser.add_argument("--drop-after", action="store_true", help="drop this run's database at the end")
    args = parser.parse_args()
    if args.drop:
        names = [
            r[0] for r in admin_sql("SELECT datname FROM pg_database WHERE datname LIKE 'cg_dashbench_%'")[0]
        ]
        for name in names:
            admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            print("dropped", name)
        return
    n = args.cases or (1_000_000 if args.quick else 20_000_000)
    runs = args.runs or (12 if args.quick else 20)
    started = time.perf_counter()
    db = f"cg_dashbench_{n // 1000}k_{schema_key()}"
    exists = admin_sql(f"SELECT 1 FROM pg_database WHERE datname = '{db}'")[0]
    if not exists:
        admin_sql(f'CREATE DATABASE "{db}"')

    import tempfile

    os.environ.update(
        DATABASE_URL=f"{PG}/{db}",
        CIVICGRID_DATA_DIR=tempfile.mkdtemp(prefix="cg_dashbench_"),
        CIVICGRID_DEBUG="0",
        CIVICGRID_SCHEDULER="0",
        CIVICGRID_LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="civicgrid.settings",
    )
    os.environ.pop("CIVICGRID_TESTING", None)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    with connection.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS bench_meta (key text PRIMARY KEY, value text NOT NULL)")
        cur.execute("SELECT key, value FROM bench_meta")
        meta = dict(cur.fetchall())
    if meta.get("generated") == "1":
        print(f"reusing cached database {db} ({n:,} cases generated earlier; key = size + schema hash)")
    else:
        if exists:  # an interrupted generation: start over
            admin_sql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)', f'CREATE DATABASE "{db}"')
            connection.close()
            call_command("migrate", verbosity=0)
            with connection.cursor() as cur:
                cur.execute("CREATE TABLE bench_meta (key text PRIMARY KEY, value text NOT NULL)")
        load(db, n)
    if args.generate_only:
        print(f"generated in {time.perf_counter() - started:.0f} s")
        return
    measure(db, n, runs, args, started)


def load(db: str, n: int) -> None:
    import dashgen
    import psycopg

    disk = os.statvfs("/")
    print(
        f"generating {n:,} cases into {db} (disk free {disk.f_bavail * disk.f_frsize / 1e9:.0f} GB) …",
        flush=True,
    )
    t0 = time.perf_counter()
    with psycopg.connect(f"{PG}/{db}") as conn:
        tables = ("cases_case", "cases_caseevent")
        idx = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes i WHERE tablename = ANY(%s) AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
            (list(tables),),
        ).fetchall()
        for name, _ in idx:
            conn.execute(f'DROP INDEX "{name}"')
        for t in tables:
            conn.execute(f"ALTER TABLE {t} DISABLE TRIGGER ALL")
        conn.commit()
        out = dashgen.generate(conn, n, TODAY, log=lambda m: print(m, flush=True))
        print(f"copied in {time.perf_counter() - t0:.0f} s; rebuilding {len(idx)} indexes …", flush=True)
        for t in tables:
            conn.execute(f"ALTER TABLE {t} ENABLE TRIGGER ALL")
        conn.execute("SET maintenance_work_mem = '1GB'")
        for _, ddl in idx:
            conn.execute(ddl)
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE cases_case")
        conn.execute("VACUUM ANALYZE cases_caseevent")
        conn.execute(
            "INSERT INTO bench_meta VALUES ('generated', '1'), ('summary', %s)",
            (json.dumps({k: str(v) for k, v in out.items()}),),
        )
    size = admin_sql(f"SELECT pg_size_pretty(pg_database_size('{db}'))")[0][0][0]
    print(
        f"generated {out['cases']:,} cases, {out['events']:,} 签收 events in {time.perf_counter() - t0:.0f} s ({size})"
    )


def endpoints(street_code: str, district_street_n: int) -> list[tuple[str, str, str]]:
    """(label, token role, query string)."""
    month = (TODAY.replace(day=1), TODAY)
    ytd = (TODAY.replace(month=1, day=1), TODAY)
    out = []
    for pname, (a, b) in (("本月", month), ("今年以来", ytd)):
        for by in ("", "community", "department", "source", "category"):
            out.append(
                (f"街道 {pname} by={by or 'none'}", "street", f"from={a}&to={b}&street={street_code}&by={by}")
            )
    out.append(
        (
            "街道 30天趋势 by=day",
            "street",
            f"from={TODAY - timedelta(days=29)}&to={TODAY}&street={street_code}&by=day",
        )
    )
    out.append(
        (
            f"区 今年以来 by=street ({district_street_n} 街道)",
            "district",
            f"from={ytd[0]}&to={TODAY}&by=street",
        )
    )
    out.append(("全市 今年以来 by=street (343 街道)", "city", f"from={ytd[0]}&to={TODAY}&by=street"))
    return out


def measure(db: str, n: int, runs: int, args, started: float) -> None:
    import subprocess

    import psutil
    from dashnaive import naive_stats
    from django.db import connection

    from civicgrid.accounts.models import User
    from civicgrid.accounts.services import issue_token
    from civicgrid.metrics import services
    from civicgrid.places.models import District, Street

    with connection.cursor() as cur:
        cur.execute("SELECT value FROM bench_meta WHERE key = 'rollup'")
        row = cur.fetchone()
    key = metrics_key()
    if row and row[0] == key and not args.rebuild:
        print(f"reusing the cached rollup (metrics code {key})")
    else:
        t0 = time.perf_counter()
        out = services.rebuild()
        print(
            f"rollup rebuilt: {out['cases']:,} cases → {out['rollup_rows']:,} rows "
            f"in {time.perf_counter() - t0:.0f} s",
            flush=True,
        )
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
            cur.execute(
                "INSERT INTO bench_meta VALUES ('rollup', %s) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [key],
            )
    # the biggest 街道 of the biggest 区 (by cases this year)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT street_id, count(*) FROM cases_case WHERE created_at >= %s GROUP BY 1 ORDER BY 2 DESC LIMIT 1",
            [TODAY.replace(month=1, day=1).isoformat()],
        )
        street_id, street_n = cur.fetchone()
    street = Street.objects.select_related("district").get(pk=street_id)
    district = District.objects.get(code="110105")  # 朝阳区, 43 街道
    users = {
        "street": ("bench_street_leader", {"street": street}),
        "district": ("bench_district_leader", {"district": district}),
        "city": ("bench_city_admin", {}),
    }
    tokens = {}
    for kind, (username, kw) in users.items():
        role = "system_admin" if kind == "city" else "leader"
        u, _ = User.objects.get_or_create(
            username=username, defaults={"role": role, "full_name": "压测", **kw}
        )
        tokens[kind] = issue_token(actor=None, user=u, name="bench")[1]
    # the naive baseline runs with the server's own settings (parallel scans, JIT), as a DBA's query would: the
    # app's sessions turn them off (settings.CIVICGRID_PG_OPTIONS), which would slow the baseline down
    with connection.cursor() as cur:
        cur.execute("SET jit = DEFAULT")
        cur.execute("SET max_parallel_workers_per_gather = DEFAULT")
    n_district = Street.objects.filter(district=district).count()
    print(
        f"街道 {street.name} ({street.code}, {street_n:,} cases this year), 区 {district.name} ({n_district} 街道)"
    )

    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "civicgrid.cli",
            "serve",
            "--port",
            str(port),
            "--workers",
            "1",
            "--threads",
            "1",
            "--no-scheduler",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
        cwd=REPO,
    )
    try:
        deadline = time.time() + 90
        import http.client

        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("GET", "/healthz")
                if c.getresponse().status == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None or time.time() > deadline:
                raise SystemExit(
                    "server did not start: " + server.stderr.read().decode(errors="replace")[-2000:]
                )
            time.sleep(0.2)
        workers = psutil.Process(server.pid).children()
        clients = {k: Client(port, t) for k, t in tokens.items()}
        eps = endpoints(street.code, n_district)
        results, rss = [], 0.0
        print(f"\n{'endpoint':<42} {'p50 ms':>8} {'p95 ms':>8} {'naive ms':>9} {'×':>6}")
        for label, kind, qs in eps:
            times = []
            for i in range(runs + 1):
                t = time.perf_counter()
                status, body = clients[kind].call("GET", f"/api/v1/stats/?{qs}")
                if status == 0:  # the server closed the kept-alive connection: ask again
                    status, body = clients[kind].call("GET", f"/api/v1/stats/?{qs}")
                ms = (time.perf_counter() - t) * 1000
                if status != 200:
                    raise SystemExit(f"{label}: HTTP {status} {body}")
                if i:
                    times.append(ms)
            rss = max(rss, max(w.memory_info().rss for w in workers) / 2**20)
            params = dict(p.split("=", 1) for p in qs.split("&"))
            naive_runs = []
            while len(naive_runs) < (1 if args.quick else 3) and sum(naive_runs) < 5000:  # median of 3 or 1
                naive_ms, naive_body = naive_stats(
                    connection,
                    street_ids=[street.pk]
                    if kind == "street"
                    else (
                        list(Street.objects.filter(district=district).values_list("pk", flat=True))
                        if kind == "district"
                        else None
                    ),
                    start=date.fromisoformat(params["from"]),
                    end=date.fromisoformat(params["to"]),
                    by=params.get("by") or None,
                )
                naive_runs.append(naive_ms)
            naive_ms = statistics.median(naive_runs)
            mismatch = compare(body, naive_body)
            p50, p95 = statistics.median(times), percentile(times, 95)
            results.append((label, p50, p95, naive_ms))
            print(
                f"{label:<42} {p50:8.1f} {p95:8.1f} {naive_ms:9.0f} {naive_ms / p50:6.0f}"
                + (f"  MISMATCH {mismatch}" if mismatch else ""),
                flush=True,
            )
            if mismatch:
                raise SystemExit(f"the rollup and the naive count disagree: {label}: {mismatch}")
        rss = max(rss, max(w.memory_info().rss for w in workers) / 2**20)
    finally:
        import signal

        try:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=20)
        except Exception:  # noqa: BLE001
            os.killpg(server.pid, signal.SIGKILL)
    p95 = max(r[2] for r in results)
    speedup = sum(r[3] for r in results) / sum(r[1] for r in results)
    worst = min(r[3] / r[1] for r in results)
    size = admin_sql(f"SELECT pg_size_pretty(pg_database_size('{db}'))")[0][0][0]
    print(
        f"\n{n:,} cases, database {db} ({size}); worst endpoint p95 {p95:.0f} ms; speedup Σnaive/Σp50 {speedup:.0f}× "
        f"(lowest per endpoint {worst:.0f}×); gunicorn worker RSS {rss:.0f} MB; total {time.perf_counter() - started:.0f} s"
    )
    if args.drop_after:
        connection.close()
        admin_sql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        print(f"dropped {db}")
    print(f"RESULT p95_ms={p95:.0f} speedup={speedup:.0f} cases={n} rss_mb={rss:.0f}")


def compare(body: dict, naive: dict) -> str:
    """'' when the endpoint's counters equal the naive ones (responded aside), else the first difference."""
    from civicgrid.metrics.registry import RAW_COUNTERS

    keys = [k for k in RAW_COUNTERS if k != "responded"]
    for part in ("totals", "previous", "last_year"):
        for k in keys:
            if body[part][k] != naive[part].get(k, 0):
                return f"{part}.{k}: {body[part][k]} != {naive[part].get(k, 0)}"
    got = {g["key"]: g for g in body["groups"] if any(g[k] for k in RAW_COUNTERS)}
    want = naive["groups"]
    if set(got) != set(want):
        return f"group keys differ: {sorted(set(got) ^ set(want))[:5]}"
    for key, g in got.items():
        for k in keys:
            if g[k] != want[key].get(k, 0):
                return f"group {key}.{k}: {g[k]} != {want[key].get(k, 0)}"
    return ""


if __name__ == "__main__":
    main()
