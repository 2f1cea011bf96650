"""Hypothesis properties of measure/advance/compute_due, plus a brute-force cross-check of measure."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from civicgrid.core import workcalendar as wc

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
WORKING = ["working_hours", "working_days"]
NATURAL = ["natural_hours", "natural_days"]
ALL_UNITS = [*NATURAL, *WORKING]

settings_ = hsettings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# 2025-12 .. 2027-03: Spring Festival, National Day and the uncovered 2027 are all inside
moments = st.datetimes(
    min_value=datetime(2025, 12, 1),
    max_value=datetime(2027, 3, 1),
    timezones=st.sampled_from([SHANGHAI, UTC]),
)
# times near period boundaries are where the bugs are
boundary_moments = st.builds(
    lambda d, hm, jitter: (
        datetime.combine(d, datetime.min.time(), tzinfo=SHANGHAI)
        + timedelta(hours=hm[0], minutes=hm[1], microseconds=jitter)
    ),
    st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 1, 31)),
    st.sampled_from([(0, 0), (8, 30), (12, 0), (13, 30), (17, 30), (23, 59)]),
    st.sampled_from([0, 0, -1, 1, -1_000_000, 1_000_000]),
)
any_moment = st.one_of(moments, boundary_moments)
seconds = st.one_of(
    st.integers(min_value=0, max_value=400 * 3600),
    st.floats(min_value=0, max_value=400 * 3600, allow_nan=False),
    st.sampled_from([3.5 * 3600, 7.5 * 3600, 15 * 3600]),
)


def us(x: float) -> int:
    return round(x * 1_000_000)


@settings_
@given(unit=st.sampled_from(ALL_UNITS), start=any_moment, s=seconds)
def test_measure_of_advance_is_the_seconds(unit, start, s):
    result = wc.advance(unit, start, s)
    assert result.due >= start
    assert result.due.tzinfo is not None and result.due.utcoffset() == timedelta(hours=8)
    assert us(wc.measure(unit, start, result.due)) == us(s)


@settings_
@given(unit=st.sampled_from(WORKING), start=any_moment, s=seconds)
def test_advance_is_the_earliest_such_moment(unit, start, s):
    due = wc.advance(unit, start, s).due
    assume(us(s) > 0)
    one_us_before = due - timedelta(microseconds=1)
    assert us(wc.measure(unit, start, one_us_before)) < us(s)


@settings_
@given(unit=st.sampled_from(ALL_UNITS), a=any_moment, b=any_moment)
def test_advance_of_measure_lands_at_or_before_the_moment(unit, a, b):
    start, t = min(a, b), max(a, b)
    consumed = wc.measure(unit, start, t)
    back = wc.advance(unit, start, consumed).due
    assert start <= back <= t
    assert us(wc.measure(unit, start, back)) == us(consumed)
    if unit in NATURAL:
        assert back == t


@settings_
@given(unit=st.sampled_from(ALL_UNITS), start=any_moment, t1=any_moment, t2=any_moment)
def test_measure_is_monotone_and_additive(unit, start, t1, t2):
    t1, t2 = sorted((t1, t2))
    m1, m2 = wc.measure(unit, start, t1), wc.measure(unit, start, t2)
    assert m1 <= m2
    assert us(wc.measure(unit, t1, t2)) == us(m2) - us(m1)
    assert us(wc.measure(unit, t2, t1)) == -us(wc.measure(unit, t1, t2))


@settings_
@given(unit=st.sampled_from(ALL_UNITS), start=any_moment, s1=seconds, s2=seconds)
def test_advance_is_monotone(unit, start, s1, s2):
    s1, s2 = sorted((s1, s2))
    assert wc.advance(unit, start, s1).due <= wc.advance(unit, start, s2).due


@settings_
@given(
    unit=st.sampled_from(ALL_UNITS),
    start=any_moment,
    amount=st.integers(min_value=0, max_value=60),
)
def test_compute_due_is_never_before_start_and_round_trips(unit, start, amount):
    result = wc.compute_due(start, amount, unit)
    assert result.due >= start
    budget = wc.measure(unit, start, result.due)
    assert budget >= 0
    if unit == "working_days" and amount > 0:
        assert result.due.time() == datetime.strptime("17:30", "%H:%M").time()
        assert wc.is_workday(result.due.date())
        assert result.due.date() > start.astimezone(SHANGHAI).date()
    if unit == "natural_days" and amount > 0:
        assert result.due.time() == datetime.min.time()  # 24:00 of the last day
        last = result.due.date() - timedelta(days=1)
        assert wc.is_workday(last)
        assert (last - start.astimezone(SHANGHAI).date()).days >= amount
    # the case engine's due_at = advance(start, budget) is the compute_due result itself
    assert wc.advance(unit, start, budget) == result


@settings_
@given(start=any_moment, hours=st.one_of(st.integers(0, 10_000), st.floats(0, 10_000, allow_nan=False)))
def test_natural_hours_are_exact(start, hours):
    result = wc.compute_due(start, hours, "natural_hours")
    assert result.provisional is False
    delta = result.due - start
    assert abs(delta.total_seconds() - hours * 3600) < 1e-6
    assert wc.measure("natural_hours", start, result.due) == delta.total_seconds()


@settings_
@given(start=any_moment, n=st.integers(min_value=1, max_value=40))
def test_working_days_count_working_days_strictly_after_start(start, n):
    due = wc.compute_due(start, n, "working_days").due
    day0 = start.astimezone(SHANGHAI).date()
    between = [day0 + timedelta(days=i) for i in range(1, (due.date() - day0).days + 1)]
    assert sum(wc.is_workday(d) for d in between) == n


@settings_
@given(start=any_moment, n=st.integers(min_value=0, max_value=40), unit=st.sampled_from(WORKING))
def test_provisional_iff_an_uncovered_year_is_touched(start, n, unit):
    result = wc.compute_due(start, n, unit)
    years = range(start.astimezone(SHANGHAI).year, result.due.year + 1)
    assert result.provisional == any(not wc.is_year_covered(y) for y in years)


@settings_
@given(start=any_moment, n=st.integers(min_value=1, max_value=40))
def test_natural_days_end_on_the_first_working_day_from_day_n(start, n):
    """Independent day-by-day reading of 民法典 第二百零一/二百零三条."""
    due = wc.compute_due(start, n, "natural_days")
    last = start.astimezone(SHANGHAI).date() + timedelta(days=n)
    while not wc.is_workday(last):
        last += timedelta(days=1)
    assert due.due == datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=SHANGHAI)
    years = range(start.astimezone(SHANGHAI).year, last.year + 1)
    assert due.provisional == any(not wc.is_year_covered(y) for y in years)


def brute_force_working_seconds(a: datetime, b: datetime) -> float:
    """Day by day, period by period: an independent implementation to compare ``measure`` with."""
    a, b = a.astimezone(SHANGHAI), b.astimezone(SHANGHAI)
    total = timedelta(0)
    d = a.date()
    while d <= b.date():
        if wc.is_workday(d):
            for start, end in [("08:30", "12:00"), ("13:30", "17:30")]:
                p0 = datetime.combine(d, datetime.strptime(start, "%H:%M").time(), tzinfo=SHANGHAI)
                p1 = datetime.combine(d, datetime.strptime(end, "%H:%M").time(), tzinfo=SHANGHAI)
                lo, hi = max(p0, a), min(p1, b)
                if hi > lo:
                    total += hi - lo
        d += timedelta(days=1)
    return total.total_seconds()


@settings_
@given(a=any_moment, b=any_moment)
def test_measure_matches_brute_force(a, b):
    a, b = sorted((a, b))
    assert us(wc.measure("working_hours", a, b)) == us(brute_force_working_seconds(a, b))
