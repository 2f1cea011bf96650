"""The naive baseline of bench_dashboard.py: the dashboard's counters by GROUP BY over ``cases_case``.

What one ``/api/v1/stats/`` answer needs — the period, the as-long period before (环比), the same dates a year
before (同比), and the groups — counted straight from the cases with the period rules of docs/metrics.md (受理
by ``created_at``, 立案 by ``accepted_at``, 派遣 by ``dispatched_at``, 办结 by ``closed_at``, local days): one
statement per period with ``FILTER`` aggregates (the daily trend: one per period rule, grouped by the local day).
响应 (签收 within the 派遣时限) is counted with the limit in natural hours (the work calendar is Python), so it is
left out of the comparison with the endpoint.
"""

from __future__ import annotations

import time
from datetime import date, timedelta

from civicgrid.cases import procedures
from civicgrid.metrics.models import COUNTERS
from civicgrid.metrics.selectors import bounds, shift_year

KEYS = {
    None: ("''", ""),
    "community": ("coalesce(cm.code, '')", "LEFT JOIN places_community cm ON cm.id = c.community_id"),
    "department": ("coalesce(dp.code, '')", "LEFT JOIN accounts_department dp ON dp.id = c.department_id"),
    "category": (
        "coalesce(kp.code, k.code, '')",
        "LEFT JOIN cases_category kp ON kp.id = k.parent_id",
    ),
    "source": ("c.source", ""),
    "street": ("coalesce(st.code, '')", "LEFT JOIN places_street st ON st.id = c.street_id"),
}


def _done() -> str:
    pairs = sorted((p.code, str(s)) for p in procedures.all_procedures() for s in p.done)
    return "((c.procedure, c.state) IN (VALUES " + ", ".join(f"('{a}', '{b}')" for a, b in pairs) + "))"


def _rules(lo: str, hi: str) -> dict[str, tuple[str, str]]:
    """counter: (the period column it is dated by, the extra condition)."""
    done = f"{_done()} AND c.closed_at IS NOT NULL"
    timed = "c.accepted_at IS NOT NULL AND c.closed_at >= c.accepted_at"
    signed = (
        "EXISTS (SELECT 1 FROM cases_caseevent e WHERE e.case_id = c.id AND e.move = 'sign' "
        "AND e.at >= c.dispatched_at AND e.at <= c.dispatched_at + make_interval(hours => k.dispatch_limit_amount))"
    )
    return {
        "received": ("created_at", "true"),
        "received_grid": ("created_at", "c.source = 'grid_patrol'"),
        "merged": ("created_at", "c.state = 'merged'"),
        "rejected": ("created_at", "c.state = 'rejected'"),
        "accepted": ("accepted_at", "c.state <> 'merged'"),
        "accepted_done": ("accepted_at", f"c.state <> 'merged' AND {done}"),
        "dispatched": ("dispatched_at", "true"),
        "responded": ("dispatched_at", signed),
        "done": ("closed_at", done),
        "done_on_time": ("closed_at", f"{done} AND NOT c.is_overdue"),
        "rated": ("closed_at", f"{done} AND c.rating <> ''"),
        "rated_satisfied": ("closed_at", f"{done} AND c.rating = 'satisfied'"),
        "rated_basic": ("closed_at", f"{done} AND c.rating = 'basic'"),
        "reworked": ("closed_at", f"{done} AND c.rework_count > 0"),
        "extended": (
            "closed_at",
            f"{done} AND EXISTS (SELECT 1 FROM cases_extensionrequest x WHERE x.case_id = c.id "
            "AND x.status = 'approved')",
        ),
        "handle_n": ("closed_at", f"{done} AND {timed}"),
        "handle_seconds": ("closed_at", f"{done} AND {timed}"),
    }


def _agg(name: str, col: str, cond: str, lo: str, hi: str) -> str:
    where = f"c.{col} >= '{lo}' AND c.{col} < '{hi}' AND {cond}"
    if name == "handle_seconds":
        return (
            f"coalesce(sum(floor(extract(epoch FROM c.closed_at - c.accepted_at))) FILTER (WHERE {where}), 0)"
        )
    return f"count(*) FILTER (WHERE {where})"


def _query(cursor, street_ids, start: date, end: date, by: str | None) -> dict:
    lo, hi = (b.isoformat() for b in bounds(start, end))
    rules = _rules(lo, hi)
    streets = (
        "" if street_ids is None else f"AND c.street_id IN ({', '.join(str(int(s)) for s in street_ids)})"
    )
    out: dict = {}
    if by == "day":
        for col in ("created_at", "accepted_at", "dispatched_at", "closed_at"):
            names = [k for k, (c, _) in rules.items() if c == col]
            aggs = ", ".join(f"{_agg(k, col, rules[k][1], lo, hi)}" for k in names)
            cursor.execute(
                f"SELECT to_char((c.{col} AT TIME ZONE 'Asia/Shanghai')::date, 'YYYY-MM-DD'), {aggs} "
                "FROM cases_case c LEFT JOIN cases_category k ON k.id = c.category_id "
                f"WHERE c.state <> 'voided' {streets} AND c.{col} >= '{lo}' AND c.{col} < '{hi}' GROUP BY 1"
            )
            for key, *vals in cursor.fetchall():
                out.setdefault(key, {}).update({k: int(v) for k, v in zip(names, vals, strict=True)})
        return out
    key, join = KEYS[by]
    aggs = ", ".join(_agg(k, col, cond, lo, hi) for k, (col, cond) in rules.items())
    any_in = " OR ".join(
        f"(c.{col} >= '{lo}' AND c.{col} < '{hi}')"
        for col in ("created_at", "accepted_at", "dispatched_at", "closed_at")
    )
    cursor.execute(
        f"SELECT {key}, {aggs} FROM cases_case c LEFT JOIN cases_category k ON k.id = c.category_id {join} "
        f"WHERE c.state <> 'voided' {streets} AND ({any_in}) GROUP BY 1"
    )
    for k, *vals in cursor.fetchall():
        out[k] = {name: int(v) for name, v in zip(COUNTERS, vals, strict=True)}
    return out


def naive_stats(connection, *, street_ids, start: date, end: date, by: str | None) -> tuple[float, dict]:
    """(milliseconds, {"totals", "previous", "last_year": counters, "groups": {key: counters}})."""
    days = (end - start).days + 1
    prev_end = start - timedelta(days=1)
    periods = {
        "totals": (start, end),
        "previous": (prev_end - timedelta(days=days - 1), prev_end),
        "last_year": (shift_year(start), shift_year(end)),
    }
    t = time.perf_counter()
    with connection.cursor() as cursor:
        out = {name: _query(cursor, street_ids, a, b, None).get("", {}) for name, (a, b) in periods.items()}
        out["groups"] = (
            {k: v for k, v in _query(cursor, street_ids, start, end, by).items() if any(v.values())}
            if by
            else {}
        )
    return (time.perf_counter() - t) * 1000, out
