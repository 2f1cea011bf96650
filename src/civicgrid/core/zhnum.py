"""Numbers as a 街道's work report writes them (工作总结 style), one rule per function.

Every function takes plain numbers (int, float or Decimal; ``None`` where a figure is missing) and returns the
text, or ``None`` where the report should leave the phrase out rather than print something false (a rate over
nothing, a "已全部完成" that is not). The rules, with the report sentences they come from:

- :func:`amount` — money in 亿元/万元/元: "全年计划总投资22.12亿元", "累计发放保障金3164104元".
- :func:`percent` / :func:`rate` — "办结率达98.3%" (180/183; some offices truncate, some round: ``rounding``).
- :func:`approx` — "20000余户", "1.6万余流动人口", "400多家", "近百".
- :func:`period_label` — "1-9月", "上半年", "全年", "3-5月", "2024年3月5日至4月10日".
- :func:`yoy` / :func:`trend` — "同比增长20.4%", "同比下降5.7%", "与去年同期持平"; "升"/"降"/"平" for phrases like
  "总量降、初次化解升".
- :func:`when_all` / :func:`when_zero` — "已全部完成整改" only when every item is done; "零进京" only at zero.
"""

from __future__ import annotations

import calendar
from datetime import date
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation

Number = int | float | Decimal

HALF_UP = "half_up"  # 四舍五入 (the default)
TRUNCATE = "truncate"  # 截尾: 180/183 = 98.36… → 98.3%
_ROUNDING = {HALF_UP: ROUND_HALF_UP, TRUNCATE: ROUND_DOWN}

YI = Decimal(100_000_000)
WAN = Decimal(10_000)


def _dec(value: Number) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"not a number: {value!r}")
    # floats through their shortest repr: 0.1 stays 0.1, not 0.1000000000000000055…
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def _fixed(value: Decimal, decimals: int, rounding: str = HALF_UP, *, strip: bool = False) -> str:
    if rounding not in _ROUNDING:
        raise ValueError(f"rounding must be one of {sorted(_ROUNDING)}: {rounding!r}")
    q = Decimal(1).scaleb(-decimals) if decimals > 0 else Decimal(1)
    out = value.quantize(q, rounding=_ROUNDING[rounding])
    if out == 0:
        out = abs(out)  # never "-0.0"
    text = f"{out:f}"
    if strip and "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def amount(
    yuan: Number | None,
    *,
    unit: str = "auto",
    decimals: int | None = None,
    rounding: str = HALF_UP,
    strip: bool = False,
) -> str | None:
    """Money with its unit. ``unit``: ``"亿元"``, ``"万元"``, ``"元"`` or ``"auto"`` (亿元 from 1亿, 万元 from 1万,
    else 元). ``decimals``: 2 for 亿元 and 万元, 0 (whole yuan) for 元 unless given.

    >>> amount(2_212_000_000)
    '22.12亿元'
    >>> amount(3164104)
    '316.41万元'
    >>> amount(3164104, unit="元")
    '3164104元'
    """
    if yuan is None:
        return None
    value = _dec(yuan)
    if unit == "auto":
        unit = "亿元" if abs(value) >= YI else "万元" if abs(value) >= WAN else "元"
    if decimals is None:
        decimals = 0 if unit == "元" else 2
    if unit == "亿元":
        return _fixed(value / YI, decimals, rounding, strip=strip) + "亿元"
    if unit == "万元":
        return _fixed(value / WAN, decimals, rounding, strip=strip) + "万元"
    if unit == "元":
        return _fixed(value, decimals, rounding, strip=strip) + "元"
    raise ValueError(f"unit must be 亿元, 万元, 元 or auto: {unit!r}")


def percent(
    value: Number | None, *, decimals: int = 1, rounding: str = HALF_UP, strip: bool = False
) -> str | None:
    """A percentage given in percent units (98.36 → "98.4%"; truncated: "98.3%")."""
    if value is None:
        return None
    return _fixed(_dec(value), decimals, rounding, strip=strip) + "%"


def rate(
    numerator: Number | None,
    denominator: Number | None,
    *,
    decimals: int = 1,
    rounding: str = HALF_UP,
    strip: bool = False,
) -> str | None:
    """``numerator / denominator`` as a percentage; ``None`` over nothing (no denominator, or zero).

    >>> rate(180, 183, rounding=TRUNCATE)
    '98.3%'
    >>> rate(19.98, 22.12, decimals=2)
    '90.33%'
    """
    if numerator is None or denominator is None:
        return None
    den = _dec(denominator)
    if den == 0:
        return None
    return percent(_dec(numerator) * 100 / den, decimals=decimals, rounding=rounding, strip=strip)


# 余: a round number and something over it; 多: the same, said of a few hundred/thousand; 近: just under one.
_NEAR = ((100, "近百"), (1000, "近千"), (10_000, "近万"), (100_000, "近十万"), (1_000_000, "近百万"))


