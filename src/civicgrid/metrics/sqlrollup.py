"""The set-based rebuild (PostgreSQL): the same facts and daily rollup as the per-case path of
:func:`civicgrid.metrics.services.rebuild`, computed by a few statements over ``cases_case`` instead of one
Python round per 2,000 cases (20 M cases: minutes instead of hours).

What each case contributes (:func:`services.contributions`) is written once as SQL: one row per (case, kind of
contribution) from a ``CROSS JOIN LATERAL (VALUES …)`` over a single scan of the cases — 受理 on the local day of
``created_at``, 立案 on ``accepted_at``'s, 派遣 on ``dispatched_at``'s, 办结 on ``closed_at``'s. The only rule SQL
cannot evaluate is the work calendar: a 签收 counts as 响应 when it is at or before
:func:`services.sign_due`; a 签收 within the limit counted in natural hours is certainly in time (working time
runs no faster than natural time) and a natural-hours limit is exact, so Python computes the due time only for
the remaining cases (a late 签收 under a 工作时/工作日/自然日 limit). Equality with the per-case path (facts and
rollup, on random histories) is tested in tests/metrics/test_rebuild_sql.py.
"""

from __future__ import annotations

from contextlib import contextmanager

from django.db import connection

from civicgrid.cases import procedures
from civicgrid.cases.models import CaseState
from civicgrid.metrics.models import COUNTERS, DIMENSIONS

TZ = "Asia/Shanghai"
DIM_SQL = {
    "street_id": "coalesce(c.street_id, 0)",
    "community_id": "coalesce(c.community_id, 0)",
    "grid_id": "coalesce(c.grid_id, 0)",
    "department_id": "coalesce(c.department_id, 0)",
    "category_id": "coalesce(c.category_id, 0)",
    "source": "c.source",
    "procedure": "c.procedure",
}


def _done_sql() -> str:
    """Whether the case is 办结 (in its procedure's done group, with a 结案 time) — a CASE, not a lookup."""
    whens = " ".join(
        f"WHEN {_lit(p.code)} THEN c.state IN ({', '.join(_lit(str(s)) for s in sorted(p.done))})"
        for p in procedures.all_procedures()
        if p.done
    )
    return f"(CASE c.procedure {whens} ELSE false END AND c.closed_at IS NOT NULL)"


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _day(col: str) -> str:
    return f"(c.{col} AT TIME ZONE '{TZ}')::date"


def _parts() -> dict[str, tuple[str, dict[str, str]]]:
    """kind of contribution: (its local day, NULL when the case makes none; {counter: int expression})."""
    done = "mx.done"
    return {
        "created": (
            _day("created_at"),
            {
                "received": "1",
                "received_grid": "(c.source = 'grid_patrol')::int",
                "merged": f"(c.state = '{CaseState.MERGED}')::int",
                "rejected": f"(c.state = '{CaseState.REJECTED}')::int",
            },
        ),
        "accepted": (
            f"CASE WHEN c.accepted_at IS NOT NULL AND c.state <> '{CaseState.MERGED}' "
            f"THEN {_day('accepted_at')} END",
            {"accepted": "1", "accepted_done": f"{done}::int"},
        ),
        "dispatched": (
            f"CASE WHEN c.dispatched_at IS NOT NULL THEN {_day('dispatched_at')} END",
            {"dispatched": "1", "responded": "(r.case_id IS NOT NULL)::int"},
        ),
        "done": (
            f"CASE WHEN {done} THEN {_day('closed_at')} END",
            {
                "done": "1",
                "done_on_time": "(NOT c.is_overdue)::int",
                "rated": "(c.rating <> '')::int",
                "rated_satisfied": "(c.rating = 'satisfied')::int",
                "rated_basic": "(c.rating = 'basic')::int",
                "reworked": "(c.rework_count > 0)::int",
                "extended": "(x.case_id IS NOT NULL)::int",
                "handle_n": "(c.accepted_at IS NOT NULL AND c.closed_at >= c.accepted_at)::int",
                "handle_seconds": "CASE WHEN c.accepted_at IS NOT NULL AND c.closed_at >= c.accepted_at "
                "THEN floor(extract(epoch FROM c.closed_at - c.accepted_at))::int ELSE 0 END",
            },
        ),
    }


