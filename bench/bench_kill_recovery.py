"""kill -9 in the middle of work, then let the system recover by itself: exact counts, no duplicates.

    python bench/bench_kill_recovery.py            # 60,000-row 12345 files
    python bench/bench_kill_recovery.py --quick    # 20,000-row files

Fresh PostgreSQL database (``cg_bench_kill``), real gunicorn (``civicgrid serve``, 2 processes × 4 threads,
scheduler on), synthetic 12345 CSV files (bench/bench_import.py's generator, distinct 工单编号 per file).

1. **Import worker killed mid-file.** A queued import job is run by ``civicgrid intake_run --loop``; when about a
   third of the rows are in, the process gets SIGKILL. Then ``intake_run --loop`` is started again, as systemd's
   ``Restart=always`` does (deploy/civicgrid-jobs.service), and nothing else is done.
2. **Web worker killed mid-import and mid-creates.** An importer logs in, uploads the file, confirms the column
   mapping and starts the import through the web pages; 4 API clients keep creating cases, each with its own
   Idempotency-Key, retrying a request whose connection broke with the same key. When about a third of the rows
   are in, every gunicorn worker gets SIGKILL (the master starts new ones). The clients go on for a few seconds.

``--with-intake-service`` models the documented deployment for part 2: ``intake_run --loop`` (the
``civicgrid-intake`` service) runs beside gunicorn. Without it, only the web server is there to recover the job.

Each part then waits (``--recovery-timeout``, default the import runner's stale-job limit + 2 min) for the job to
finish without anyone typing a command. If it does not, the bench runs ``civicgrid intake_run`` once by hand and
says so: ``manual_recovery=1``. Checks: the job is done; the database holds each 工单编号 of the file exactly once
(rows − rejected rows); every create that got a 2xx is there exactly once, and no Idempotency-Key twice.
Last line: ``RESULT exact=0|1 duplicates=N manual_recovery=0|1 cli_recovery_s=N web_recovery_s=N five_xx=N
conn_errors=N rows=N intake_service=0|1``.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import requests
from bench_import import HEADERS, generate
from opslib import CLI, PASSWORD, REPO, Client, Site, case_body

STALE_AFTER_S = (
    300  # civicgrid.intake.tasks.STALE_AFTER on this branch (read from the code below when possible)
)


def stale_after(site: Site) -> float:
    out = site.shell("from civicgrid.intake import tasks; print('STALE', tasks.STALE_AFTER.total_seconds())")
    m = re.search(r"STALE ([\d.]+)", out)
    return float(m.group(1)) if m else STALE_AFTER_S


def job_row(site: Site, pk: int) -> dict:
    status, processed, failed, total = site.sql(
        "SELECT status, processed, failed, total FROM intake_importjob WHERE id = %s", pk
    )[0]
    return {"status": status, "processed": processed, "failed": failed, "total": total}


def wait_for(site: Site, pk: int, pred, timeout: float, poll: float = 0.2) -> dict:
    deadline = time.time() + timeout
    while True:
        row = job_row(site, pk)
        if pred(row) or time.time() > deadline:
            return row
        time.sleep(poll)


def refs_check(site: Site, prefix: str) -> tuple[int, int]:
    """(cases with this prefix, distinct 工单编号 among them)."""
    n, distinct = site.sql(
        "SELECT count(*), count(DISTINCT source_ref) FROM cases_case WHERE source_ref LIKE %s", f"{prefix}%"
    )[0]
    return n, distinct


def recover(site: Site, pk: int, timeout: float, label: str) -> tuple[float, bool]:
    """Wait for the job to finish by itself; else run ``intake_run`` once by hand. (seconds, manual?)"""
    t0 = time.time()
    row = wait_for(site, pk, lambda r: r["status"] in ("done", "failed"), timeout, poll=1.0)
    if row["status"] == "done":
        return time.time() - t0, False
    print(
        f"{label}: job {pk} still {row['status']} after {timeout:.0f} s: running `civicgrid intake_run`",
        flush=True,
    )
    subprocess.run([*CLI, "intake_run"], env=site.env, cwd=REPO, check=False)
    wait_for(site, pk, lambda r: r["status"] in ("done", "failed"), 120, poll=1.0)
    return time.time() - t0, True


def part_cli(site: Site, rows: int, timeout: float) -> dict:
    path = Path(site.data_dir) / "imports" / "bench" / "kill_cli.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    generate("csv", path, rows, "KC", seed=11)
    out = site.shell(
        "from civicgrid.intake.hotline import FIELDS\n"
        "from civicgrid.intake.models import ImportJob, JobStatus\n"
        f"job = ImportJob.objects.create(original_name='kill_cli.csv', file_path='imports/bench/kill_cli.csv', "
        f"file_format='csv', encoding='utf-8-sig', file_size={path.stat().st_size}, "
        f"mapping={{f.name: f.label for f in FIELDS if f.label in {HEADERS!r}}}, created_by_id="
        + str(site.info["importer_id"])
        + ", "
        "status=JobStatus.QUEUED)\n"
        "print('JOB', job.pk)\n"
    )
    pk = int(re.search(r"JOB (\d+)", out).group(1))
    runner = subprocess.Popen(
        [*CLI, "intake_run", "--loop", "--interval", "2"],
        env=site.env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        row = wait_for(
            site,
            pk,
            lambda r: r["processed"] >= rows // 3 or r["status"] in ("done", "failed"),
            600,
            poll=0.05,
        )
        if row["status"] == "failed":
            raise SystemExit(f"the import job failed before it could be killed: {row}")
        if row["status"] == "done":
            raise SystemExit("the import finished before it could be killed: use more rows (--rows)")
        os.killpg(runner.pid, signal.SIGKILL)
        runner.wait()
        print(f"cli: killed intake_run at {row['processed']}/{rows} rows", flush=True)
        # what systemd's Restart=always does: start the same command again
        runner = subprocess.Popen(
            [*CLI, "intake_run", "--loop", "--interval", "5"],
            env=site.env,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        seconds, manual = recover(site, pk, timeout, "cli")
    finally:
        try:
            os.killpg(runner.pid, signal.SIGTERM)
            runner.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
    row = job_row(site, pk)
    n, distinct = refs_check(site, "KC")
    exact = row["status"] == "done" and n == distinct == rows - row["failed"]
    print(
        f"cli: job {row['status']} after {seconds:.0f} s (manual={int(manual)}); cases {n}, distinct 工单编号 "
        f"{distinct}, rows {rows}, rejected {row['failed']}",
        flush=True,
    )
    return {"exact": exact, "dupes": n - distinct, "seconds": seconds, "manual": manual}


def web_login(site: Site) -> requests.Session:
    base = f"http://127.0.0.1:{site.port}"
    s = requests.Session()
    s.get(f"{base}/accounts/login/", timeout=60)
    r = s.post(
        f"{base}/accounts/login/",
        data={
            "username": site.info["importer"],
            "password": PASSWORD,
            "csrfmiddlewaretoken": s.cookies["csrftoken"],
        },
        headers={"Referer": f"{base}/accounts/login/"},
        allow_redirects=False,
        timeout=60,
    )
    if r.status_code != 302:
        raise SystemExit(f"login failed: {r.status_code}")
    return s


def web_start_import(site: Site, s: requests.Session, path: Path) -> int:
    base = f"http://127.0.0.1:{site.port}"
    s.get(f"{base}/intake/upload/", timeout=60)
    csrf = {"csrfmiddlewaretoken": s.cookies["csrftoken"]}
    with open(path, "rb") as fh:
        r = s.post(
            f"{base}/intake/upload/",
            data={"source": "hotline_12345", **csrf},
            files={"file": (path.name, fh, "text/csv")},
            headers={"Referer": f"{base}/intake/upload/"},
            allow_redirects=False,
            timeout=300,
        )
    m = re.search(r"/intake/jobs/(\d+)/mapping/", r.headers.get("Location", ""))
    if not m:
        raise SystemExit(f"upload failed: {r.status_code} {r.text[:500]}")
    pk = int(m.group(1))
    mapping = site.sql("SELECT mapping FROM intake_importjob WHERE id = %s", pk)[0][0]
    r = s.post(
        f"{base}/intake/jobs/{pk}/mapping/",
        data={**{f"map_{k}": v for k, v in mapping.items()}, **csrf},
        headers={"Referer": f"{base}/intake/jobs/{pk}/mapping/"},
        allow_redirects=False,
        timeout=60,
    )
    if r.status_code != 302 or "preview" not in r.headers.get("Location", ""):
        raise SystemExit(f"mapping failed: {r.status_code} {r.text[:500]}")
    r = s.post(
        f"{base}/intake/jobs/{pk}/start/",
        data=csrf,
        headers={"Referer": f"{base}/intake/jobs/{pk}/preview/"},
        allow_redirects=False,
        timeout=60,
    )
    if r.status_code != 302:
        raise SystemExit(f"start failed: {r.status_code}")
    return pk


def part_web(site: Site, rows: int, timeout: float, intake_service: bool) -> dict:
    path = Path(site.data_dir) / "kill_web.csv"
    generate("csv", path, rows, "KW", seed=12)
    session = web_login(site)
    info = site.info
    run_id = uuid.uuid4().hex[:8]
    stop = threading.Event()
    ok_keys: list[set[str]] = [set() for _ in range(4)]
    given_up: list[set[str]] = [set() for _ in range(4)]
    five_xx = [0] * 4
    conn_errors = [0] * 4

    def creator(i: int) -> None:
        c = Client(site.port, info["tokens"][i][1])
        j = 0
        while not stop.is_set():
            key = f"{run_id}-{i}-{j}"
            for _attempt in range(60):
                status, _ = c.call(
                    "POST", "/api/v1/cases", case_body(info, i, j, "中断压测"), {"Idempotency-Key": key}
                )
                if status in (200, 201):
                    ok_keys[i].add(key)
                    break
                if status >= 500:
                    five_xx[i] += 1
                elif status == 0:
                    conn_errors[i] += 1
                else:
                    break
                time.sleep(0.5)  # the worker is being replaced: retry the same key
            else:
                given_up[i].add(key)
            j += 1
        c.close()

    pk = web_start_import(site, session, path)
    service = None
    if intake_service:  # deploy/civicgrid-intake.service beside the web server
        service = subprocess.Popen(
            [*CLI, "intake_run", "--loop", "--interval", "5"],
            env=site.env,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    threads = [threading.Thread(target=creator, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    try:
        row = wait_for(
            site, pk, lambda r: r["processed"] >= rows // 3 or r["status"] == "done", 900, poll=0.05
        )
        if row["status"] == "done":
            raise SystemExit(
                "the import finished before the web worker could be killed: use more rows (--rows)"
            )
        workers = site.worker_pids()
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
        print(f"web: killed gunicorn workers {workers} at {row['processed']}/{rows} rows", flush=True)
        time.sleep(8)  # the clients keep creating against the replacement workers
    finally:
        stop.set()
        for t in threads:
            t.join()
    try:
        seconds, manual = recover(site, pk, timeout, "web")
    finally:
        if service is not None:
            os.killpg(service.pid, signal.SIGTERM)
            service.wait(timeout=30)
    row = job_row(site, pk)
    n, distinct = refs_check(site, "KW")
    import_exact = row["status"] == "done" and n == distinct == rows - row["failed"]
    user_ids = [uid for uid, _ in info["tokens"][:4]]
    keys = site.sql(
        "SELECT idempotency_key, count(*) FROM cases_case WHERE created_by_id = ANY(%s) GROUP BY 1", user_ids
    )
    in_db = {k: c for k, c in keys}
    all_ok = set().union(*ok_keys)
    all_given_up = set().union(*given_up)
    key_dupes = sum(c - 1 for c in in_db.values() if c > 1)
    creates_exact = all(in_db.get(k) == 1 for k in all_ok) and set(in_db) <= all_ok | all_given_up
    print(
        f"web: job {row['status']} after {seconds:.0f} s (manual={int(manual)}); cases {n}, distinct 工单编号 "
        f"{distinct}, rows {rows}, rejected {row['failed']}; API creates with 2xx {len(all_ok)}, in database "
        f"{sum(in_db.values())}, gave up {len(all_given_up)}, duplicate keys {key_dupes}; "
        f"broken connections retried {sum(conn_errors)}, 5xx {sum(five_xx)}",
        flush=True,
    )
    return {
        "exact": import_exact and creates_exact,
        "dupes": (n - distinct) + key_dupes,
        "seconds": seconds,
        "manual": manual,
        "five_xx": sum(five_xx),
        "conn_errors": sum(conn_errors),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--db", default="cg_bench_kill")
    ap.add_argument("--rows", type=int, default=None)
    ap.add_argument(
        "--recovery-timeout", type=float, default=None, help="seconds (default: stale limit + 120)"
    )
    ap.add_argument("--keep-db", action="store_true")
    ap.add_argument(
        "--with-intake-service",
        action="store_true",
        help="part 2 also runs `intake_run --loop` beside gunicorn, as deploy/civicgrid-intake.service does",
    )
    args = ap.parse_args()
    rows = args.rows or (20_000 if args.quick else 60_000)

    site = Site(args.db, n_tokens=4, scheduler=True)
    try:
        timeout = args.recovery_timeout or stale_after(site) + 120
        cli = part_cli(site, rows, timeout)
        site.start(workers=2, threads=4, no_scheduler=False)
        web = part_web(site, rows, timeout, args.with_intake_service)
        exact = int(cli["exact"] and web["exact"])
        manual = int(cli["manual"] or web["manual"])
        print(
            f"RESULT exact={exact} duplicates={cli['dupes'] + web['dupes']} manual_recovery={manual} "
            f"cli_recovery_s={cli['seconds']:.0f} web_recovery_s={web['seconds']:.0f} five_xx={web['five_xx']} "
            f"conn_errors={web['conn_errors']} rows={rows} intake_service={int(args.with_intake_service)}"
        )
        return 0 if exact and not manual else 1
    finally:
        site.close(keep_db=args.keep_db)


if __name__ == "__main__":
    sys.exit(main())
