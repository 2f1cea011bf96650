"""The same counters as the rollup, counted directly over the cases (no rollup): the reference the rollup is
tested against (tests/metrics/test_rollup_property.py) and the naive baseline of bench/bench_stats.py.

An independent implementation on purpose: ORM aggregates over ``Case`` per period rule, not the per-case
contributions of :mod:`civicgrid.metrics.services` (only the 派遣时限 arithmetic, :func:`services.sign_due`, is
shared: it is the work calendar's).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date

from django.db.models import Count, Exists, F, Min, OuterRef, Q, QuerySet

from civicgrid.cases import procedures
from civicgrid.cases.models import Case, CaseState, ExtensionRequest, ExtensionStatus
from civicgrid.metrics.models import COUNTERS
from civicgrid.metrics.selectors import bounds
from civicgrid.metrics.services import sign_due


def _grouped(qs: QuerySet, by: str | None, **aggs) -> list[dict]:
    if by:
        return list(qs.order_by().values(by).annotate(**aggs))
    return [qs.aggregate(**aggs)]


def counters(qs: QuerySet[Case], start: date, end: date, by: str | None = None) -> dict:
    """``{group value (None without by): {counter: n}}`` over the cases in ``qs`` for [start, end]."""
    lo, hi = bounds(start, end)
    out: dict = defaultdict(Counter)
    base = qs.exclude(state=CaseState.VOIDED)

    def add(rows):
        for r in rows:
            key = r.pop(by) if by else None
            for k, v in r.items():
                if v:
                    out[key][k] += v

    add(
        _grouped(
            base.filter(created_at__gte=lo, created_at__lt=hi),
            by,
            received=Count("pk"),
            received_grid=Count("pk", filter=Q(source="grid_patrol")),
            merged=Count("pk", filter=Q(state=CaseState.MERGED)),
            rejected=Count("pk", filter=Q(state=CaseState.REJECTED)),
        )
    )
    done_q = procedures.group_q("done") & Q(closed_at__isnull=False)
    add(
        _grouped(
            base.exclude(state=CaseState.MERGED).filter(accepted_at__gte=lo, accepted_at__lt=hi),
            by,
            accepted=Count("pk"),
            accepted_done=Count("pk", filter=done_q),
        )
    )
    dispatched = base.filter(dispatched_at__gte=lo, dispatched_at__lt=hi)
    add(_grouped(dispatched, by, dispatched=Count("pk")))
    signed = dispatched.filter(category__isnull=False).annotate(
        signed=Min("events__at", filter=Q(events__move="sign", events__at__gte=F("dispatched_at")))
    )
    for r in signed.filter(signed__isnull=False).values(
        "signed",
        "dispatched_at",
        "category__dispatch_limit_amount",
        "category__dispatch_limit_unit",
        *([by] if by else []),
    ):
        due = sign_due(
            r["dispatched_at"], r["category__dispatch_limit_amount"], r["category__dispatch_limit_unit"]
        )
        if r["signed"] <= due:
            out[r[by] if by else None]["responded"] += 1
    approved = ExtensionRequest.objects.filter(case=OuterRef("pk"), status=ExtensionStatus.APPROVED)
    done = base.filter(done_q, closed_at__gte=lo, closed_at__lt=hi)
    add(
        _grouped(
            done.annotate(ext=Exists(approved)),
            by,
            done=Count("pk"),
            done_on_time=Count("pk", filter=Q(is_overdue=False)),
            rated=Count("pk", filter=~Q(rating="")),
            rated_satisfied=Count("pk", filter=Q(rating="satisfied")),
            rated_basic=Count("pk", filter=Q(rating="basic")),
            reworked=Count("pk", filter=Q(rework_count__gt=0)),
            extended=Count("pk", filter=Q(ext=True)),
        )
    )
    timed = done.filter(accepted_at__isnull=False, closed_at__gte=F("accepted_at"))
    for r in timed.values("accepted_at", "closed_at", *([by] if by else [])):
        c = out[r[by] if by else None]
        c["handle_n"] += 1
        c["handle_seconds"] += int((r["closed_at"] - r["accepted_at"]).total_seconds())
    return {k: {name: int(c.get(name, 0)) for name in COUNTERS} for k, c in out.items() if any(c.values())}
