"""Deadline arithmetic: 自然时 / 工作时 / 工作日, hand-checked against the 2026 calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from civicgrid.core import workcalendar as wc
from civicgrid.core.errors import ValidationFailed
from civicgrid.core.workcalendar import DeadlineUnit, Due, Light

pytestmark = pytest.mark.django_db

H = 3600


def T(s: str) -> datetime:
    """'2026-02-13 10:00' in Asia/Shanghai."""
    return datetime.fromisoformat(s + "+08:00")


def due(start: str, amount, unit: str) -> Due:
    return wc.compute_due(T(start), amount, unit)


# --- units -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, unit",
    [
        ("natural_hours", DeadlineUnit.NATURAL_HOURS),
        ("自然时", DeadlineUnit.NATURAL_HOURS),
        ("working_hours", DeadlineUnit.WORKING_HOURS),
        ("工作时", DeadlineUnit.WORKING_HOURS),
        ("working_days", DeadlineUnit.WORKING_DAYS),
        (" 工作日 ", DeadlineUnit.WORKING_DAYS),
        (DeadlineUnit.WORKING_DAYS, DeadlineUnit.WORKING_DAYS),
    ],
)
def test_parse_unit(text, unit):
    assert wc.parse_unit(text) is unit


@pytest.mark.parametrize("text", ["天", "hours", "", None, "WORKING_DAYS"])
def test_parse_unit_rejects(text):
    with pytest.raises(ValidationFailed) as exc:
        wc.parse_unit(text)
    assert exc.value.field == "unit"
    assert "未知的时限单位" in exc.value.message


def test_unit_labels_are_stable():
    assert [(u.value, u.label) for u in DeadlineUnit] == [
        ("natural_hours", "自然时"),
        ("working_hours", "工作时"),
        ("working_days", "工作日"),
        ("natural_days", "自然日"),
    ]


# --- 工作日 ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "start, amount, expected",
    [
        # 02-14 (Sat) is an adjusted workday = 1st; 02-15..02-23 off; 02-24 = 2nd; 02-25 = 3rd
        ("2026-02-13 10:00", 1, "2026-02-14 17:30"),
        ("2026-02-13 10:00", 2, "2026-02-24 17:30"),
        ("2026-02-13 10:00", 3, "2026-02-25 17:30"),
        ("2026-02-13 23:59", 3, "2026-02-25 17:30"),  # time of day within the start day does not matter
        ("2026-02-13 00:00", 3, "2026-02-25 17:30"),
        # starting on the adjusted workday itself: the next working day is after the holiday
        ("2026-02-14 09:00", 1, "2026-02-24 17:30"),
        # starting inside the holiday
        ("2026-02-17 10:00", 1, "2026-02-24 17:30"),
        # 02-28 (Sat) adjusted workday
        ("2026-02-27 16:00", 1, "2026-02-28 17:30"),
        ("2026-02-27 16:00", 2, "2026-03-02 17:30"),
        # National Day: 10-01..10-07 off, 10-10 (Sat) worked
        ("2026-09-30 15:00", 1, "2026-10-08 17:30"),
        ("2026-09-30 15:00", 2, "2026-10-09 17:30"),
        ("2026-09-30 15:00", 3, "2026-10-10 17:30"),
        ("2026-09-30 15:00", 4, "2026-10-12 17:30"),
        # Saturday night: the clock day is Saturday, the first working day after is Monday
        ("2026-03-07 22:00", 1, "2026-03-09 17:30"),
        # before 08:30 / at lunch / after 17:30 on a working day: still counted from the next working day
        ("2026-03-09 07:00", 1, "2026-03-10 17:30"),
        ("2026-03-09 12:30", 1, "2026-03-10 17:30"),
        ("2026-03-09 18:00", 1, "2026-03-10 17:30"),
        ("2026-03-13 18:00", 1, "2026-03-16 17:30"),  # Friday evening
        # across the year end into 2027 (2026-12-31 is a Thursday)
        ("2026-12-30 10:00", 1, "2026-12-31 17:30"),
        ("2026-12-30 10:00", 22, "2027-01-29 17:30"),
        # a long one: 246 working days left in 2026 after 01-05 (a Monday), then 2027-01-01, 04, 05, 06
        ("2026-01-05 09:00", 250, "2027-01-06 17:30"),
    ],
)
def test_working_days(start, amount, expected):
    assert due(start, amount, "工作日").due == T(expected)


def test_working_days_example_from_the_issue_is_not_provisional():
    result = due("2026-02-13 10:00", 3, "working_days")
    assert result == Due(T("2026-02-25 17:30"), False)
    assert result.due.isoformat() == "2026-02-25T17:30:00+08:00"


def test_working_days_zero_is_now():
    assert due("2026-03-09 10:00", 0, "工作日").due == T("2026-03-09 10:00")


def test_working_days_into_2027_is_provisional_until_confirmed(sysadmin):
    result = due("2026-12-31 10:00", 1, "工作日")
    assert result == Due(T("2027-01-01 17:30"), True)  # weekends only: Friday 01-01 counts
    assert due("2026-12-30 10:00", 1, "工作日").provisional is False
    wc.set_override(actor=sysadmin, date=date(2027, 1, 1), is_workday=False, name="元旦")
    assert due("2026-12-31 10:00", 1, "工作日") == Due(T("2027-01-04 17:30"), True)
    wc.confirm_year(actor=sysadmin, year=2027, notice="国务院办公厅关于2027年部分节假日安排的通知")
    assert due("2026-12-31 10:00", 1, "工作日") == Due(T("2027-01-04 17:30"), False)


def test_working_days_rejects_fractions():
    with pytest.raises(ValidationFailed) as exc:
        due("2026-03-09 10:00", 1.5, "工作日")
    assert exc.value.field == "amount"
    assert due("2026-03-09 10:00", Decimal("2.0"), "工作日").due == T("2026-03-11 17:30")


def test_working_days_budget_is_measured_in_working_seconds():
    start = T("2026-03-07 22:00")  # Saturday
    end = due("2026-03-07 22:00", 1, "工作日").due
    assert wc.measure("工作日", start, end) == 7.5 * H
    assert wc.advance("工作日", start, 7.5 * H).due == end  # stays at 17:30, not Tuesday 08:30
    start = T("2026-03-13 10:00")  # Friday: rest of Friday (6 h) + Monday (7.5 h)
    end = due("2026-03-13 10:00", 1, "工作日").due
    assert wc.measure("working_days", start, end) == 13.5 * H
    assert wc.advance("working_days", start, 13.5 * H).due == end


# --- 工作时 ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "start, amount, expected",
    [
        ("2026-03-09 09:00", 1, "2026-03-09 10:00"),
        ("2026-03-09 09:00", 3, "2026-03-09 12:00"),  # exactly at the end of the morning: stays
        ("2026-03-09 09:00", 3.5, "2026-03-09 14:00"),
        ("2026-03-09 09:00", 7, "2026-03-09 17:30"),  # exactly at the end of the day: stays
        ("2026-03-09 09:00", 7.5, "2026-03-10 09:00"),
        ("2026-03-09 07:00", 1, "2026-03-09 09:30"),  # before 08:30
        ("2026-03-09 12:30", 1, "2026-03-09 14:30"),  # at lunch
        ("2026-03-09 12:00", 4, "2026-03-09 17:30"),
        ("2026-03-09 18:00", 1, "2026-03-10 09:30"),  # after 17:30
        ("2026-03-13 17:00", 1, "2026-03-16 09:00"),  # Friday 17:00 → Monday
        # Saturday 22:00: Monday 08:30–12:00 is 3.5 h, the last 0.5 h after lunch
        ("2026-03-07 22:00", 3.5, "2026-03-09 12:00"),
        ("2026-03-07 22:00", 4, "2026-03-09 14:00"),
        ("2026-03-08 10:00", 0.25, "2026-03-09 08:45"),  # Sunday
        ("2026-02-13 10:00", 8, "2026-02-14 10:30"),  # 6 h Friday + 2 h on the adjusted Saturday
        ("2026-02-14 16:30", 2, "2026-02-24 09:30"),  # over the Spring Festival
        ("2026-02-16 10:00", 1, "2026-02-24 09:30"),  # starting inside the holiday
        ("2026-02-27 17:00", 1, "2026-02-28 09:00"),  # into the 02-28 adjusted workday
        ("2026-09-30 17:00", 1, "2026-10-08 09:00"),  # over National Day
        ("2026-10-09 17:00", 1, "2026-10-10 09:00"),  # into the 10-10 adjusted workday
        ("2026-03-09 09:00", 0, "2026-03-09 09:00"),
        ("2026-03-07 22:00", 0, "2026-03-07 22:00"),  # zero stays put even off hours
        ("2026-03-09 09:00", Decimal("0.5"), "2026-03-09 09:30"),
    ],
)
def test_working_hours(start, amount, expected):
    result = due(start, amount, "工作时")
    assert result.due == T(expected)
    assert result.provisional is False


def test_working_hours_seconds_precision():
    assert due("2026-03-09 09:00", 1 / 3600, "工作时").due == T("2026-03-09 09:00:01")
    assert due("2026-03-09 11:59:59", 1 / 3600, "工作时").due == T("2026-03-09 12:00")
    assert due("2026-03-09 11:59:59", 2 / 3600, "工作时").due == T("2026-03-09 13:30:01")


def test_working_hours_across_year_end():
    # 2026-12-31 Thursday: 16:30 + 2 h → 1 h on 12-31, 1 h on 2027-01-01 (provisional: weekends only)
    assert due("2026-12-31 16:30", 2, "工作时") == Due(T("2027-01-01 09:30"), True)
    assert due("2026-12-31 16:30", 1, "工作时") == Due(T("2026-12-31 17:30"), False)


# --- 自然时 ------------------------------------------------------------------------------------------------


def test_natural_hours_ignore_the_calendar():
    assert due("2026-02-13 10:00", 24, "自然时") == Due(T("2026-02-14 10:00"), False)
    assert due("2026-02-13 10:00", 72, "natural_hours").due == T("2026-02-16 10:00")  # in the holiday
    assert due("2026-12-31 10:00", 48, "自然时") == Due(T("2027-01-02 10:00"), False)
    assert due("2026-03-09 10:00", Decimal("0.5"), "自然时").due == T("2026-03-09 10:30")
    assert due("2026-03-09 10:00", 1.25, "自然时").due == T("2026-03-09 11:15")


# --- results in Shanghai; aware input only -----------------------------------------------------------------


def test_results_are_in_shanghai_whatever_the_input_zone():
    start_utc = datetime(2026, 3, 9, 1, 0, tzinfo=UTC)  # 09:00 Shanghai
    for unit in DeadlineUnit:
        result = wc.compute_due(start_utc, 1, unit)
        assert result.due.utcoffset() == timedelta(hours=8)
        assert str(result.due.tzinfo) == "Asia/Shanghai"
    assert wc.compute_due(start_utc, 1, "工作时").due == T("2026-03-09 10:00")
    assert wc.advance("自然时", start_utc, 60).due.isoformat() == "2026-03-09T09:01:00+08:00"


def test_working_day_is_the_shanghai_day():
    # 2026-03-08 17:00 UTC is Monday 01:00 in Shanghai → the clock day is Monday
    start = datetime(2026, 3, 8, 17, 0, tzinfo=UTC)
    assert wc.compute_due(start, 1, "工作日").due == T("2026-03-10 17:30")


@pytest.mark.parametrize(
    "call",
    [
        lambda naive: wc.compute_due(naive, 1, "工作时"),
        lambda naive: wc.measure("工作时", naive, T("2026-03-09 10:00")),
        lambda naive: wc.measure("自然时", T("2026-03-09 10:00"), naive),
        lambda naive: wc.advance("工作日", naive, 10),
    ],
)
def test_naive_datetimes_are_rejected(call):
    with pytest.raises(ValidationFailed) as exc:
        call(datetime(2026, 3, 9, 10, 0))
    assert "naive" in exc.value.message and "时区" in exc.value.message
    assert exc.value.field in {"start", "a", "b"}


@pytest.mark.parametrize("amount", [-1, -0.5, Decimal("-1"), float("inf"), float("nan"), "3", None, True])
def test_bad_amounts(amount):
    with pytest.raises(ValidationFailed) as exc:
        wc.compute_due(T("2026-03-09 10:00"), amount, "工作时")
    assert exc.value.field == "amount"


@pytest.mark.parametrize("seconds", [-1, float("inf"), "10", None])
def test_advance_rejects_bad_seconds(seconds):
    with pytest.raises(ValidationFailed):
        wc.advance("工作时", T("2026-03-09 10:00"), seconds)


# --- measure / advance -------------------------------------------------------------------------------------


def test_measure_examples():
    m = wc.measure
    assert m("自然时", T("2026-03-09 10:00"), T("2026-03-10 10:00")) == 24 * H
    assert m("工作时", T("2026-03-09 10:00"), T("2026-03-10 10:00")) == 7.5 * H
    assert m("工作时", T("2026-03-06 17:00"), T("2026-03-09 09:00")) == 1 * H  # over a weekend
    assert m("工作时", T("2026-03-07 08:00"), T("2026-03-08 20:00")) == 0  # weekend only
    assert m("工作时", T("2026-03-09 12:10"), T("2026-03-09 13:20")) == 0  # lunch
    assert m("工作时", T("2026-02-13 00:00"), T("2026-02-25 00:00")) == 3 * 7.5 * H  # 13th, 14th, 24th
    assert m("工作时", T("2026-03-10 10:00"), T("2026-03-09 10:00")) == -7.5 * H
    # a whole year: 2026 has 248 working days (chinesecalendar)
    assert m("工作日", T("2026-01-01 00:00"), T("2027-01-01 00:00")) == 248 * 7.5 * H


def test_advance_examples():
    a = wc.advance
    assert a("工作时", T("2026-03-09 09:00"), 3 * H).due == T("2026-03-09 12:00")  # stays at 12:00
    assert a("工作时", T("2026-03-09 09:00"), 3 * H + 1).due == T("2026-03-09 13:30:01")
    assert a("工作时", T("2026-03-09 09:00"), 7 * H).due == T("2026-03-09 17:30")  # stays at 17:30
    assert a("工作时", T("2026-03-07 22:00"), 0).due == T("2026-03-07 22:00")
    assert a("自然时", T("2026-03-07 22:00"), 2 * H).due == T("2026-03-08 00:00")
    assert a("工作时", T("2026-12-31 17:00"), 1 * H) == Due(T("2027-01-01 09:00"), True)


def test_case_engine_recipe_with_a_pause():
    """budget from compute_due, a 挂账 pause over the weekend, due moved by the paused working time."""
    unit, start = "工作时", T("2026-03-12 10:00")  # Thursday
    budget = wc.measure(unit, start, wc.compute_due(start, 8, unit).due)
    assert budget == 8 * H
    pause_from, pause_to = T("2026-03-12 16:30"), T("2026-03-13 10:30")  # 1 h Thu + 2 h Fri paused
    paused = wc.measure(unit, pause_from, pause_to)
    assert paused == 3 * H
    due_at = wc.advance(unit, start, budget + paused).due
    assert due_at == T("2026-03-13 15:00")  # Thu 6 h + Fri 3.5 h + 1.5 h = 11 h = 8 + 3
    consumed = wc.measure(unit, start, T("2026-03-13 11:00")) - paused
    assert consumed == 6 * H + 2.5 * H - 3 * H
    assert wc.light(consumed, budget) == Light.GREEN  # 68.75 %
    assert wc.light(wc.measure(unit, start, due_at) - paused, budget) == Light.YELLOW  # exactly 100 %
    late = due_at + timedelta(seconds=1)
    assert wc.light(wc.measure(unit, start, late) - paused, budget) == Light.RED


# --- lights ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "consumed, budget, expected",
    [
        (0, 100, "green"),
        (79.999, 100, "green"),
        (80, 100, "yellow"),
        (99, 100, "yellow"),
        (100, 100, "yellow"),
        (100.001, 100, "red"),
        (500, 100, "red"),
        (0, 0, "yellow"),
        (1, 0, "red"),
    ],
)
def test_light(consumed, budget, expected):
    result = wc.light(consumed, budget)
    assert result == expected
    assert isinstance(result, str)
    assert Light(result).label in {"正常", "预警", "超时"}


# --- speed -------------------------------------------------------------------------------------------------


def test_thousands_of_lights_are_fast_and_query_free(django_assert_max_num_queries, settings):
    import time

    settings.CIVICGRID = {**settings.CIVICGRID, "CALENDAR_RECHECK_SECONDS": 3600}
    starts = [T("2026-01-05 08:00") + timedelta(minutes=97 * i) for i in range(3000)]
    wc.is_workday(date(2026, 1, 1))  # load the snapshot
    began = time.perf_counter()
    with django_assert_max_num_queries(0):
        lights = []
        for i, start in enumerate(starts):
            unit = list(DeadlineUnit)[i % len(DeadlineUnit)]
            budget = wc.measure(unit, start, wc.compute_due(start, 1 + i % 20, unit).due)
            now = start + timedelta(hours=i % 400)
            lights.append(wc.light(wc.measure(unit, start, now), budget))
    elapsed = time.perf_counter() - began
    assert set(lights) == {"green", "yellow", "red"}
    assert elapsed < 3.0, f"3000 deadline computations took {elapsed:.2f}s"
