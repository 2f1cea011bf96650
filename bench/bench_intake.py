"""Benchmark case intake through the real HTTP stack: ``civicgrid serve`` (gunicorn) on a fresh PostgreSQL.

    .venv/bin/python bench/bench_intake.py            # 4,000 creates by 8 client threads
    .venv/bin/python bench/bench_intake.py --quick    #   600 creates (< 1 min)

Steps: drop/create the database (default ``cg_bench_intake``), migrate it, create a 指挥中心 dispatcher with an
API token, a grid and a department (``manage.py shell`` snippet), start ``civicgrid serve --no-scheduler``, then
8 client threads with keep-alive connections POST ``/api/v1/cases`` (each with its own Idempotency-Key, a point
inside the grid so the server locates it, and a category) and measure cases/s and latency percentiles; the same
threads also hit ``/healthz`` (one ``SELECT 1``) as the ceiling of this server on this machine. The two alternate
in rounds (10, ``--quick`` 4), so that the machine's slow and fast spells (a shared VM: one phase alone varies by
±30 % from run to run) weigh on both sides of the ratio; the totals of all rounds give the figures.
The last line is ``RESULT cases_per_s=N p95_ms=N ceiling_ratio=R db=NAME``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from opslib import free_port, fresh_database

REPO = Path(__file__).resolve().parent.parent
CIVICGRID = str(REPO / ".venv" / "bin" / "civicgrid")
THREADS = 8

SETUP = r"""
from civicgrid.accounts.models import Department, User
from civicgrid.accounts.services import issue_token
from civicgrid.cases.models import Category
from civicgrid.places.models import Community, Grid, Street
from shapely.geometry import box, mapping
street = Street.objects.create(name="压测街道", division_code="330106", code="330106001")
comm = Community.objects.create(street=street, code="330106001001", name="压测社区")
Grid.objects.create(community=comm, code="330106001001001", name="压测网格",
    geometry=mapping(box(120.10, 30.25, 120.12, 30.27)), area_m2=1, min_lng=120.10, min_lat=30.25,
    max_lng=120.12, max_lat=30.27)
