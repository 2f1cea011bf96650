"""Mixed API traffic against real gunicorn on PostgreSQL: no 5xx, and every 2xx create is in the database.

    python bench/bench_load_mixed.py            # 8 clients × 60 s
    python bench/bench_load_mixed.py --quick    # 8 clients × 15 s

``civicgrid serve`` (2 processes × 4 threads) on a fresh database (``cg_bench_load``). Each client has its own
dispatcher token and a keep-alive connection and loops over a weighted mix: create a case (30 %, each with its
own Idempotency-Key), list cases (30 %), read a case's detail (25 %), and a move on one of its own cases
(15 %: accept, then dispatch). Answers are counted by class; a broken connection counts as an error. At the
end the number of cases the bench users own in the database must equal the number of 2xx create answers.
Last line: ``RESULT five_xx=N db_count_matches=0|1 req_per_s=N creates=N p95_ms=N conn_errors=N other_4xx=N``.
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time
import uuid
from collections import Counter

from opslib import Client, Site, case_body, percentile

CLIENTS = 8
MIX = [("create", 30), ("list", 30), ("detail", 25), ("move", 15)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--db", default="cg_bench_load")
    ap.add_argument("--seconds", type=float, default=None)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--keep-db", action="store_true")
    args = ap.parse_args()
    seconds = args.seconds or (15 if args.quick else 60)

    site = Site(args.db, n_tokens=CLIENTS)
    try:
        site.start(workers=args.workers, threads=args.threads)
        info = site.info
        run_id = uuid.uuid4().hex[:8]
        stats = [Counter() for _ in range(CLIENTS)]
        lat: list[dict[str, list[float]]] = [{op: [] for op, _ in MIX} for _ in range(CLIENTS)]
        created_ok = [0] * CLIENTS
        barrier = threading.Barrier(CLIENTS + 1)
        stop_at = [0.0]
        ops = [op for op, w in MIX for _ in range(w)]

        def client(i: int) -> None:
            rnd = random.Random(i)
            c = Client(site.port, info["tokens"][i][1])
            mine: list[dict] = []  # {"id", "version", "state"}
            seen_ids: list[int] = []
            j = 0
            barrier.wait()
            while time.perf_counter() < stop_at[0]:
                op = rnd.choice(ops)
                if op in ("detail", "move") and not mine:
                    op = "create"
                t = time.perf_counter()
                if op == "create":
                    key = f"{run_id}-{i}-{j}"
                    status, body = c.call(
                        "POST", "/api/v1/cases", case_body(info, i, j, "混合压测"), {"Idempotency-Key": key}
                    )
                    j += 1
                    if status == 201:
                        created_ok[i] += 1
                        mine.append({"id": body["id"], "version": body["version"], "state": body["state"]})
                        seen_ids.append(body["id"])
                elif op == "list":
                    status, body = c.call("GET", f"/api/v1/cases?limit=20&offset={rnd.randrange(0, 40)}")
                elif op == "detail":
                    case_id = rnd.choice(seen_ids)
                    status, body = c.call("GET", f"/api/v1/cases/{case_id}")
                else:
                    case = next((x for x in mine if x["state"] in ("reported", "accepted")), None)
                    if case is None:
                        continue
                    if case["state"] == "reported":
                        path, payload = "accept", {"version": case["version"]}
                    else:
                        path, payload = (
                            "dispatch",
                            {"version": case["version"], "department": info["department"]},
                        )
                    status, body = c.call("POST", f"/api/v1/cases/{case['id']}/{path}", payload)
                    if status == 200:
                        case["version"], case["state"] = body["version"], body["state"]
                lat[i][op].append((time.perf_counter() - t) * 1000)
                stats[i][(op, status)] += 1
            c.close()

        threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
        for t in threads:
            t.start()
        stop_at[0] = time.perf_counter() + seconds
        barrier.wait()
        t0 = time.perf_counter()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0

        total = Counter()
        for s in stats:
            total.update(s)
        n_requests = sum(total.values())
        five_xx = sum(n for (_, status), n in total.items() if status >= 500)
        conn_errors = sum(n for (_, status), n in total.items() if status == 0)
        other_4xx = sum(n for (_, status), n in total.items() if 400 <= status < 500)
        all_lat = [x for per in lat for values in per.values() for x in values]
        for op, _ in MIX:
            values = [x for per in lat for x in per[op]]
            codes = {status: n for (o, status), n in sorted(total.items()) if o == op}
            print(
                f"{op:7s} {len(values):6d} requests  p50 {percentile(values, 50):7.1f} ms  "
                f"p95 {percentile(values, 95):7.1f} ms  answers {codes}",
                flush=True,
            )
        creates = sum(created_ok)
        user_ids = [uid for uid, _ in info["tokens"]]
        in_db = site.sql("SELECT count(*) FROM cases_case WHERE created_by_id = ANY(%s)", user_ids)[0][0]
        dupes = site.sql(
            "SELECT count(*) FROM (SELECT created_by_id, idempotency_key FROM cases_case WHERE created_by_id = "
            "ANY(%s) GROUP BY 1, 2 HAVING count(*) > 1) d",
            user_ids,
        )[0][0]
        matches = int(in_db == creates and dupes == 0)
        print(
            f"{n_requests} requests in {elapsed:.1f} s = {n_requests / elapsed:.0f} req/s; 2xx creates {creates}, "
            f"cases in database {in_db}, duplicate keys {dupes}",
            flush=True,
        )
        print(
            f"RESULT five_xx={five_xx} db_count_matches={matches} req_per_s={n_requests / elapsed:.0f} "
            f"creates={creates} p95_ms={percentile(all_lat, 95):.1f} conn_errors={conn_errors} "
            f"other_4xx={other_4xx} seconds={seconds:.0f}"
        )
        return 0 if (five_xx == 0 and matches and conn_errors == 0) else 1
    finally:
        site.close(keep_db=args.keep_db)


if __name__ == "__main__":
    sys.exit(main())
