"""Ledger summaries for the 指挥中心: each ledger app (安全隐患, 矛盾纠纷, 信访, 综合执法, 舆情, 巡查打卡 …)
registers one callable from its ``apps.py`` ``ready()``; the dashboards read :func:`summaries` and never import
the ledger apps (they sit beside them in the apps layer).

A provider is ``fn(*, user, start, end) -> list[Figure] | None`` over the whole days [start, end], scoped to
``user`` by the ledger's own selectors; ``None`` (or raising :class:`~civicgrid.core.errors.PermissionDenied`)
means the user may not see that ledger, and it is left out.

A provider whose figures add up over the 街道 of a 区 (counted over the user's tier: a 区 account's figures are
the sum of its 街道) is registered as it is; one whose figures hold for one 街道 only registers with
``district=False`` and is left out of 区-wide summaries (``summaries(..., district=True)``, e.g. a 区 report).
A rate may carry its ``numerator`` and ``denominator`` so that a reader can write it with its own rounding rule.

:func:`case_ledger` is the common summary of a ledger kept as cases of its own 办理程序 (登记 / 办结 in the
period, 在办 now) — the same period rules as the case figures (docs/metrics.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

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
    numerator: int | float | None = None  # a rate's parts (unit "%"), when the provider gives them
    denominator: int | float | None = None


@dataclass(frozen=True)
class Provider:
    code: str
    label: str
    fn: Callable[..., list[Figure] | None]
    url: str = ""  # the ledger's page (a path), linked from the dashboard
    order: int = 100
    district: bool = True  # False: the figures hold for one 街道 only (left out of 区-wide summaries)


@dataclass
class _Registry:
    providers: dict[str, Provider] = field(default_factory=dict)


_REGISTRY = _Registry()


def register(
    code: str,
    label: str,
    fn: Callable[..., list[Figure] | None],
    *,
    url: str = "",
    order: int = 100,
    district: bool = True,
):
    """Register (or replace) the summary of the ledger ``code`` (``district=False``: per 街道 only)."""
    _REGISTRY.providers[code] = Provider(
        code=code, label=label, fn=fn, url=url, order=order, district=district
    )


def unregister(code: str) -> None:
    _REGISTRY.providers.pop(code, None)


def providers() -> list[Provider]:
    return sorted(_REGISTRY.providers.values(), key=lambda p: (p.order, p.code))


def summaries(*, user, start: date, end: date, district: bool = False) -> list[dict]:
    """``[{code, label, url, figures: [{label, value, unit, key, formula, numerator, denominator}]}]`` of every
    ledger ``user`` may see; ``district``: only the ledgers whose figures add up over a 区."""
    out = []
    for p in providers():
        if district and not p.district:
            continue
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
                    {
                        "label": f.label,
                        "value": f.value,
                        "unit": f.unit,
                        "key": f.key,
                        "formula": f.formula,
                        "numerator": f.numerator,
                        "denominator": f.denominator,
                    }  # fmt: skip
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


# --- alerts (预警) ------------------------------------------------------------------------------------
# The same arrangement for the warnings the dashboards list: an app that raises warnings (督办与预警) registers
# ``fn(*, user, limit, street=None) -> AlertFeed | None`` — the newest ``limit`` open alerts ``user`` may see and
# their total, narrowed to ``street`` (a places.Street) when the 区 screen is narrowed; ``None`` (or raising
# PermissionDenied) when the user may not see them.


@dataclass(frozen=True)
class Alert:
    title: str
    message: str
    at: datetime  # when it was raised (aware)
    url: str = ""  # its own page
    level: str = "warning"  # a Bootstrap colour: danger / warning / info …
    tag: str = ""  # the rule's label, e.g. 突增预警


@dataclass(frozen=True)
class AlertFeed:
    total: int
    items: list[Alert]


@dataclass(frozen=True)
class AlertProvider:
    code: str
    label: str
    fn: Callable[..., AlertFeed | None]
    url: str = ""  # the full list (a path)
    order: int = 100


_ALERTS: dict[str, AlertProvider] = {}


def register_alerts(
    code: str, label: str, fn: Callable[..., AlertFeed | None], *, url: str = "", order: int = 100
) -> None:
    """Register (or replace) the open alerts of ``code``."""
    _ALERTS[code] = AlertProvider(code=code, label=label, fn=fn, url=url, order=order)


def unregister_alerts(code: str) -> None:
    _ALERTS.pop(code, None)


def alert_providers() -> list[AlertProvider]:
    return sorted(_ALERTS.values(), key=lambda p: (p.order, p.code))


def alerts(*, user, limit: int = 10, street=None) -> list[dict]:
    """``[{code, label, url, total, items: [{title, message, at, url, level, tag}]}]`` of every alert source
    ``user`` may see (``at`` as local "YYYY-MM-DD HH:MM"); empty when none is registered or none is visible."""
    out = []
    for p in alert_providers():
        try:
            feed = p.fn(user=user, limit=limit, street=street)
        except PermissionDenied:
            continue
        if feed is None:
            continue
        out.append(
            {
                "code": p.code,
                "label": p.label,
                "url": p.url,
                "total": feed.total,
                "items": [
                    {
                        "title": a.title,
                        "message": a.message,
                        "at": timezone.localtime(a.at).strftime("%Y-%m-%d %H:%M"),
                        "url": a.url,
                        "level": a.level,
                        "tag": a.tag,
                    }
                    for a in feed.items[:limit]
                ],
            }
        )
    return out
