"""Working-time calendar and deadline arithmetic (自然时 / 工作时 / 工作日 / 自然日).

Which days are worked
---------------------
1. :class:`~civicgrid.core.models.CalendarOverride` rows (admin-editable) win over everything.
2. Years the ``chinesecalendar`` package covers follow its copy of the State Council notices (weekends,
   statutory holidays and 调休 adjusted workdays).
3. Any other year uses weekends only. It counts as *covered* once an admin marks it confirmed
   (:class:`~civicgrid.core.models.CalendarYear`); until then every result touching it is 暂定 (provisional).

Units
-----
- 自然时 ``natural_hours``: wall-clock hours.
- 工作时 ``working_hours``: only time inside ``settings.CIVICGRID["WORKING_HOURS"]`` on working days counts.
- 工作日 ``working_days``: due at the end of working hours of the N-th working day strictly after the
  (Asia/Shanghai) day the clock starts. Time *consumed* is measured in working seconds, like 工作时.
- 自然日 ``natural_days``: a legal period in days (民法典 第二百零一至二百零三条; 信访工作条例, 行政处罚法). The day
  the clock starts is not counted; the period's last day is day N after it and ends at 24:00. When that last
  day is a 法定休假日 (weekend or statutory holiday; a 调休 working Saturday/Sunday is *not* one), the period
  ends with the first working day after the rest. **Representation**: the due moment is the instant 24:00 of
  the last day, i.e. ``00:00`` of the following day (``2026-10-08 24:00`` is stored and printed as
  ``2026-10-09T00:00:00+08:00``); :func:`format_due` renders it as "10月8日 24:00". Time *consumed* is wall
  seconds, like 自然时, so a 挂账 pause shifts the due moment by the wall time paused.

How it is computed
------------------
Per process, each year is turned once into a table: the :class:`DayInfo` of every day, the cumulative working
microseconds at the start of each day and the list of working days. ``measure`` is then a difference of two
positions and ``advance`` a bisection, whatever the span. Integer microseconds are used throughout, so
``measure`` and ``advance`` are exact inverses.

The tables are cached per process and dropped when a calendar row is saved or deleted (signals), when the
``CIVICGRID`` setting changes, and when another server changed the rows (a cheap ``count``/``max(updated_at)``
check, at most every ``CIVICGRID["CALENDAR_RECHECK_SECONDS"]`` seconds, default 5).
"""

from __future__ import annotations

import math
import threading
import time
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from functools import lru_cache

import chinese_calendar
from chinese_calendar.constants import Holiday
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import connections, transaction
from django.db.models import Count, Max
from django.db.models.signals import post_delete, post_save

from civicgrid.core import audit, clock
from civicgrid.core.choices import DAY_UNITS, DeadlineUnit, Light
from civicgrid.core.errors import ValidationFailed
from civicgrid.core.models import CalendarOverride, CalendarYear

__all__ = [
    "DayInfo",
    "DayKind",
    "DeadlineUnit",
    "Due",
    "Light",
    "advance",
    "clear_cache",
    "compute_due",
    "format_due",
    "confirm_year",
    "day_info",
    "has_builtin_data",
    "delete_override",
    "is_workday",
    "is_year_covered",
    "light",
    "measure",
    "month_days",
    "parse_unit",
    "set_override",
    "years_needing_notice",
]

SHANGHAI = clock.SHANGHAI
US = 1_000_000  # microseconds per second
MIN_YEAR, MAX_YEAR = 1, 9999
DEFAULT_WORKING_HOURS = (("08:30", "12:00"), ("13:30", "17:30"))
DEFAULT_RECHECK_SECONDS = 5.0


class DayKind:
    WORKDAY = "workday"
    WEEKEND = "weekend"
    HOLIDAY = "holiday"
    ADJUSTED_WORKDAY = "adjusted_workday"

    LABELS = {
        "workday": "工作日",
        "weekend": "周末",
        "holiday": "节假日",
        "adjusted_workday": "调休上班",
    }


@dataclass(frozen=True)
class Due:
    due: datetime
    provisional: bool


@dataclass(frozen=True)
class DayInfo:
    date: date
    is_workday: bool
    kind: str  # 'workday' | 'weekend' | 'holiday' | 'adjusted_workday'
    name: str  # e.g. '春节'; '' for an ordinary day
    provisional: bool  # the day's year is not covered (weekend rule only)
    overridden: bool = False  # set by a CalendarOverride row

    @property
    def kind_label(self) -> str:
        return DayKind.LABELS[self.kind]


