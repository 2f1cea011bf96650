"""Every write of the metrics module: keeping the daily rollup current.

Each case contributes a few counters to a few days (its *contributions*, :func:`contributions`): to the day it
was reported (受理), 立案, last 派遣 and 办结. The last contributions applied are kept per case in
:class:`~civicgrid.metrics.models.CaseFact`; :func:`refresh` recomputes them for the cases that changed since the
last round, and applies the difference (new − old) to :class:`~civicgrid.metrics.models.DailyRollup`.

Why a periodic job and not the case transactions: cases are written by many paths (the moves, create, the
set-based 12345 import, relocate, import updates, the demo's bulk loader); a rollup write in each of them would
add work and lock contention to the write-heavy intake and import paths and couple ``cases`` to this module
(which sits above it). The job finds changed cases from three watermarks — case ids above the last seen (new
cases), case ids of timeline entries above the last seen (every move, relocate and import update appends one),
and ``updated_at`` within a look-back window (rows committed late) — and re-diffs them; a case whose
contributions did not change costs one comparison. The figures lag the cases by at most one round
(``JOB_INTERVAL``, 60 s).

:func:`rebuild` recomputes everything from the cases (``civicgrid stats rebuild``), in one transaction.
Both run under the ``metrics.rollup`` lease of :mod:`civicgrid.core.periodic` (one writer at a time).
"""

from __future__ import annotations

import contextlib
import logging
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from functools import reduce
from operator import or_

from django.db import connection, transaction
from django.db.models import Max, Q

from civicgrid.cases import procedures
from civicgrid.cases.models import Case, CaseEvent, CaseState, Category, ExtensionRequest, ExtensionStatus
from civicgrid.core import audit, clock, periodic
from civicgrid.core import workcalendar as wc
from civicgrid.core.errors import ValidationFailed
from civicgrid.metrics.models import (
    COUNTERS,
    CUBE_KINDS,
    DAY,
    DAY_KINDS,
    DIMENSIONS,
    MONTH,
    CaseFact,
    DailyRollup,
    RollupCube,
    RollupState,
)

log = logging.getLogger(__name__)

JOB_NAME = "metrics.rollup"
JOB_INTERVAL = 60.0
LOOKBACK = timedelta(minutes=5)
BATCH = 2000
GOOD_RATINGS = ("satisfied", "basic")

CASE_FIELDS = (
    "id",
    "street_id",
    "community_id",
    "grid_id",
    "department_id",
    "category_id",
    "source",
    "procedure",
    "state",
    "created_at",
    "accepted_at",
    "dispatched_at",
    "closed_at",
    "is_overdue",
    "rating",
    "rework_count",
)


def local_day(dt: datetime) -> date:
    return clock.to_local(dt).date()


def done_states(procedure: str) -> frozenset[str]:
    """The 办结 group of ``procedure`` (an unknown, unregistered procedure: none, as ``group_q("done")``)."""
    try:
        return procedures.get(procedure).done
    except ValidationFailed:
        return frozenset()


def sign_due(dispatched_at: datetime, amount: int, unit: str) -> datetime:
    """The latest 签收 that counts as 响应: the category's 派遣时限 counted from the 派遣."""
    return wc.compute_due(dispatched_at, amount, unit).due


