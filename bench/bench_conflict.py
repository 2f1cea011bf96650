"""Two dispatchers dispatch the same case at the same moment through the API: exactly one wins (2xx), the other
gets 409 — never two timeline entries, never a 5xx.

    python bench/bench_conflict.py            # 200 rounds
    python bench/bench_conflict.py --quick    #  30 rounds

Real gunicorn (``civicgrid serve``, 2 processes × 4 threads) on a fresh PostgreSQL database (``cg_bench_conflict``).
Each round: create a case, accept it, then two threads with different dispatcher tokens wait on a barrier and
POST ``/api/v1/cases/{id}/dispatch`` with the same version. Afterwards the database must show each case
dispatched once (one ``dispatch`` event). Last line: ``RESULT conflict_ok=0|1 rounds=N both_ok=N both_409=N
five_xx=N``.
"""

from __future__ import annotations

import argparse
import sys
import threading

from opslib import Client, Site, case_body


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--db", default="cg_bench_conflict")
    ap.add_argument("--rounds", type=int, default=None)
    ap.add_argument("--keep-db", action="store_true")
    args = ap.parse_args()
    rounds = args.rounds or (30 if args.quick else 200)

    site = Site(args.db, n_tokens=3)
    try:
        site.start(workers=2, threads=4)
        info = site.info
        (_, t_main), (_, t_a), (_, t_b) = info["tokens"]
        setup = Client(site.port, t_main)
        a, b = Client(site.port, t_a), Client(site.port, t_b)
        outcomes = {"one_wins": 0, "both_ok": 0, "both_409": 0, "five_xx": 0, "other": 0}
        case_ids = []
        for r in range(rounds):
            status, case = setup.call("POST", "/api/v1/cases", case_body(info, 0, r, "冲突"))
            assert status == 201, (status, case)
            status, case = setup.call(
                "POST", f"/api/v1/cases/{case['id']}/accept", {"version": case["version"]}
            )
            assert status == 200, (status, case)
            case_ids.append(case["id"])
            barrier = threading.Barrier(2)
            got: dict[str, int] = {}

            def go(name, client, cid=case["id"], version=case["version"], bar=barrier, out=got):
                body = {"version": version, "department": info["department"], "note": f"{name} 派遣"}
                bar.wait()
                out[name] = client.call("POST", f"/api/v1/cases/{cid}/dispatch", body)[0]

            threads = [threading.Thread(target=go, args=("a", a)), threading.Thread(target=go, args=("b", b))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            codes = sorted(got.values())
            if any(c >= 500 or c == 0 for c in codes):
                outcomes["five_xx"] += 1
            elif codes == [200, 409]:
                outcomes["one_wins"] += 1
            elif codes == [200, 200]:
                outcomes["both_ok"] += 1
            elif codes == [409, 409]:
                outcomes["both_409"] += 1
            else:
                outcomes["other"] += 1
                print(f"round {r}: unexpected {codes}", flush=True)
        for c in (setup, a, b):
            c.close()
        rows = site.sql(
            "SELECT c.id, c.state, count(e.id) FROM cases_case c LEFT JOIN cases_caseevent e "
            "ON e.case_id = c.id AND e.move = 'dispatch' WHERE c.id = ANY(%s) GROUP BY c.id, c.state",
            case_ids,
        )
        once = sum(1 for _, state, n in rows if state == "dispatched" and n == 1)
        print(f"{rounds} rounds: {outcomes}; cases dispatched exactly once: {once}/{rounds}", flush=True)
        ok = outcomes["one_wins"] == rounds and once == rounds
        print(
            f"RESULT conflict_ok={int(ok)} rounds={rounds} both_ok={outcomes['both_ok']} "
            f"both_409={outcomes['both_409']} five_xx={outcomes['five_xx']} dispatched_once={once}"
        )
        return 0 if ok else 1
    finally:
        site.close(keep_db=args.keep_db)


if __name__ == "__main__":
    sys.exit(main())