FROM = (
    "FROM cases_case c CROSS JOIN LATERAL (SELECT {done} AS done) mx "
    "LEFT JOIN mx_resp r ON r.case_id = c.id LEFT JOIN mx_ext x ON x.case_id = c.id "
)


def _contrib_sql(max_case: int) -> str:
    """(day, dims…, counters…): one row per contribution — one scan of the cases per kind of contribution,
    ``UNION ALL`` (cheaper than a lateral VALUES per case); int counters, so that their sums are bigint, not
    numeric."""
    dims = ", ".join(f"{DIM_SQL[d]} AS {d}" for d in DIMENSIONS)
    selects = []
    for day, counters in _parts().values():
        vals = ", ".join(f"({counters.get(k, '0')})::int AS {k}" for k in COUNTERS)
        selects.append(
            f"SELECT {day} AS day, {dims}, {vals} {FROM.format(done=_done_sql())}"
            f"WHERE c.id <= {int(max_case)} AND c.state <> '{CaseState.VOIDED}' AND ({day}) IS NOT NULL"
        )
    return " UNION ALL ".join(selects)


def _facts_parts_sql(max_case: int) -> str:
    """(id, dims…, voided, t1…t4, f1…f4): per case, the local day (text) of each kind of contribution and what it
    adds there as a JSON fragment (``"received":1,"received_grid":1``; zero counters left out, as
    :func:`services.contributions` does) — NULL when the case makes none."""
    cols = []
    for i, (day, counters) in enumerate(_parts().values(), start=1):
        frag = ", ".join(f"CASE WHEN ({e}) <> 0 THEN '\"{k}\":' || ({e}) END" for k, e in counters.items())
        cols.append(f"to_char({day}, 'YYYY-MM-DD') AS t{i}")
        cols.append(f"CASE WHEN ({day}) IS NOT NULL THEN concat_ws(',', {frag}) END AS f{i}")
    dims = ", ".join(f"{DIM_SQL[d]} AS {d}" for d in DIMENSIONS)
    return (
        f"SELECT c.id, {dims}, c.state = '{CaseState.VOIDED}' AS voided, {', '.join(cols)} "
        f"{FROM.format(done=_done_sql())}WHERE c.id <= {int(max_case)}"
    )


def _facts_days_sql() -> str:
    """The ``days`` JSON of one ``mx_parts`` row: one object per distinct day, holding the fragments of every
    contribution on that day (their counters are disjoint), built as text and cast once."""
    n = 4
    objs = []
    for i in range(1, n + 1):
        earlier = " AND ".join(f"t{i} IS DISTINCT FROM t{j}" for j in range(1, i)) or "true"
        frags = ", ".join([f"f{i}", *(f"CASE WHEN t{j} = t{i} THEN f{j} END" for j in range(i + 1, n + 1))])
        objs.append(
            f"CASE WHEN t{i} IS NOT NULL AND {earlier} THEN '\"' || t{i} || '\":{{' || concat_ws(',', {frags}) "
            "|| '}' END"
        )
    return f"CASE WHEN voided THEN '{{}}'::jsonb ELSE ('{{' || concat_ws(',', {', '.join(objs)}) || '}}')::jsonb END"