def contributions(
    row: dict, *, signed_at: datetime | None, extended: bool, limit: tuple[int, str] | None
) -> dict[str, dict[str, int]]:
    """What one case adds to which day: ``{"YYYY-MM-DD": {counter: n}}`` (docs/metrics.md §口径).

    ``row`` holds :data:`CASE_FIELDS`; ``signed_at`` is the first 签收 at or after the last 派遣; ``extended``
    whether any 延期 was approved; ``limit`` the category's 派遣时限 (amount, unit)."""
    state = row["state"]
    if state == CaseState.VOIDED:
        return {}
    days: dict[str, Counter] = defaultdict(Counter)

    created = days[local_day(row["created_at"]).isoformat()]
    created["received"] += 1
    created["received_grid"] += row["source"] == "grid_patrol"
    created["merged"] += state == CaseState.MERGED
    created["rejected"] += state == CaseState.REJECTED

    done = state in done_states(row["procedure"]) and row["closed_at"] is not None
    if row["accepted_at"] is not None and state != CaseState.MERGED:
        accepted = days[local_day(row["accepted_at"]).isoformat()]
        accepted["accepted"] += 1
        accepted["accepted_done"] += done

    if row["dispatched_at"] is not None:
        dispatched = days[local_day(row["dispatched_at"]).isoformat()]
        dispatched["dispatched"] += 1
        if signed_at is not None and limit is not None:
            dispatched["responded"] += signed_at <= sign_due(row["dispatched_at"], *limit)

    if done:
        closed = days[local_day(row["closed_at"]).isoformat()]
        closed["done"] += 1
        closed["done_on_time"] += not row["is_overdue"]
        closed["rated"] += bool(row["rating"])
        closed["rated_satisfied"] += row["rating"] == "satisfied"
        closed["rated_basic"] += row["rating"] == "basic"
        closed["reworked"] += row["rework_count"] > 0
        closed["extended"] += extended
        if row["accepted_at"] is not None and row["closed_at"] >= row["accepted_at"]:
            closed["handle_n"] += 1
            closed["handle_seconds"] += int((row["closed_at"] - row["accepted_at"]).total_seconds())
    return {day: {k: int(v) for k, v in c.items() if v} for day, c in days.items()}


def _dims(row: dict) -> tuple:
    return tuple(row[d] or (0 if d.endswith("_id") else "") for d in DIMENSIONS)


def compute_facts(case_ids: Iterable[int]) -> dict[int, tuple[tuple, dict]]:
    """``{case_id: (dims, contributions)}`` for the existing cases among ``case_ids``."""
    ids = list(case_ids)
    if not ids:
        return {}
    rows = list(Case.objects.filter(pk__in=ids).order_by().values(*CASE_FIELDS))
    dispatched = {r["id"]: r["dispatched_at"] for r in rows if r["dispatched_at"] is not None}
    signed: dict[int, datetime] = {}
    if dispatched:
        for case_id, at in (
            CaseEvent.objects.filter(case_id__in=list(dispatched), move="sign")
            .order_by("case_id", "at")
            .values_list("case_id", "at")
        ):
            if at >= dispatched[case_id] and case_id not in signed:
                signed[case_id] = at
    extended = set(
        ExtensionRequest.objects.filter(case_id__in=ids, status=ExtensionStatus.APPROVED)
        .order_by()
        .values_list("case_id", flat=True)
        .distinct()
    )
    cat_ids = {r["category_id"] for r in rows if r["category_id"]}
    limits = {
        pk: (amount, unit)
        for pk, amount, unit in Category.objects.filter(pk__in=cat_ids).values_list(
            "pk", "dispatch_limit_amount", "dispatch_limit_unit"
        )
    }
    return {
        r["id"]: (
            _dims(r),
            contributions(
                r,
                signed_at=signed.get(r["id"]),
                extended=r["id"] in extended,
                limit=limits.get(r["category_id"]),
            ),
        )
        for r in rows
    }


def _deltas(old: tuple | None, new: tuple | None, out: dict) -> None:
    """Add (new − old) contributions into ``out``: ``{(day, dims): Counter}``."""
    for sign, fact in ((-1, old), (1, new)):
        if fact is None:
            continue
        dims, days = fact
        for day, counts in days.items():
            c = out.setdefault((day, dims), Counter())
            for k, v in counts.items():
                c[k] += sign * v


def _upsert_sql(model, key: list[str]) -> str:
    q = connection.ops.quote_name
    table = q(model._meta.db_table)
    cols = [*key, *COUNTERS]
    adds = ", ".join(f"{q(c)} = {table}.{q(c)} + excluded.{q(c)}" for c in COUNTERS)
    return (
        f"INSERT INTO {table} ({', '.join(map(q, cols))}) VALUES ({', '.join(['%s'] * len(cols))}) "
        f"ON CONFLICT ({', '.join(map(q, key))}) DO UPDATE SET {adds}"
    )


