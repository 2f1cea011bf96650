"""The pure arithmetic of 行政问效 (no database): the weighted composite over rates that may be missing, the
ranking with ties and small samples, and the 红/黑榜 cut. docs/evaluation.md states the same rules in Chinese.

- :func:`composite`: Σ wᵢ·rᵢ ÷ Σ wᵢ over the rates that exist (a rate is ``None`` when its denominator is 0:
  e.g. no case was rated); the weights of the missing rates are left out (re-normalised), the row says which rates
  were missing; no rate at all → ``None``.
- :func:`rank_rows`: rows with a composite and at least ``min_cases`` in their sample are ranked by composite
  (high first), an equal composite (to 0.1) by the larger sample (more work done); rows equal in both share a
  rank (1, 2, 2, 4 — competition ranking), listed by key; the others are listed apart with the reason.
- :func:`cut`: the 红榜 is the rows ranked 1..N (ties at the edge included), the 黑榜 the rows whose rank counted
  from the bottom is 1..N (ties included), never a row already on the 红榜.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

RATE_LABELS = {"response_rate": "响应率", "resolve_rate": "解决率", "satisfaction_rate": "满意率"}
WEIGHT_OF = {
    "response_rate": "w_response",
    "resolve_rate": "w_resolve",
    "satisfaction_rate": "w_satisfaction",
}
WEIGHT_LABELS = {"w_response": "响应率权重", "w_resolve": "解决率权重", "w_satisfaction": "满意率权重"}

TOO_FEW = "too_few"
NO_FIGURE = "no_figure"
APART_LABELS = {TOO_FEW: "样本不足", NO_FIGURE: "无可用比率"}


def composite(
    rates: Mapping[str, float | None], weights: Mapping[str, int | float]
) -> tuple[float | None, list]:
    """(Σ wᵢ·rᵢ ÷ Σ wᵢ over the present rates rounded to 0.1 — or ``None`` —, the names of the missing rates).
    ``rates`` and ``weights`` are keyed alike (e.g. ``response_rate`` / ``w_response`` through WEIGHT_OF, or
    directly by the same key)."""
    num = den = 0.0
    missing = []
    for name, rate in rates.items():
        w = weights.get(WEIGHT_OF.get(name, name), 0) or 0
        if rate is None:
            if w:
                missing.append(name)
            continue
        num += w * rate
        den += w
    if not den:
        return None, missing
    return round(num / den, 1), missing


def ratio(numerator: int, denominator: int) -> float | None:
    """100 × n ÷ d rounded to 0.1; ``None`` when d is 0 (shown “—”, never 0)."""
    return round(100 * numerator / denominator, 1) if denominator else None


def _merit(row: dict) -> tuple:
    return (row["score"], row["sample"])


def rank_rows(rows: Sequence[dict], *, min_cases: int) -> tuple[list[dict], list[dict]]:
    """(ranked rows with ``rank``, rows listed apart with ``apart`` = too_few | no_figure). Each row has ``key``,
    ``score`` (the composite or None) and ``sample`` (its case count)."""
    ranked, apart = [], []
    for row in rows:
        if row["score"] is None:
            apart.append({**row, "rank": None, "apart": NO_FIGURE})
        elif row["sample"] < min_cases:
            apart.append({**row, "rank": None, "apart": TOO_FEW})
        else:
            ranked.append(dict(row))
    ranked.sort(key=lambda r: (-r["score"], -r["sample"], str(r["key"])))
    previous, rank = None, 0
    for i, row in enumerate(ranked, start=1):
        if _merit(row) != previous:
            rank, previous = i, _merit(row)
        row["rank"] = rank
    apart.sort(key=lambda r: (r["apart"], -r["sample"], str(r["key"])))
    return ranked, apart


def cut(ranked: Sequence[dict], size: int) -> tuple[list, list]:
    """(keys on the 红榜, keys on the 黑榜) of ``ranked`` (best first, with ``rank``)."""
    red = [r["key"] for r in ranked if r["rank"] <= size]
    black = []
    # the rank counted from the worst (competition ranking: ties share the place)
    for row in ranked:
        from_bottom = sum(1 for r in ranked if _merit(r) < _merit(row)) + 1
        if from_bottom <= size and row["key"] not in red:
            black.append(row["key"])
    black.reverse()  # worst first
    return red, black