def _responded(cursor, max_case: int) -> None:
    """mx_resp: the cases whose first 签收 at or after the last 派遣 is within the category's 派遣时限."""
    from civicgrid.metrics.services import sign_due

    cursor.execute("DROP TABLE IF EXISTS mx_resp, mx_signed, mx_ext")
    cursor.execute("CREATE TEMP TABLE mx_resp (case_id bigint PRIMARY KEY) ON COMMIT DROP")
    cursor.execute(
        "CREATE TEMP TABLE mx_signed ON COMMIT DROP AS "
        "SELECT c.id AS case_id, c.dispatched_at, min(e.at) AS signed_at, "
        "k.dispatch_limit_amount AS amount, k.dispatch_limit_unit AS unit "
        "FROM cases_case c JOIN cases_category k ON k.id = c.category_id "
        "JOIN cases_caseevent e ON e.case_id = c.id AND e.move = 'sign' AND e.at >= c.dispatched_at "
        f"WHERE c.dispatched_at IS NOT NULL AND c.state <> '{CaseState.VOIDED}' AND c.id <= %s "
        "GROUP BY c.id, c.dispatched_at, k.dispatch_limit_amount, k.dispatch_limit_unit",
        [max_case],
    )
    # exact for natural hours; certain for working hours when within the same number of natural hours
    cursor.execute(
        "INSERT INTO mx_resp SELECT case_id FROM mx_signed "
        "WHERE unit IN ('natural_hours', 'working_hours') "
        "AND signed_at <= dispatched_at + make_interval(hours => amount)"
    )
    with connection.connection.cursor(name="mx_ambiguous") as named:  # server-side: never all in memory
        named.itersize = 20000
        named.execute(
            "SELECT case_id, dispatched_at, signed_at, amount, unit FROM mx_signed "
            "WHERE unit <> 'natural_hours' AND signed_at > dispatched_at + make_interval(hours => amount)"
        )
        ok = [case_id for case_id, at, signed, amount, unit in named if signed <= sign_due(at, amount, unit)]
    for i in range(0, len(ok), 50000):
        cursor.execute("INSERT INTO mx_resp SELECT unnest(%s::bigint[])", [ok[i : i + 50000]])


@contextmanager
def without_indexes(cursor, table: str):
    """Drop ``table``'s secondary indexes and unique constraints, and build them again after the block (one
    sorted build each instead of millions of inserts into them)."""
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass "
        "AND contype = 'u'",
        [table],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes i WHERE tablename = %s AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
        [table],
    )
    indexes = cursor.fetchall()
    for name, _ in constraints:
        cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    yield
    cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
    for name, ddl in constraints:
        cursor.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {ddl}')
    for _, ddl in indexes:
        cursor.execute(ddl)


def rebuild(max_case: int) -> None:
    """Fill the (emptied) CaseFact and DailyRollup tables from the cases with ids up to ``max_case``."""
    counters = ", ".join(COUNTERS)
    dims = ", ".join(DIMENSIONS)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '1GB'")
        # a batch over every case: parallel scans and JIT pay here (the app's connections turn them off)
        cursor.execute("SET LOCAL jit = on")
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 2")
        _responded(cursor, max_case)
        cursor.execute(
            "CREATE TEMP TABLE mx_ext ON COMMIT DROP AS SELECT DISTINCT case_id FROM cases_extensionrequest "
            "WHERE status = 'approved'"
        )
        cursor.execute("CREATE UNIQUE INDEX ON mx_ext (case_id)")
        cursor.execute("ANALYZE mx_resp")
        cursor.execute("ANALYZE mx_ext")
        contrib = _contrib_sql(max_case)
        sums = ", ".join(f"sum({k})" for k in COUNTERS)
        with without_indexes(cursor, "metrics_dailyrollup"):
            cursor.execute(
                f"INSERT INTO metrics_dailyrollup (day, {dims}, {counters}) "
                f"SELECT day, {dims}, {sums} FROM ({contrib}) t GROUP BY day, {dims}"
            )
        cursor.execute(f"CREATE TEMP TABLE mx_parts ON COMMIT DROP AS {_facts_parts_sql(max_case)}")
        cursor.execute(
            f"INSERT INTO metrics_casefact (case_id, {dims}, days) "
            f"SELECT id, {dims}, {_facts_days_sql()} FROM mx_parts ORDER BY id"
        )
        cursor.execute("DROP TABLE mx_parts")
        cursor.execute("DROP TABLE mx_resp, mx_signed, mx_ext")