ROLLUP_KEY = ["day", *DIMENSIONS]
CUBE_KEY = ["kind", "level", "street_id", "day", "procedure", "key"]
_DIM_INDEX = {d: i for i, d in enumerate(DIMENSIONS)}


def cube_key_value(col: str, value) -> str:
    """A rollup dimension's value as ``RollupCube.key`` (text)."""
    return "" if not col else str(value if value is not None else (0 if col.endswith("_id") else ""))


def _cube_deltas(deltas: dict) -> dict:
    """The rollup deltas ``{(day, dims): Counter}`` summed into the coarse rollup's keys (:data:`CUBE_KEY`)."""
    out: dict = {}
    for (day, dims), c in deltas.items():
        d = date.fromisoformat(day)
        street, proc = dims[_DIM_INDEX["street_id"]], dims[_DIM_INDEX["procedure"]]
        for kind, col in CUBE_KINDS.items():
            key = cube_key_value(col, dims[_DIM_INDEX[col]] if col else None)
            levels = (
                ((DAY, d), (MONTH, d.replace(day=1))) if kind in DAY_KINDS else ((MONTH, d.replace(day=1)),)
            )
            for level, start in levels:
                acc = out.setdefault((kind, level, street, start, proc, key), Counter())
                for k, v in c.items():
                    acc[k] += v
    return {k: c for k, c in out.items() if any(c.values())}


def _apply(deltas: dict, *, fresh: bool = False) -> int:
    """Add ``deltas`` to the daily rollup and the coarse one: one ``INSERT … ON CONFLICT DO UPDATE SET n = n +
    excluded.n`` per key (SQLite ≥ 3.24 and PostgreSQL alike), then drop the touched rows that fell to all zero
    (``fresh``: a rebuild, only additions — nothing can fall; the coarse rollup is built after, set-based)."""
    deltas = {k: c for k, c in deltas.items() if any(c.values())}
    if not deltas:
        return 0
    params = [
        [date.fromisoformat(day), *dims, *(c.get(k, 0) for k in COUNTERS)]
        for (day, dims), c in sorted(deltas.items())
    ]
    cube = {} if fresh else _cube_deltas(deltas)
    cube_params = [[*key, *(c.get(k, 0) for k in COUNTERS)] for key, c in sorted(cube.items())]
    with connection.cursor() as cursor:
        cursor.executemany(_upsert_sql(DailyRollup, ROLLUP_KEY), params)
        if cube_params:
            cursor.executemany(_upsert_sql(RollupCube, CUBE_KEY), cube_params)
    if fresh:
        return len(deltas)
    negative = reduce(or_, (Q(**{f"{k}__lt": 0}) for k in COUNTERS))
    zero = {k: 0 for k in COUNTERS}
    touched = DailyRollup.objects.filter(day__in=sorted({p[0] for p in params}))
    cube_touched = RollupCube.objects.filter(day__in=sorted({k[3] for k in cube}))
    if touched.filter(negative).exists() or cube_touched.filter(negative).exists():  # a bug: never kept
        raise RuntimeError("a rollup counter fell below zero: run `civicgrid stats rebuild`")
    touched.filter(**zero).delete()
    cube_touched.filter(**zero).delete()
    return len(deltas)


def _month_sql(col: str) -> str:
    if connection.vendor == "postgresql":
        return f"date_trunc('month', {col})::date"
    return f"date({col}, 'start of month')"


def _bulk(cursor, table: str):
    if connection.vendor == "postgresql":
        from civicgrid.metrics.sqlrollup import without_indexes

        return without_indexes(cursor, table)
    return contextlib.nullcontext()


