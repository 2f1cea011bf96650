"""自然日: legal periods in days (民法典 第二百零一至二百零三条), hand-checked against the 2026 calendar.

The start day is not counted; the last day ends at 24:00, stored as 00:00 of the next day; a last day that is a
weekend or statutory holiday moves to the first working day after the rest (a 调休 working day is no rest day).
"""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from civicgrid.core import workcalendar as wc
from civicgrid.core.errors import ValidationFailed
from civicgrid.core.workcalendar import DeadlineUnit, Due, Light

pytestmark = pytest.mark.django_db

H = 3600


def T(s: str) -> datetime:
    return datetime.fromisoformat(s + "+08:00")


def due(start: str, amount, unit: str = "自然日") -> Due:
    return wc.compute_due(T(start), amount, unit)


def run(*args) -> list[str]:
    out = io.StringIO()
    call_command("calendar", *args, stdout=out)
    return out.getvalue().splitlines()


@pytest.mark.parametrize("text", ["自然日", " natural_days ", DeadlineUnit.NATURAL_DAYS])
def test_parse_unit(text):
    assert wc.parse_unit(text) is DeadlineUnit.NATURAL_DAYS


@pytest.mark.parametrize(
    "start, amount, expected, why",
    [
        # ordinary weekdays: day N after the start day, 24:00
        ("2026-03-09 10:00", 3, "2026-03-13 00:00", "Mon + 3 → Thu 03-12 24:00"),
        ("2026-03-09 00:00", 1, "2026-03-11 00:00", "even at 00:00 the start day itself is not counted"),
        # last day on an ordinary weekend → the Monday after
        ("2026-03-09 10:00", 5, "2026-03-17 00:00", "last day Sat 03-14 → Mon 03-16 24:00"),
        ("2026-03-09 10:00", 6, "2026-03-17 00:00", "last day Sun 03-15 → Mon 03-16 24:00"),
        # last day in 国庆 (10-01 … 10-07) → Thu 10-08
        ("2026-09-28 09:00", 5, "2026-10-09 00:00", "last day Sat 10-03 (国庆) → Thu 10-08 24:00"),
        ("2026-09-30 16:00", 1, "2026-10-09 00:00", "last day Thu 10-01 (国庆) → Thu 10-08 24:00"),
        ("2026-09-20 09:00", 17, "2026-10-09 00:00", "last day Wed 10-07, the last day of 国庆"),
        # a day of the holiday inside the period does not extend it: only the last day matters
        ("2026-09-29 09:00", 10, "2026-10-10 00:00", "last day Fri 10-09, a working day"),
        # last day in 春节 (02-15 … 02-23) → Tue 02-24
        ("2026-02-10 09:00", 5, "2026-02-25 00:00", "last day Sun 02-15 (春节) → Tue 02-24 24:00"),
        ("2026-02-13 09:00", 10, "2026-02-25 00:00", "last day Mon 02-23 (春节, a Monday) → Tue 02-24"),
        # 调休 working Saturdays are working days: no extension
        ("2026-02-09 09:00", 5, "2026-02-15 00:00", "last day Sat 02-14 is a 调休 working day"),
        ("2026-02-23 09:00", 5, "2026-03-01 00:00", "last day Sat 02-28 is a 调休 working day"),
        ("2026-10-05 09:00", 5, "2026-10-11 00:00", "last day Sat 10-10 is a 调休 working day"),
    ],
)
def test_natural_days_2026(start, amount, expected, why):
    assert due(start, amount) == Due(T(expected), False), why


def test_received_at_23_59_with_one_day_is_due_at_the_end_of_the_next_day():
    result = due("2026-03-10 23:59", 1)  # Tuesday
    assert result.due == T("2026-03-12 00:00")  # Wednesday 03-11 24:00
    assert wc.format_due(result.due, "自然日") == "2026年3月11日 24:00"
    assert due("2026-03-11 00:00", 1).due == T("2026-03-13 00:00")  # one minute later: a day later


def test_zero_days_is_now_and_fractions_are_refused():
    assert due("2026-03-09 10:00", 0).due == T("2026-03-09 10:00")
    with pytest.raises(ValidationFailed) as exc:
        due("2026-03-09 10:00", 1.5)
    assert exc.value.field == "amount"
    assert "以自然日计的时限必须是整数" in exc.value.message


def test_an_uncovered_year_is_provisional_until_confirmed(sysadmin):
    # 2027 is not in chinesecalendar: weekends only
    assert due("2027-03-01 10:00", 4) == Due(T("2027-03-06 00:00"), True)  # Fri 03-05 24:00
    assert due("2027-03-01 10:00", 5) == Due(T("2027-03-09 00:00"), True)  # Sat 03-06 → Mon 03-08 24:00
    # a period ending on 2026-12-31 does not look at 2027, although 24:00 is 2027-01-01 00:00
    assert due("2026-12-28 10:00", 3) == Due(T("2027-01-01 00:00"), False)
    # ... but one whose last day is 2027-01-01 does
    assert due("2026-12-28 10:00", 4) == Due(T("2027-01-02 00:00"), True)
    wc.set_override(actor=sysadmin, date=date(2027, 1, 1), is_workday=False, name="元旦")
    assert due("2026-12-28 10:00", 4) == Due(
        T("2027-01-05 00:00"), True
    )  # Fri 元旦, then weekend → Mon 01-04
    wc.confirm_year(actor=sysadmin, year=2027, notice="国务院办公厅关于2027年部分节假日安排的通知")
    assert due("2026-12-28 10:00", 4) == Due(T("2027-01-05 00:00"), False)