# --- input parsing --------------------------------------------------------------------------------------

_UNIT_LOOKUP = {**{u.value: u for u in DeadlineUnit}, **{str(u.label): u for u in DeadlineUnit}}


def parse_unit(text: str) -> DeadlineUnit:
    """``"working_days"`` or ``"工作日"`` → ``DeadlineUnit.WORKING_DAYS``."""
    if isinstance(text, DeadlineUnit):
        return text
    unit = _UNIT_LOOKUP.get(str(text).strip()) if text is not None else None
    if unit is None:
        choices = "、".join(f"{u.label}（{u.value}）" for u in DeadlineUnit)
        raise ValidationFailed(f"未知的时限单位“{text}”，可选：{choices}", field="unit")
    return unit


def _local(dt: datetime, name: str) -> datetime:
    if not isinstance(dt, datetime):
        raise ValidationFailed(f"参数 {name} 必须是 datetime，收到 {type(dt).__name__}", field=name)
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValidationFailed(
            f"参数 {name} 是不带时区的时间（naive datetime: {dt.isoformat()}），请传入带时区的时间",
            field=name,
        )
    return dt.astimezone(SHANGHAI)


def _amount(amount, unit: DeadlineUnit) -> Decimal:
    if isinstance(amount, bool) or not isinstance(amount, int | float | Decimal):
        raise ValidationFailed(f"时限必须是数字，收到 {amount!r}", field="amount")
    value = Decimal(repr(amount)) if isinstance(amount, float) else Decimal(amount)
    if not value.is_finite():
        raise ValidationFailed("时限必须是有限的数字", field="amount")
    if value < 0:
        raise ValidationFailed(f"时限不能为负数（{amount}）", field="amount")
    if unit in DAY_UNITS and value != value.to_integral_value():
        raise ValidationFailed(f"以{unit.label}计的时限必须是整数（{amount}）", field="amount")
    return value


def _to_us(seconds) -> int:
    if isinstance(seconds, bool) or not isinstance(seconds, int | float | Decimal):
        raise ValidationFailed(f"秒数必须是数字，收到 {seconds!r}", field="seconds")
    if isinstance(seconds, float) and not math.isfinite(seconds):
        raise ValidationFailed("秒数必须是有限的数字", field="seconds")
    if isinstance(seconds, Decimal):
        if not seconds.is_finite():
            raise ValidationFailed("秒数必须是有限的数字", field="seconds")
        us = int((seconds * US).to_integral_value(ROUND_HALF_EVEN))
    else:
        us = round(seconds * US)
    if us < 0:
        raise ValidationFailed(f"秒数不能为负数（{seconds}）", field="seconds")
    return us


# --- working periods (settings) ---------------------------------------------------------------------------


def _parse_hhmm(text: str) -> int:
    try:
        parts = [int(p) for p in str(text).strip().split(":")]
        if len(parts) == 2:
            parts.append(0)
        h, m, s = parts
    except ValueError:
        raise ImproperlyConfigured(f'CIVICGRID["WORKING_HOURS"]: 无法解析的时间 {text!r}（格式 HH:MM）')
    if not (0 <= m < 60 and 0 <= s < 60 and (0 <= h < 24 or (h, m, s) == (24, 0, 0))):
        raise ImproperlyConfigured(f'CIVICGRID["WORKING_HOURS"]: 无效的时间 {text!r}')
    return ((h * 60 + m) * 60 + s) * US


@lru_cache(maxsize=16)
def _parse_periods(spec: tuple[tuple[str, str], ...]) -> tuple[tuple[int, int], ...]:
    periods = tuple((_parse_hhmm(a), _parse_hhmm(b)) for a, b in spec)
    if not periods:
        raise ImproperlyConfigured('CIVICGRID["WORKING_HOURS"] 不能为空')
    previous_end = 0
    for start, end in periods:
        if start >= end or start < previous_end:
            raise ImproperlyConfigured(
                'CIVICGRID["WORKING_HOURS"] 的时段必须按时间先后排列、互不重叠且开始早于结束'
            )
        previous_end = end
    return periods


def _periods() -> tuple[tuple[int, int], ...]:
    spec = settings.CIVICGRID.get("WORKING_HOURS") or DEFAULT_WORKING_HOURS
    return _parse_periods(tuple((str(a), str(b)) for a, b in spec))


def _worked_before(tod_us: int, periods) -> int:
    """Working microseconds of a working day before time-of-day ``tod_us``."""
    total = 0
    for start, end in periods:
        if tod_us <= start:
            break
        total += min(tod_us, end) - start
    return total