def rebuild_cube() -> int:
    """Refill the coarse rollup from the daily one (set-based: the days of :data:`DAY_KINDS`, then every
    grouping's months)."""
    q = connection.ops.quote_name
    rollup, cube = q(DailyRollup._meta.db_table), q(RollupCube._meta.db_table)
    cols = ", ".join(map(q, [*CUBE_KEY, *COUNTERS]))
    sums = ", ".join(f"SUM({q(k)})" for k in COUNTERS)
    month = _month_sql("day")
    RollupCube.objects.all().delete()

    def key_of(col: str) -> str:
        return "''" if not col else (f"CAST({q(col)} AS TEXT)" if col.endswith("_id") else q(col))

    with connection.cursor() as cursor, _bulk(cursor, RollupCube._meta.db_table):
        if connection.vendor == "postgresql":  # every grouping's months in one scan of the daily rollup
            kinds = {k: c for k, c in CUBE_KINDS.items() if c}
            kind = " ".join(f"WHEN GROUPING({q(c)}) = 0 THEN '{k}'" for k, c in kinds.items())
            key = " ".join(f"WHEN GROUPING({q(c)}) = 0 THEN {key_of(c)}" for c in kinds.values())
            sets = ", ".join(["()", *(f"({q(c)})" for c in kinds.values())])
            cursor.execute(
                f"INSERT INTO {cube} ({cols}) SELECT CASE {kind} ELSE '' END, %s, street_id, {month}, "
                f"{q('procedure')}, CASE {key} ELSE '' END, {sums} FROM {rollup} "
                f"GROUP BY street_id, {month}, {q('procedure')}, GROUPING SETS ({sets})",
                [MONTH],
            )
        for kind, col in CUBE_KINDS.items():
            key = key_of(col)
            group = "" if not col else f", {q(col)}"
            for level, day in ((DAY, "day"), (MONTH, month)):
                if (level == DAY and kind not in DAY_KINDS) or (
                    level == MONTH and connection.vendor == "postgresql"
                ):
                    continue
                cursor.execute(
                    f"INSERT INTO {cube} ({cols}) SELECT %s, %s, street_id, {day}, {q('procedure')}, {key}, "
                    f"{sums} FROM {rollup} GROUP BY street_id, {day}, {q('procedure')}{group}",
                    [kind, level],
                )
    return RollupCube.objects.count()


def _sync(case_ids: Iterable[int], *, fresh: bool = False) -> dict:
    """Recompute the facts of ``case_ids`` and apply what changed; returns counts (``fresh``: the facts and
    the rollup are empty, as in a rebuild)."""
    ids = sorted(set(case_ids))
    changed = touched = 0
    for i in range(0, len(ids), BATCH):
        chunk = ids[i : i + BATCH]
        new = compute_facts(chunk)
        old = (
            {}
            if fresh
            else {
                f.case_id: (tuple(getattr(f, d) for d in DIMENSIONS), f.days)
                for f in CaseFact.objects.filter(case_id__in=chunk)
            }
        )
        deltas: dict = {}
        upsert, gone = [], []
        for case_id in chunk:
            o, n = old.get(case_id), new.get(case_id)
            if o == n:
                continue
            changed += 1
            _deltas(o, n, deltas)
            if n is None:
                gone.append(case_id)
            else:
                dims, days = n
                upsert.append(
                    CaseFact(case_id=case_id, days=days, **dict(zip(DIMENSIONS, dims, strict=True)))
                )
        touched += _apply(deltas, fresh=fresh)
        if gone:
            CaseFact.objects.filter(case_id__in=gone).delete()
        if upsert:
            CaseFact.objects.bulk_create(
                upsert,
                update_conflicts=True,
                unique_fields=["case_id"],
                update_fields=[*DIMENSIONS, "days"],
                batch_size=500,
            )
    return {"cases": len(ids), "changed": changed, "rows": touched}


def _state() -> RollupState:
    return RollupState.objects.select_for_update().get_or_create(pk=1)[0]


