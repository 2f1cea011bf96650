"""Ledger summaries for the 指挥中心: each ledger app (安全隐患, 矛盾纠纷, 信访, 综合执法, 舆情, 巡查打卡 …)
registers one callable from its ``apps.py`` ``ready()``; the dashboards read :func:`summaries` and never import
the ledger apps (they sit beside them in the apps layer).

A provider is ``fn(*, user, start, end) -> list[Figure] | None`` over the whole days [start, end], scoped to
``user`` by the ledger's own selectors; ``None`` (or raising :class:`~civicgrid.core.errors.PermissionDenied`)
means the user may not see that ledger, and it is left out.

:func:`case_ledger` is the common summary of a ledger kept as cases of its own 办理程序 (登记 / 办结 in the
period, 在办 now) — the same period rules as the case figures (docs/metrics.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, Q, QuerySet

from civicgrid.cases import procedures
from civicgrid.cases.models import CaseState
from civicgrid.core.errors import PermissionDenied
from civicgrid.metrics.selectors import bounds


@dataclass(frozen=True)
class Figure:
    label: str
    value: int | float | None
    unit: str = "件"
    key: str = ""  # a stable name for reports' placeholders (e.g. "registered"); the label otherwise
    formula: str = ""  # how it is counted, in words (the work report's appendix lists it)


@dataclass(frozen=True)
class Provider:
    code: str
    label: str
    fn: Callable[..., list[Figure] | None]
    url: str = ""  # the ledger's page (a path), linked from the dashboard
    order: int = 100


@dataclass
class _Registry:
    providers: dict[str, Provider] = field(default_factory=dict)


_REGISTRY = _Registry()


def register(
    code: str, label: str, fn: Callable[..., list[Figure] | None], *, url: str = "", order: int = 100
):
    """Register (or replace) the summary of the ledger ``code``."""
    _REGISTRY.providers[code] = Provider(code=code, label=label, fn=fn, url=url, order=order)


def unregister(code: str) -> None:
    _REGISTRY.providers.pop(code, None)


def providers() -> list[Provider]:
    return sorted(_REGISTRY.providers.values(), key=lambda p: (p.order, p.code))


def summaries(*, user, start: date, end: date) -> list[dict]:
    """``[{code, label, url, figures: [{label, value, unit}]}]`` of every ledger ``user`` may see."""
    out = []
    for p in providers():
        try:
            figures = p.fn(user=user, start=start, end=end)
        except PermissionDenied:
            continue
        if figures is None:
            continue
        out.append(
            {
                "code": p.code,
                "label": p.label,
                "url": p.url,
                "figures": [
                    {"label": f.label, "value": f.value, "unit": f.unit, "key": f.key, "formula": f.formula}
                    for f in figures
                ],
            }
        )
    return out


def case_ledger(qs: QuerySet, start: date, end: date) -> list[Figure]:
    """登记 (created in the period), 办结 (closed in the period, in its procedure's 办结 group), 在办 (open now)
    over a ledger's visible cases ``qs``; 作废 excluded."""
    lo, hi = bounds(start, end)
    row = qs.exclude(state=CaseState.VOIDED).aggregate(
        registered=Count("pk", filter=Q(created_at__gte=lo, created_at__lt=hi)),
        registered_done=Count(
            "pk", filter=Q(created_at__gte=lo, created_at__lt=hi) & procedures.group_q("done")
        ),
        done=Count("pk", filter=procedures.group_q("done") & Q(closed_at__gte=lo, closed_at__lt=hi)),
        open=Count("pk", filter=procedures.group_q("open")),
    )
    return [
        Figure(
            "期内登记", row["registered"] or 0, key="registered", formula="期内登记（创建）的件数，不含作废"
        ),
        Figure(
            "期内办结",
            row["done"] or 0,
            key="done",
            formula="期内办结（办结时间在期内、处于办理程序的办结状态）的件数，不含作废",
        ),
        Figure("当前在办", row["open"] or 0, key="open", formula="统计时仍在办理（未办结）的件数，不含作废"),
        Figure(
            "期内登记已办结",
            row["registered_done"] or 0,
            key="registered_done",
            formula="期内登记的件数中，统计时已办结的件数（“受理X件、办结Y件、办结率Y/X”的Y）",
        ),
    ]