def approx(count: int | None, *, style: str = "余", digits: int = 1, unit: str = "") -> str | None:
    """An approximate count as reports write it (the noun is the caller's).

    ``style``: ``"余"`` (20345 → "20000余"), ``"多"`` (423 → "400多"), ``"近"`` (97 → "近百"; only for a count
    in the last tenth below 100, 1000, 1万, 10万, 100万 — otherwise the exact count), ``"exact"``.
    ``digits``: significant digits kept (2: 16234 → "16000余"). ``unit="万"``: in 万 (16234, digits=2 →
    "1.6万余"). A count that is already round (20000) is written as it is, with no 余/多.
    """
    if count is None:
        return None
    n = int(count)
    if n < 0:
        raise ValueError("approx() takes a count (≥ 0)")
    if style == "exact" or n < 10:
        return str(n)
    if style == "近":
        for top, word in _NEAR:
            if top * 9 // 10 <= n < top:
                return word
        return str(n)
    if style not in ("余", "多"):
        raise ValueError(f"style must be 余, 多, 近 or exact: {style!r}")
    if digits < 1:
        raise ValueError("digits must be ≥ 1")
    step = 10 ** max(len(str(n)) - digits, 0)
    base = n // step * step
    suffix = style if base < n else ""
    if unit == "万":
        if base < 10_000:
            raise ValueError("a count under 1万 is not written in 万")
        return f"{_fixed(Decimal(base) / WAN, 4, strip=True)}万{suffix}"
    if unit:
        raise ValueError(f"unit must be '' or 万: {unit!r}")
    return f"{base}{suffix}"


def period_label(start: date, end: date, *, with_year: bool = False) -> str:
    """The period as a report names it: "全年", "上半年", "下半年", "1-9月", "3月", "3-5月", or the dates.

    Whole months of one year are named by months; anything else by its days ("3月5日至4月10日", across years
    with both years). ``with_year`` puts the year first ("2024年1-9月", "2024年全年")."""
    if end < start:
        raise ValueError("the period ends before it starts")
    whole_months = (
        start.year == end.year and start.day == 1 and end.day == calendar.monthrange(end.year, end.month)[1]
    )
    year = f"{start.year}年" if with_year else ""
    if whole_months:
        a, b = start.month, end.month
        if (a, b) == (1, 12):
            return f"{year}全年"
        if (a, b) == (1, 6):
            return f"{year}上半年"
        if (a, b) == (7, 12):
            return f"{year}下半年"
        return f"{year}{a}月" if a == b else f"{year}{a}-{b}月"
    if start.year != end.year:
        return f"{start.year}年{start.month}月{start.day}日至{end.year}年{end.month}月{end.day}日"
    return f"{year}{start.month}月{start.day}日至{end.month}月{end.day}日"


def title_period(start: date, end: date) -> str:
    """The period as a report's title names it: "2025年" (a whole year), "2025年上半年", "2025年1-9月",
    "2025年3月5日至4月10日", "2024年12月1日至2025年11月25日"."""
    label = period_label(start, end, with_year=True)
    return label[: -len("全年")] if label.endswith("全年") else label


def trend(current: Number | None, previous: Number | None) -> str | None:
    """ "升", "降" or "平" (the one-character trend of phrases like "总量降、初次化解升"); None if one is missing."""
    if current is None or previous is None:
        return None
    a, b = _dec(current), _dec(previous)
    return "升" if a > b else "降" if a < b else "平"


def yoy(
    current: Number | None,
    previous: Number | None,
    *,
    decimals: int = 1,
    rounding: str = HALF_UP,
    prefix: str = "同比",
) -> str | None:
    """ "同比增长20.4%" / "同比下降5.7%" / "与去年同期持平", from the sign of the change.

    None when last year's figure is missing or zero (a growth rate over nothing is not a number). A change that
    rounds to 0.0% is written "与去年同期持平" (``prefix="环比"``: "与上期持平")."""
    if current is None or previous is None:
        return None
    a, b = _dec(current), _dec(previous)
    if b == 0:
        return None
    change = (a - b) * 100 / abs(b)
    try:
        shown = _fixed(abs(change), decimals, rounding)
    except InvalidOperation:  # pragma: no cover - absurdly large values
        return None
    if Decimal(shown) == 0:
        return "与去年同期持平" if prefix == "同比" else "与上期持平"
    return f"{prefix}{'增长' if change > 0 else '下降'}{shown}%"


def when_all(done: int | None, total: int | None, phrase: str) -> str | None:
    """``phrase`` (e.g. "已全部完成整改") only when there is something and all of it is done; else None."""
    if done is None or total is None or total <= 0:
        return None
    return phrase if done >= total else None


def when_zero(count: int | None, phrase: str) -> str | None:
    """``phrase`` (e.g. "零进京") only when the count is known and is 0; else None."""
    return phrase if count is not None and int(count) == 0 else None