def refresh() -> dict:
    """One incremental round: the cases changed since the last round, diffed and applied (one transaction)."""
    started = clock.now()
    with transaction.atomic():
        st = _state()
        max_case = Case.objects.aggregate(m=Max("pk"))["m"] or 0
        max_event = CaseEvent.objects.aggregate(m=Max("pk"))["m"] or 0
        ids = set(Case.objects.filter(pk__gt=st.last_case_id, pk__lte=max_case).values_list("pk", flat=True))
        ids.update(
            CaseEvent.objects.filter(pk__gt=st.last_event_id, pk__lte=max_event)
            .order_by()
            .values_list("case_id", flat=True)
            .distinct()
        )
        if st.updated_since is not None:
            ids.update(
                Case.objects.filter(updated_at__gte=st.updated_since - LOOKBACK).values_list("pk", flat=True)
            )
        out = _sync(ids)
        st.last_case_id, st.last_event_id = max_case, max_event
        st.updated_since = started
        st.refreshed_at = started
        st.save()
    return out


def rebuild(*, actor=None, method: str = "auto") -> dict:
    """Recompute every fact and rollup row from the cases (``civicgrid stats rebuild``), in one transaction.

    ``method``: ``"python"`` the per-case path (:func:`_sync`), ``"sql"`` the set-based one
    (:mod:`civicgrid.metrics.sqlrollup`, PostgreSQL only), ``"auto"`` the set-based one on PostgreSQL. Both
    write the same rows (tests/metrics/test_rebuild_sql.py)."""
    if method == "auto":
        method = "sql" if connection.vendor == "postgresql" else "python"
    if method not in ("python", "sql") or (method == "sql" and connection.vendor != "postgresql"):
        raise ValueError(f"unknown or unsupported rebuild method: {method}")
    started = clock.now()
    with transaction.atomic():
        st = _state()
        max_case = Case.objects.aggregate(m=Max("pk"))["m"] or 0
        max_event = CaseEvent.objects.aggregate(m=Max("pk"))["m"] or 0
        if method == "sql":  # (readers of the figures wait for the rebuild's commit)
            with connection.cursor() as cursor:
                tables = (RollupCube, DailyRollup, CaseFact)
                cursor.execute(
                    f"TRUNCATE {', '.join(connection.ops.quote_name(m._meta.db_table) for m in tables)}"
                )
        RollupCube.objects.all().delete()
        DailyRollup.objects.all().delete()
        CaseFact.objects.all().delete()
        out = {"cases": 0, "changed": 0, "rows": 0}
        if method == "sql":
            from civicgrid.metrics import sqlrollup

            sqlrollup.rebuild(max_case)
            out["cases"] = out["changed"] = CaseFact.objects.count()
            out["rows"] = DailyRollup.objects.count()
        last = 0
        while method == "python":  # by id ranges: never every id in memory at once
            ids = list(
                Case.objects.filter(pk__gt=last, pk__lte=max_case)
                .order_by("pk")
                .values_list("pk", flat=True)[:BATCH]
            )
            if not ids:
                break
            for k, v in _sync(ids, fresh=True).items():
                out[k] += v
            last = ids[-1]
        out["cube_rows"] = rebuild_cube()
        st.last_case_id, st.last_event_id = max_case, max_event
        st.updated_since = started
        st.refreshed_at = st.rebuilt_at = started
        st.save()
        out["rollup_rows"] = DailyRollup.objects.count()
        audit.record(
            actor=actor,
            action="metrics.rollup.rebuild",
            object_type="metrics.dailyrollup",
            object_repr="统计日汇总",
            after={"cases": out["cases"], "rollup_rows": out["rollup_rows"]},
        )
    return out


def refresh_job() -> dict:
    return refresh()


def run_locked(fn, **kw) -> dict | None:
    """Run ``fn`` under the job's lease (``None`` when another runner holds it)."""
    owner = periodic.claim(JOB_NAME, ttl_seconds=3600)
    if owner is None:
        return None
    try:
        return fn(**kw)
    finally:
        periodic.release(JOB_NAME, owner)