def _tod_at(worked_us: int, periods) -> int:
    """The earliest time of day at which ``worked_us`` (0 < worked_us <= day total) working µs have elapsed."""
    for start, end in periods:
        length = end - start
        if worked_us <= length:
            return start + worked_us
        worked_us -= length
    raise AssertionError("worked_us exceeds the working day")  # callers never ask for more


def _at(d: date, tod_us: int) -> datetime:
    return datetime.combine(d, dtime(0), tzinfo=SHANGHAI) + timedelta(microseconds=tod_us)


# --- day classification -------------------------------------------------------------------------------------

_CC_NAMES = {h.value: h.chinese for h in Holiday}


@lru_cache(maxsize=512)
def _cc_supports(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


@lru_cache(maxsize=8192)
def _cc_day(d: date) -> tuple[bool, str, str]:
    """(is_workday, kind, Chinese name) from chinesecalendar; only for supported years."""
    on_holiday, name = chinese_calendar.get_holiday_detail(d)
    weekend = d.weekday() >= 5
    name = _CC_NAMES.get(name, name) if name else ""
    if not on_holiday:
        return True, (DayKind.ADJUSTED_WORKDAY if weekend else DayKind.WORKDAY), name
    return False, (DayKind.HOLIDAY if name else DayKind.WEEKEND), name


def _resolve_day(snap: _Snapshot, d: date, covered: bool) -> DayInfo:
    weekend = d.weekday() >= 5
    override = snap.overrides.get(d)
    if override is not None:
        workday, name = override
        if workday:
            kind = DayKind.ADJUSTED_WORKDAY if weekend else DayKind.WORKDAY
        else:
            kind = DayKind.HOLIDAY if (name or not weekend) else DayKind.WEEKEND
        return DayInfo(d, workday, kind, name, not covered, overridden=True)
    if _cc_supports(d.year):
        workday, kind, name = _cc_day(d)
        return DayInfo(d, workday, kind, name, False)
    return DayInfo(d, not weekend, DayKind.WEEKEND if weekend else DayKind.WORKDAY, "", not covered)


# --- per-process cache ------------------------------------------------------------------------------------


@dataclass
class _YearTable:
    year: int
    covered: bool
    days: tuple[DayInfo, ...]
    cum: list[int]  # cum[i]: working µs in days [0, i) of the year; len(days) + 1 entries
    workdays: list[int]  # ordinals of the working days

    @property
    def total(self) -> int:
        return self.cum[-1]


@dataclass
class _Snapshot:
    overrides: dict[date, tuple[bool, str]]
    confirmed_years: frozenset[int]
    version: tuple
    periods: tuple[tuple[int, int], ...]
    tables: dict[int, _YearTable] = field(default_factory=dict)

    def table(self, year: int) -> _YearTable:
        tab = self.tables.get(year)
        if tab is None:
            tab = self.tables[year] = self._build(year)
        return tab

    def _build(self, year: int) -> _YearTable:
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise ValidationFailed(f"超出可计算的日期范围（{year} 年）", field="start")
        covered = _cc_supports(year) or year in self.confirmed_years
        day_us = sum(end - start for start, end in self.periods)
        first = date(year, 1, 1)
        n = (date(year + 1, 1, 1) - first).days if year < MAX_YEAR else 365
        days, cum, workdays = [], [0], []
        for i in range(n):
            info = _resolve_day(self, first + timedelta(days=i), covered)
            days.append(info)
            cum.append(cum[-1] + (day_us if info.is_workday else 0))
            if info.is_workday:
                workdays.append(info.date.toordinal())
        return _YearTable(year, covered, tuple(days), cum, workdays)


_lock = threading.RLock()
_snapshot: _Snapshot | None = None
_checked_at = 0.0
_local_state = threading.local()  # .tainted: (alias, outermost Atomic) after an uncommitted calendar write


def clear_cache() -> None:
    """Forget everything loaded from the database (the next call reloads)."""
    global _snapshot
    _snapshot = None


def _recheck_seconds() -> float:
    return float(settings.CIVICGRID.get("CALENDAR_RECHECK_SECONDS", DEFAULT_RECHECK_SECONDS))


def _db_version() -> tuple:
    o = CalendarOverride.objects.aggregate(n=Count("pk"), m=Max("updated_at"))
    y = CalendarYear.objects.aggregate(n=Count("pk"), m=Max("updated_at"))
    return (o["n"], o["m"], y["n"], y["m"])


def _load() -> _Snapshot:
    version = _db_version()  # read first: a change landing after this is seen by the next check
    overrides = {d: (w, n) for d, w, n in CalendarOverride.objects.values_list("date", "is_workday", "name")}
    confirmed = frozenset(CalendarYear.objects.filter(confirmed=True).values_list("year", flat=True))
    return _Snapshot(overrides, confirmed, version, _periods())


def _check_taint() -> None:
    """A snapshot loaded after an uncommitted calendar write is dropped once that transaction is over.

    ``on_commit`` covers commits; this covers rollbacks (e.g. between tests), which Django does not signal.
    """
    tainted = getattr(_local_state, "tainted", None)
    if tainted is None:
        return
    alias, block = tainted
    conn = connections[alias]
    if not conn.in_atomic_block or not conn.atomic_blocks or conn.atomic_blocks[0] is not block:
        _local_state.tainted = None
        clear_cache()


def _current() -> _Snapshot:
    global _snapshot, _checked_at
    _check_taint()
    snap = _snapshot
    if snap is not None:
        mono = time.monotonic()
        if mono - _checked_at < _recheck_seconds():
            return snap
        _checked_at = mono
        if _db_version() == snap.version:
            return snap
    with _lock:
        if _snapshot is not None and _snapshot is not snap:
            return _snapshot  # another thread reloaded meanwhile
        fresh = _load()
        _snapshot = fresh
        _checked_at = time.monotonic()
        return fresh


def _after_commit() -> None:
    _local_state.tainted = None
    clear_cache()


def _on_calendar_change(sender, using=None, **kwargs) -> None:
    clear_cache()
    conn = connections[using or "default"]
    if conn.in_atomic_block and conn.atomic_blocks:
        _local_state.tainted = (conn.alias, conn.atomic_blocks[0])
        transaction.on_commit(_after_commit, using=conn.alias)


def _on_setting_changed(setting, **kwargs) -> None:
    if setting == "CIVICGRID":
        clear_cache()


for _model in (CalendarOverride, CalendarYear):
    post_save.connect(_on_calendar_change, sender=_model, dispatch_uid=f"workcalendar-save-{_model.__name__}")
    post_delete.connect(
        _on_calendar_change, sender=_model, dispatch_uid=f"workcalendar-delete-{_model.__name__}"
    )
setting_changed.connect(_on_setting_changed, dispatch_uid="workcalendar-settings")


# --- positions on the working-time axis ---------------------------------------------------------------------


def _pos(snap: _Snapshot, t: datetime) -> int:
    """Working µs from the start of ``t``'s year up to ``t`` (local)."""
    tab = snap.table(t.year)
    i = t.timetuple().tm_yday - 1
    pos = tab.cum[i]
    if tab.days[i].is_workday:
        tod = ((t.hour * 60 + t.minute) * 60 + t.second) * US + t.microsecond
        pos += _worked_before(tod, snap.periods)
    return pos


def _work_us(snap: _Snapshot, a: datetime, b: datetime) -> int:
    if b < a:
        return -_work_us(snap, b, a)
    if a.year == b.year:
        return _pos(snap, b) - _pos(snap, a)
    total = snap.table(a.year).total - _pos(snap, a)
    for year in range(a.year + 1, b.year):
        total += snap.table(year).total
    return total + _pos(snap, b)


def _advance_work(snap: _Snapshot, start: datetime, us: int) -> datetime:
    """Earliest local t >= start with ``_work_us(start, t) == us``."""
    if us == 0:
        return start
    year = start.year
    tab = snap.table(year)
    target = _pos(snap, start) + us
    while target > tab.total:
        target -= tab.total
        year += 1
        tab = snap.table(year)
    i = bisect_left(tab.cum, target) - 1  # cum[i] < target <= cum[i + 1]: day i is a working day
    return _at(tab.days[i].date, _tod_at(target - tab.cum[i], snap.periods))


def _nth_workday_after(snap: _Snapshot, d0: date, n: int) -> date:
    year = d0.year
    tab = snap.table(year)
    k = bisect_right(tab.workdays, d0.toordinal())
    while True:
        available = len(tab.workdays) - k
        if n <= available:
            return date.fromordinal(tab.workdays[k + n - 1])
        n -= available
        year += 1
        tab = snap.table(year)
        k = 0


def _natural(start: datetime, us: int) -> datetime:
    try:
        return (start + timedelta(microseconds=us)).astimezone(SHANGHAI)
    except OverflowError:
        raise ValidationFailed("时限过大，超出可计算的日期范围", field="amount")


def _provisional(snap: _Snapshot, a: datetime, b: datetime) -> bool:
    lo, hi = sorted((a.year, b.year))
    return any(not snap.table(y).covered for y in range(lo, hi + 1))


def _provisional_days(snap: _Snapshot, start: datetime, due: datetime) -> bool:
    """自然日: the days looked at run from the start to the last day (``due`` is 24:00 of it, i.e. 00:00 after)."""
    last = due - timedelta(microseconds=1) if due > start else start
    return _provisional(snap, start, last.astimezone(SHANGHAI))


def _natural_days_due(snap: _Snapshot, start: datetime, n: int) -> datetime:
    """24:00 of the N-th day after ``start``'s day, or of the first working day after it when it is a rest day."""
    try:
        last = start.date() + timedelta(days=n)
        if not snap.table(last.year).days[last.timetuple().tm_yday - 1].is_workday:
            last = _nth_workday_after(snap, last, 1)
        return _at(last + timedelta(days=1), 0)
    except OverflowError:
        raise ValidationFailed("时限过大，超出可计算的日期范围", field="amount")


# --- public API -----------------------------------------------------------------------------------------------


def day_info(d: date) -> DayInfo:
    if isinstance(d, datetime):
        d = _local(d, "d").date()
    if not isinstance(d, date):
        raise ValidationFailed(f"参数 d 必须是日期，收到 {type(d).__name__}", field="date")
    tab = _current().table(d.year)
    return tab.days[d.timetuple().tm_yday - 1]


def is_workday(d: date) -> bool:
    return day_info(d).is_workday


def month_days(year: int, month: int) -> list[DayInfo]:
    """Every day of one month, in order."""
    tab = _current().table(year)
    start = date(year, month, 1).timetuple().tm_yday - 1
    end = (date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)) - timedelta(days=1)
    return list(tab.days[start : end.timetuple().tm_yday])