Department.objects.create(code="CGZD", name="城管中队", street=street)
u = User.objects.create(username="bench_dispatcher", role="dispatcher", full_name="压测受理员", street=street)
_, key = issue_token(actor=None, user=u, name="bench")
print("CATEGORY", Category.objects.get(code="S06010").pk)
print("TOKEN", key)
"""


def percentile(values: list[float], p: float) -> float:
    s = sorted(values)
    if not s:
        return 0.0
    k = min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))
    return s[k]


def run_load(port: int, n_total: int, make_request) -> tuple[float, list[float], int]:
    """``THREADS`` keep-alive clients share ``n_total`` requests; returns (seconds, latencies_ms, errors)."""
    per = n_total // THREADS
    lat: list[list[float]] = [[] for _ in range(THREADS)]
    errors = [0] * THREADS
    barrier = threading.Barrier(THREADS + 1)

    def client(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        barrier.wait()
        for j in range(per):
            method, path, body, headers = make_request(i, j)
            t = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                resp = conn.getresponse()
                resp.read()
                ok = resp.status in (200, 201)
                if resp.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            lat[i].append((time.perf_counter() - t) * 1000)
            if not ok:
                errors[i] += 1
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    return time.perf_counter() - t0, [x for part in lat for x in part], sum(errors)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--db", default="cg_bench_intake")
    ap.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1), help="gunicorn processes")
    ap.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    ap.add_argument("-n", type=int, default=None, help="creates (default 4000, --quick 600)")
    ap.add_argument("--rounds", type=int, default=None, help="alternating rounds (default 10, --quick 4)")
    args = ap.parse_args()
    n = args.n or (600 if args.quick else 4000)
    n -= n % THREADS
    args.rounds = args.rounds or (4 if args.quick else 10)

    data_dir = tempfile.mkdtemp(prefix="cg_bench_intake_")
    env = os.environ.copy()
    env.update(
        DATABASE_URL=fresh_database(args.db),
        CIVICGRID_DATA_DIR=data_dir,
        CIVICGRID_DEBUG="0",
        CIVICGRID_SCHEDULER="0",
        CIVICGRID_LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="civicgrid.settings",
    )
    env.pop("CIVICGRID_TESTING", None)
    print(f"database {args.db}: migrating …", flush=True)
    subprocess.run([CIVICGRID, "migrate", "--noinput", "-v", "0"], env=env, check=True)
    out = subprocess.run(
        [CIVICGRID, "shell", "-c", SETUP], env=env, check=True, capture_output=True, text=True
    ).stdout
    fields = dict(line.split(" ", 1) for line in out.splitlines() if line.startswith(("TOKEN", "CATEGORY")))
    token, category = fields["TOKEN"].strip(), int(fields["CATEGORY"])

    port = free_port()
    server = subprocess.Popen(
        [
            CIVICGRID,
            "serve",
            "--port",
            str(port),
            "--no-scheduler",
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.time() + 60
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

        auth = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Connection": "keep-alive",
        }
        run_id = uuid.uuid4().hex[:8]

        def create(i, j):
            body = json.dumps(
                {
                    "source": "hotline_12345",
                    "description": f"压测案件 线程{i} 第{j}件：小区门口垃圾堆积",
                    "category": category,
                    "lng": 120.101 + (j % 97) * 0.0002,
                    "lat": 30.251 + (i % 8) * 0.002,
                    "address": f"压测路{j}号",
                    "reporter_name": "市民",
                    "reporter_phone": "13800000000",
                },
                ensure_ascii=False,
            ).encode()
            return "POST", "/api/v1/cases", body, {**auth, "Idempotency-Key": f"{run_id}-{i}-{j}"}

        def health(i, j):
            return "GET", "/healthz", None, {"Connection": "keep-alive"}

        warm = THREADS * 10
        run_load(port, warm, lambda i, j: create(i, 100000 + j))  # warm-up (connections, caches)
        run_load(port, warm, health)

        # Creates and /healthz alternate in rounds (create first in odd rounds, /healthz first in even ones), so
        # a slow spell of this shared machine falls on both sides of the ratio instead of on one phase.
        rounds = args.rounds
        per_round = max(THREADS, (n // rounds) - (n // rounds) % THREADS)
        c_secs = h_secs = 0.0
        c_lat: list[float] = []
        h_lat: list[float] = []
        errors = herrors = 0
        round_ratios = []
        for r in range(rounds):
            order = ("create", "health") if r % 2 == 0 else ("health", "create")
            took = {}
            for what in order:
                if what == "create":
                    secs, lat, err = run_load(
                        port, per_round, lambda i, j, r=r: create(i, 1_000_000 * (r + 1) + j)
                    )
                    c_secs, errors = c_secs + secs, errors + err
                    c_lat += lat
                else:
                    secs, lat, err = run_load(port, per_round, health)
                    h_secs, herrors = h_secs + secs, herrors + err
                    h_lat += lat
                took[what] = secs
            round_ratios.append(took["health"] / took["create"])
        n_created = per_round * rounds
        cases_per_s = n_created / c_secs
        ceiling = n_created / h_secs
        p50, p95, p99 = percentile(c_lat, 50), percentile(c_lat, 95), percentile(c_lat, 99)
        print(
            f"create: {n_created} cases in {c_secs:.2f}s = {cases_per_s:.0f} cases/s; "
            f"p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms; errors {errors}",
            flush=True,
        )
        print(
            f"/healthz ceiling: {ceiling:.0f} req/s; p95 {percentile(h_lat, 95):.1f} ms; errors {herrors}",
            flush=True,
        )
        print(
            f"{rounds} rounds of {per_round}: create ÷ /healthz per round "
            + " ".join(f"{x:.2f}" for x in round_ratios),
            flush=True,
        )
        check_out = subprocess.run(
            [
                CIVICGRID,
                "shell",
                "-c",
                "from civicgrid.cases.models import Case; "
                "print('COUNT', Case.objects.count(), Case.objects.filter(grid__isnull=False).count())",
            ],
            env=env,
            capture_output=True,
            text=True,
        ).stdout
        check = next(line for line in check_out.splitlines() if line.startswith("COUNT")).split()[1:]
        expected = n_created + THREADS * 10
        print(f"database holds {check[0]} cases ({check[1]} located in the grid); expected {expected}")
        if errors or herrors or int(check[0]) != expected:
            print("ERROR: failed requests or missing cases", file=sys.stderr)
            return 1
        print(
            f"RESULT cases_per_s={cases_per_s:.0f} p95_ms={p95:.1f} ceiling_ratio={cases_per_s / ceiling:.2f} "
            f"db={args.db}"
        )
        return 0
    finally:
        try:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(server.pid, signal.SIGKILL)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
