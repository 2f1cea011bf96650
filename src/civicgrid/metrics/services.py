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
from civicgrid.metrics.models import COUNTERS, DIMENSIONS, CaseFact, DailyRollup, RollupState

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


def _upsert_sql() -> str:
    q = connection.ops.quote_name
    table = q(DailyRollup._meta.db_table)
    cols = ["day", *DIMENSIONS, *COUNTERS]
    adds = ", ".join(f"{q(c)} = {table}.{q(c)} + excluded.{q(c)}" for c in COUNTERS)
    return (
        f"INSERT INTO {table} ({', '.join(map(q, cols))}) VALUES ({', '.join(['%s'] * len(cols))}) "
        f"ON CONFLICT ({', '.join(map(q, ['day', *DIMENSIONS]))}) DO UPDATE SET {adds}"
    )


def _apply(deltas: dict, *, fresh: bool = False) -> int:
    """Add ``deltas`` to the rollup: one ``INSERT … ON CONFLICT DO UPDATE SET n = n + excluded.n`` per key
    (SQLite ≥ 3.24 and PostgreSQL alike), then drop the touched days' rows that fell to all zero (``fresh``: a
    rebuild, only additions — nothing can fall)."""
    deltas = {k: c for k, c in deltas.items() if any(c.values())}
    if not deltas:
        return 0
    params = [
        [date.fromisoformat(day), *dims, *(c.get(k, 0) for k in COUNTERS)]
        for (day, dims), c in sorted(deltas.items())
    ]
    days = sorted({p[0] for p in params})
    with connection.cursor() as cursor:
        cursor.executemany(_upsert_sql(), params)
    if fresh:
        return len(deltas)
    touched = DailyRollup.objects.filter(day__in=days)
    if touched.filter(reduce(or_, (Q(**{f"{k}__lt": 0}) for k in COUNTERS))).exists():  # a bug: never kept
        raise RuntimeError("a rollup counter fell below zero: run `civicgrid stats rebuild`")
    touched.filter(**{k: 0 for k in COUNTERS}).delete()
    return len(deltas)


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


def rebuild(*, actor=None) -> dict:
    """Recompute every fact and rollup row from the cases (``civicgrid stats rebuild``), in one transaction."""
    started = clock.now()
    with transaction.atomic():
        st = _state()
        max_case = Case.objects.aggregate(m=Max("pk"))["m"] or 0
        max_event = CaseEvent.objects.aggregate(m=Max("pk"))["m"] or 0
        DailyRollup.objects.all().delete()
        CaseFact.objects.all().delete()
        out = {"cases": 0, "changed": 0, "rows": 0}
        last = 0
        while True:  # by id ranges: never every id in memory at once
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
