"""Jinja filters of a report template: the number style of :mod:`civicgrid.core.zhnum` from staff's own templates
(``{{ cases.received | 约数 }}户``, ``{{ projects.plan | 亿元 }}``, ``{{ cases.done | pct(cases.received) }}``).

Every filter takes the figures of the context (:class:`Figure`: prints its text, carries its number) and plain
numbers. A missing figure, ``None`` or text that is not a number prints :data:`MISSING` — visible in the document,
never a crash. A bad argument (``约数('少')``) raises :class:`FilterArgumentError`, a template error: the upload
check and the draft name it as the user's mistake.

The filters' names, Chinese and ASCII, are listed in :data:`NAMES` (docs/reports.md has a table with examples).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation

from jinja2 import ChainableUndefined, Environment, Undefined
from jinja2.exceptions import TemplateRuntimeError

from civicgrid.core import zhnum

MISSING = "【无数据】"

# figures whose value is kept in 万元 (the 目标考核 module's unit); the money filters take 元
WAN_YUAN_KEYS = frozenset({"projects.plan", "projects.done"})


class FilterArgumentError(TemplateRuntimeError):
    """A filter called with an argument it does not take (a template error, reported to the user)."""


class Figure(str):
    """One figure in the template context: prints as its text ("1471件", exactly as before), and carries the number
    behind it for the filters — ``value``; ``previous`` (last year's, where the report has a 同比); ``ratio``
    ((numerator, denominator) of a ledger's 办结率)."""

    value: object
    previous: object
    ratio: tuple | None
    key: str

    def __new__(cls, text: str, *, key: str = "", value=None, previous=None, ratio=None):
        obj = super().__new__(cls, text)
        obj.key, obj.value, obj.previous, obj.ratio = key, value, previous, ratio
        return obj

    @property
    def is_rate(self) -> bool:
        return self.endswith("%")


def _number(x) -> Decimal | None:
    """The number behind ``x`` (a Figure, a figures.Value or its snapshot dict, a number, numeric text)."""
    if x is None or isinstance(x, Undefined):
        return None
    if isinstance(x, Figure):
        n = _number(x.value)
        if n is not None and x.key in WAN_YUAN_KEYS:
            n *= 10_000
        return n
    if isinstance(x, dict):
        return _number(x.get("value"))
    if hasattr(x, "value") and hasattr(x, "key") and hasattr(x, "text"):  # figures.Value
        return _number(x.value)
    if isinstance(x, bool):
        return None
    if isinstance(x, Decimal):
        return x if x.is_finite() else None
    if isinstance(x, int):
        return Decimal(x)
    if isinstance(x, float):
        return Decimal(repr(x)) if x == x and abs(x) != float("inf") else None
    if isinstance(x, str):
        try:
            n = Decimal(x.strip().replace(",", ""))
        except (InvalidOperation, ValueError):
            return None
        return n if n.is_finite() else None
    return None


def _date(x) -> date | None:
    if isinstance(x, date):
        return x
    if isinstance(x, str):
        try:
            return date.fromisoformat(x.strip())
        except ValueError:
            return None
    return None


def _text(out: str | None) -> str:
    return MISSING if out is None else out


def _check(name: str, ok: bool, message: str) -> None:
    if not ok:
        raise FilterArgumentError(f"过滤器“{name}”的参数有误：{message}")


def _decimals(name: str, decimals) -> int:
    _check(name, isinstance(decimals, int) and not isinstance(decimals, bool) and 0 <= decimals <= 4,
           f"小数位数应为 0–4 的整数：{decimals!r}")  # fmt: skip
    return decimals


def build(rounding: str = zhnum.HALF_UP) -> dict[str, Callable]:
    """The filters, rounding percentages the report's way (``rounding``: half_up or truncate)."""

    def approx(x, style: str = "余", digits: int = 1, unit: str = "") -> str:
        _check("约数", style in ("余", "多", "近", "exact"), f"写法应为 余、多、近 或 exact：{style!r}")
        _check("约数", isinstance(digits, int) and 1 <= digits <= 6, f"保留位数应为 1–6 的整数：{digits!r}")
        _check("约数", unit in ("", "万"), f"单位应为空或 万：{unit!r}")
        n = _number(x)
        if n is None or n < 0:
            return MISSING
        if unit == "万" and n < 10_000:
            return _text(zhnum.approx(int(n), style=style, digits=digits))  # under 1万: not written in 万
        return _text(zhnum.approx(int(n), style=style, digits=digits, unit=unit))

    def money(unit: str, name: str):
        def f(x, decimals=None) -> str:
            if decimals is not None:
                _decimals(name, decimals)
            n = _number(x)
            if n is None:
                return MISSING
            return _text(zhnum.amount(n, unit=unit, decimals=decimals, rounding=rounding))

        return f

    def pct(x, denominator=None, decimals: int = 1) -> str:
        _decimals("百分比", decimals)
        if denominator is not None:
            num, den = _number(x), _number(denominator)
            if num is None or den is None:
                return MISSING
            return _text(zhnum.rate(num, den, decimals=decimals, rounding=rounding))
        if isinstance(x, Figure) and x.ratio is not None:
            num, den = (_number(v) for v in x.ratio)
            if num is None or den is None:
                return MISSING
            return _text(zhnum.rate(num, den, decimals=decimals, rounding=rounding))
        if isinstance(x, Figure) and x.is_rate and decimals == 1:
            return str(x)  # the report's own text, rounded the report's way
        n = _number(x)
        if n is None:
            return MISSING
        return _text(zhnum.percent(n, decimals=decimals, rounding=rounding))

    def previous_of(x, before):
        if before is None and isinstance(x, Figure):
            before = x.previous
        return _number(before)

    def yoy(x, previous=None, decimals: int = 1) -> str:
        _decimals("同比", decimals)
        now, before = _number(x), previous_of(x, previous)
        if now is None or before is None:
            return MISSING
        return _text(zhnum.yoy(now, before, decimals=decimals, rounding=rounding))

    def mom(x, previous=None, decimals: int = 1) -> str:
        _decimals("环比", decimals)
        now, before = _number(x), _number(previous)
        if now is None or before is None:
            return MISSING
        return _text(zhnum.yoy(now, before, decimals=decimals, rounding=rounding, prefix="环比"))

    def trend(x, previous=None) -> str:
        now, before = _number(x), previous_of(x, previous)
        if now is None or before is None:
            return MISSING
        return _text(zhnum.trend(now, before))

    def period(start, end=None, with_year: bool = False) -> str:
        a, b = _date(start), _date(end if end is not None else start)
        if a is None or b is None or b < a:
            return MISSING
        return zhnum.period_label(a, b, with_year=bool(with_year))

    def num(x, decimals=None) -> str:
        if decimals is not None:
            _decimals("数值", decimals)
        n = _number(x)
        if n is None:
            return MISSING
        if decimals is None:
            text = f"{n.normalize():f}" if n != n.to_integral_value() else f"{n.to_integral_value():f}"
            return text
        return zhnum.percent(n, decimals=decimals, rounding=rounding)[:-1]

    def when_zero(x, phrase: str = "") -> str:
        _check(
            "为零",
            isinstance(phrase, str) and phrase != "",
            "请给出为零时写的短语，如 为零('已全部完成整改')",
        )
        n = _number(x)
        if n is None:
            return MISSING
        return zhnum.when_zero(int(n), phrase) or ""

    def when_all(x, total=None, phrase: str = "") -> str:
        _check(
            "全部", isinstance(phrase, str) and phrase != "", "请给出总数和短语，如 全部(总数, '已全部办结')"
        )
        done, whole = _number(x), _number(total)
        if done is None or whole is None:
            return MISSING
        return zhnum.when_all(done, whole, phrase) or ""

    amount = money("auto", "金额")
    yi, wan, yuan = money("亿元", "亿元"), money("万元", "万元"), money("元", "元")
    return {
        "约数": approx, "approx": approx,
        "金额": amount, "amount": amount, "亿元": yi, "yi": yi, "万元": wan, "wan": wan, "元": yuan, "yuan": yuan,
        "百分比": pct, "pct": pct,
        "同比": yoy, "yoy": yoy, "环比": mom, "mom": mom, "升降": trend, "trend": trend,
        "统计期": period, "period": period,
        "数值": num, "num": num,
        "为零": when_zero, "when_zero": when_zero, "全部": when_all, "when_all": when_all,
    }  # fmt: skip


NAMES = tuple(build())


def environment(rounding: str = zhnum.HALF_UP) -> Environment:
    """The Jinja environment a report renders in: autoescaped, with the filters. A figure that is not there
    (``ledgers.petitions.registered`` in a period without 信访) prints nothing, as a missing name always did, rather
    than failing the whole draft; the filters print :data:`MISSING` for it."""
    env = Environment(autoescape=True, undefined=ChainableUndefined)
    env.filters.update(build(rounding))
    return env