def has_builtin_data(year: int) -> bool:
    """The installed chinesecalendar package ships this year's State Council arrangement."""
    return _cc_supports(year)


def is_year_covered(year: int) -> bool:
    """chinesecalendar ships the year, or an admin entered and confirmed it."""
    return _cc_supports(year) or year in _current().confirmed_years


def years_needing_notice(at: datetime | None = None) -> list[int]:
    """Uncovered years an admin must enter: the current year always, the next one from October on."""
    today = _local(at, "at").date() if at is not None else clock.local_now().date()
    years = [today.year] if not is_year_covered(today.year) else []
    if today.month >= 10 and not is_year_covered(today.year + 1):
        years.append(today.year + 1)
    return years


def measure(unit: str, a: datetime, b: datetime) -> float:
    """Clock-consumed seconds from ``a`` to ``b`` (negative when ``b < a``).

    Wall seconds for 自然时 and 自然日; working seconds (inside working hours on working days) for 工作时 and
    工作日.
    """
    unit = parse_unit(unit)
    a, b = _local(a, "a"), _local(b, "b")
    if unit in (DeadlineUnit.NATURAL_HOURS, DeadlineUnit.NATURAL_DAYS):
        return ((b - a) // timedelta(microseconds=1)) / US
    return _work_us(_current(), a, b) / US


def advance(unit: str, start: datetime, seconds: float) -> Due:
    """Inverse of :func:`measure`: the earliest ``t >= start`` with ``measure(unit, start, t) == seconds``.

    For working units that is the moment the N-th working second elapses (an exact end of a working period
    stays at that end). Natural hours are never provisional: they do not depend on the calendar. 自然日 are wall
    seconds too, but provisional when a day up to the last one lies in an uncovered year (the holiday rule of
    :func:`compute_due` looked at it).
    """
    unit = parse_unit(unit)
    start = _local(start, "start")
    us = _to_us(seconds)
    if unit == DeadlineUnit.NATURAL_HOURS:
        return Due(_natural(start, us), False)
    snap = _current()
    if unit == DeadlineUnit.NATURAL_DAYS:
        due = _natural(start, us)
        return Due(due, _provisional_days(snap, start, due))
    due = _advance_work(snap, start, us)
    return Due(due, _provisional(snap, start, due))


def compute_due(start: datetime, amount: int | float | Decimal, unit: str) -> Due:
    """When a clock started at ``start`` with limit ``amount`` ``unit`` runs out (Asia/Shanghai).

    ``provisional`` is True when a day between start and due lies in a year that is not covered (for 自然日:
    between start and the period's last day, so a period ending on 12-31 does not depend on the next year).
    """
    unit = parse_unit(unit)
    start = _local(start, "start")
    value = _amount(amount, unit)
    if unit == DeadlineUnit.NATURAL_HOURS:
        us = int((value * 3600 * US).to_integral_value(ROUND_HALF_EVEN))
        return Due(_natural(start, us), False)
    snap = _current()
    if unit == DeadlineUnit.WORKING_HOURS:
        us = int((value * 3600 * US).to_integral_value(ROUND_HALF_EVEN))
        due = _advance_work(snap, start, us)
    elif unit == DeadlineUnit.NATURAL_DAYS:
        due = start if value == 0 else _natural_days_due(snap, start, int(value))
        return Due(due, _provisional_days(snap, start, due))
    elif value == 0:
        due = start
    else:
        day = _nth_workday_after(snap, start.date(), int(value))
        due = _at(day, snap.periods[-1][1])
    return Due(due, _provisional(snap, start, due))


def format_due(due: datetime, unit: str = "", *, year: bool = True) -> str:
    """A due moment for people: ``2026年10月8日 17:30``; a 自然日 period's end (00:00 of the next day) as the
    legal "last day 24:00": ``2026年10月8日 24:00``. ``year=False`` leaves the year out (``10月8日 24:00``)."""
    local = _local(due, "due")
    day, hhmm = local.date(), f"{local:%H:%M}"
    if _UNIT_LOOKUP.get(str(unit).strip()) == DeadlineUnit.NATURAL_DAYS and local.time() == dtime(0):
        day, hhmm = day - timedelta(days=1), "24:00"
    return f"{f'{day.year}年' if year else ''}{day.month}月{day.day}日 {hhmm}"


def light(consumed_seconds: float, budget_seconds: float) -> Light:
    """'green' below 80 % of the budget, 'yellow' from 80 % to 100 % inclusive, 'red' above 100 %."""
    consumed, budget = float(consumed_seconds), float(budget_seconds)
    if budget <= 0:
        return Light.RED if consumed > 0 else Light.YELLOW
    if consumed > budget:
        return Light.RED
    if consumed >= 0.8 * budget:
        return Light.YELLOW
    return Light.GREEN


# --- write services -----------------------------------------------------------------------------------------


def set_override(*, actor, date: date, is_workday: bool, name: str = "", note: str = "") -> CalendarOverride:
    """Create or replace the override for one day (audited)."""
    if isinstance(date, datetime) or not hasattr(date, "toordinal"):
        raise ValidationFailed("日期格式不正确", field="date")
    name = (name or "").strip()
    if len(name) > 50:
        raise ValidationFailed("名称不能超过 50 个字", field="name")
    with transaction.atomic():
        obj = CalendarOverride.objects.select_for_update().filter(date=date).first()
        before = audit.snapshot(obj)
        if obj is None:
            obj = CalendarOverride(date=date)
        obj.is_workday, obj.name, obj.note = bool(is_workday), name, note or ""
        obj.save()
        b, a = audit.diff(before, audit.snapshot(obj))
        audit.record(actor=actor, action="calendar.override_set", obj=obj, before=b, after=a)
    return obj


def delete_override(*, actor, date: date) -> bool:
    """Remove the override for one day (audited). Returns whether one existed."""
    with transaction.atomic():
        obj = CalendarOverride.objects.select_for_update().filter(date=date).first()
        if obj is None:
            return False
        audit.record(actor=actor, action="calendar.override_delete", obj=obj, before=audit.snapshot(obj))
        obj.delete()
    return True


def confirm_year(*, actor, year: int, notice: str = "", confirmed: bool = True) -> CalendarYear:
    """Mark a year's holiday arrangement as entered (or withdraw that), audited."""
    try:
        year = int(year)
    except (TypeError, ValueError, InvalidOperation):
        raise ValidationFailed("年份格式不正确", field="year")
    if not 2000 <= year <= 2100:
        raise ValidationFailed("年份须在 2000 到 2100 之间", field="year")
    with transaction.atomic():
        obj = CalendarYear.objects.select_for_update().filter(year=year).first()
        before = audit.snapshot(obj)
        if obj is None:
            obj = CalendarYear(year=year)
        obj.confirmed = bool(confirmed)
        if notice:
            obj.notice = notice
        obj.save()
        b, a = audit.diff(before, audit.snapshot(obj))
        audit.record(actor=actor, action="calendar.year_confirm", obj=obj, before=b, after=a)
    return obj