def test_consumed_time_is_wall_seconds_and_advance_is_its_inverse():
    start = T("2026-09-28 09:00")
    end = due("2026-09-28 09:00", 5).due  # 2026-10-09 00:00
    budget = wc.measure("自然日", start, end)
    assert budget == (end - start).total_seconds() == 10 * 24 * H + 15 * H
    assert wc.advance("自然日", start, budget) == Due(end, False)
    assert wc.advance("自然日", T("2027-03-01 10:00"), 3600).provisional is True


def test_case_engine_recipe_with_a_pause_and_an_extension():
    """The deadlines.py formulas: budget from compute_due, pause measured in wall time, extension re-counted."""
    unit, start = "自然日", T("2026-03-09 10:00")  # Monday, 3 自然日 → Thu 03-12 24:00
    budget = wc.measure(unit, start, wc.compute_due(start, 3, unit).due)
    pause_from, pause_to = T("2026-03-10 12:00"), T("2026-03-11 18:00")  # 挂账 30 h
    paused = wc.measure(unit, pause_from, pause_to)
    assert paused == 30 * H
    due_at = wc.advance(unit, start, budget + paused).due
    assert due_at == T("2026-03-14 06:00")  # the wall time paused is added to the due moment
    consumed = wc.measure(unit, start, T("2026-03-13 00:00")) - paused
    assert wc.light(consumed, budget) == Light.GREEN  # 56 h of 86 h
    assert wc.light(wc.measure(unit, start, due_at) - paused, budget) == Light.YELLOW
    # an approved 2-day extension: 5 自然日 from the same start ends Sat 03-14 → Mon 03-16 24:00
    extended = wc.measure(unit, start, wc.compute_due(start, 3 + 2, unit).due)
    assert wc.advance(unit, start, extended).due == T("2026-03-17 00:00")


def test_format_due():
    assert wc.format_due(T("2026-10-09 00:00"), "自然日") == "2026年10月8日 24:00"
    assert wc.format_due(T("2026-10-09 00:00"), DeadlineUnit.NATURAL_DAYS) == "2026年10月8日 24:00"
    assert wc.format_due(T("2026-10-09 06:00"), "自然日") == "2026年10月9日 06:00"  # moved by a pause
    assert wc.format_due(T("2026-10-09 00:00"), "自然时") == "2026年10月9日 00:00"
    assert wc.format_due(T("2026-10-08 17:30"), "工作日") == "2026年10月8日 17:30"


# --- civicgrid calendar due --unit 自然日 ----------------------------------------------------------------------


def test_calendar_due_prints_the_due_moment():
    assert run("due", "--start", "2026-09-28 09:00", "--limit", "5", "--unit", "自然日") == [
        "2026-10-09T00:00:00+08:00",
        "暂定: 否",
        "期满: 2026年10月8日 24:00",
    ]
    assert run("due", "--start", "2026-02-10 09:00", "--limit", "5", "--unit", "natural_days")[2] == (
        "期满: 2026年2月24日 24:00"
    )
    assert run("due", "--start", "2027-03-01 10:00", "--limit", "4", "--unit", "自然日") == [
        "2027-03-06T00:00:00+08:00",
        "暂定: 是",
        "期满: 2027年3月5日 24:00",
    ]


def test_calendar_due_refuses_fractional_days():
    with pytest.raises(CommandError, match="--limit 以自然日计的时限必须是整数"):
        run("due", "--start", "2026-09-28 09:00", "--limit", "1.5", "--unit", "自然日")


def test_far_future_is_a_clear_error():
    with pytest.raises(ValidationFailed) as exc:
        wc.compute_due(T("9999-12-20 10:00"), 30, "自然日")
    assert exc.value.field in {"amount", "start"}
    assert wc.compute_due(T("2026-03-09 10:00"), 3, "自然日").due - T("2026-03-09 10:00") == timedelta(
        days=3, hours=14
    )


def test_format_due_without_the_year():
    assert wc.format_due(T("2026-10-09 00:00"), "natural_days", year=False) == "10月8日 24:00"
    assert wc.format_due(T("2027-01-01 00:00"), "自然日", year=False) == "12月31日 24:00"
    assert wc.format_due(T("2026-10-09 08:05"), "", year=False) == "10月9日 08:05"
    assert wc.format_due(T("2026-10-09 00:00"), "no-such-unit", year=False) == "10月9日 00:00"  # never raises
