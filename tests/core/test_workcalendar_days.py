"""Which days are worked: chinesecalendar for 2026, the override table, uncovered years, caching."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.db import transaction
from django.utils import timezone

from civicgrid.core import workcalendar as wc
from civicgrid.core.errors import ValidationFailed
from civicgrid.core.models import AuditLog, CalendarOverride, CalendarYear
from civicgrid.core.workcalendar import DayKind

pytestmark = pytest.mark.django_db


def D(s: str) -> date:
    return date.fromisoformat(s)


# --- 2026, hand-checked against 国办发明电〔2025〕7号 as shipped by chinesecalendar 1.11 ------------------


@pytest.mark.parametrize(
    "day, workday, kind, name",
    [
        ("2026-01-01", False, DayKind.HOLIDAY, "元旦"),
        ("2026-01-03", False, DayKind.HOLIDAY, "元旦"),  # Saturday inside the holiday
        ("2026-01-04", True, DayKind.ADJUSTED_WORKDAY, "元旦"),  # Sunday worked
        ("2026-02-13", True, DayKind.WORKDAY, ""),  # Friday before the Spring Festival
        ("2026-02-14", True, DayKind.ADJUSTED_WORKDAY, "春节"),  # Saturday worked (调休)
        ("2026-02-15", False, DayKind.HOLIDAY, "春节"),  # first day off
        ("2026-02-17", False, DayKind.HOLIDAY, "春节"),  # 正月初一
        ("2026-02-23", False, DayKind.HOLIDAY, "春节"),  # last day off (Monday)
        ("2026-02-24", True, DayKind.WORKDAY, ""),
        ("2026-02-28", True, DayKind.ADJUSTED_WORKDAY, "春节"),  # Saturday worked (调休)
        ("2026-03-01", False, DayKind.WEEKEND, ""),
        ("2026-03-07", False, DayKind.WEEKEND, ""),
        ("2026-04-06", False, DayKind.HOLIDAY, "清明"),
        ("2026-05-05", False, DayKind.HOLIDAY, "劳动节"),
        ("2026-05-09", True, DayKind.ADJUSTED_WORKDAY, "劳动节"),
        ("2026-06-19", False, DayKind.HOLIDAY, "端午"),
        ("2026-09-20", True, DayKind.ADJUSTED_WORKDAY, "国庆节"),
        ("2026-09-25", False, DayKind.HOLIDAY, "中秋"),
        ("2026-10-01", False, DayKind.HOLIDAY, "国庆节"),
        ("2026-10-07", False, DayKind.HOLIDAY, "国庆节"),
        ("2026-10-08", True, DayKind.WORKDAY, ""),
        ("2026-10-10", True, DayKind.ADJUSTED_WORKDAY, "国庆节"),  # Saturday worked (调休)
        ("2026-10-11", False, DayKind.WEEKEND, ""),
        ("2026-12-31", True, DayKind.WORKDAY, ""),
    ],
)
def test_2026_days(day, workday, kind, name):
    info = wc.day_info(D(day))
    assert (info.date, info.is_workday, info.kind, info.name) == (D(day), workday, kind, name)
    assert info.provisional is False
    assert info.overridden is False
    assert wc.is_workday(D(day)) is workday


def test_spring_festival_2026_is_nine_days_off():
    days = [wc.day_info(date(2026, 2, d)) for d in range(14, 25)]
    assert [d.is_workday for d in days] == [True] + [False] * 9 + [True]
    assert {d.name for d in days[1:10]} == {"春节"}


def test_day_info_accepts_aware_datetime_in_shanghai_terms():
    # 2026-02-14 17:00 UTC is 2026-02-15 01:00 in Shanghai: a holiday
    info = wc.day_info(datetime(2026, 2, 14, 17, 0, tzinfo=UTC))
    assert info.date == D("2026-02-15") and info.kind == DayKind.HOLIDAY


def test_day_info_rejects_non_dates():
    with pytest.raises(ValidationFailed):
        wc.day_info("2026-02-14")
    with pytest.raises(ValidationFailed):
        wc.day_info(datetime(2026, 2, 14, 9, 0))  # naive


def test_month_days():
    days = wc.month_days(2026, 2)
    assert len(days) == 28 and days[0].date == D("2026-02-01") and days[-1].date == D("2026-02-28")
    assert len(wc.month_days(2028, 2)) == 29
    assert wc.month_days(2026, 12)[-1].date == D("2026-12-31")


# --- the override table wins ----------------------------------------------------------------------------


def test_override_turns_a_chinesecalendar_holiday_into_a_workday(sysadmin):
    assert not wc.is_workday(D("2026-02-16"))
    wc.set_override(actor=sysadmin, date=D("2026-02-16"), is_workday=True, name="值班")
    info = wc.day_info(D("2026-02-16"))
    assert (info.is_workday, info.kind, info.name, info.overridden) == (True, DayKind.WORKDAY, "值班", True)
    assert info.provisional is False


def test_override_turns_a_chinesecalendar_workday_into_a_holiday(sysadmin):
    assert wc.is_workday(D("2026-02-14"))
    wc.set_override(actor=sysadmin, date=D("2026-02-14"), is_workday=False, name="春节")
    info = wc.day_info(D("2026-02-14"))
    assert (info.is_workday, info.kind, info.name) == (False, DayKind.HOLIDAY, "春节")
    # and an ordinary Tuesday
    wc.set_override(actor=sysadmin, date=D("2026-03-10"), is_workday=False, name="")
    assert wc.day_info(D("2026-03-10")).kind == DayKind.HOLIDAY


def test_override_on_weekend_kinds(sysadmin):
    wc.set_override(actor=sysadmin, date=D("2026-03-07"), is_workday=True, name="调休上班")
    assert wc.day_info(D("2026-03-07")).kind == DayKind.ADJUSTED_WORKDAY
    wc.set_override(actor=sysadmin, date=D("2026-03-08"), is_workday=False)
    assert wc.day_info(D("2026-03-08")).kind == DayKind.WEEKEND


def test_set_override_replaces_and_audits(sysadmin):
    wc.set_override(actor=sysadmin, date=D("2026-03-09"), is_workday=False, name="临时休息", note="停电")
    wc.set_override(actor=sysadmin, date=D("2026-03-09"), is_workday=True, name="")
    assert CalendarOverride.objects.count() == 1
    assert wc.is_workday(D("2026-03-09"))
    rows = list(AuditLog.objects.filter(action="calendar.override_set").order_by("id"))
    assert len(rows) == 2
    assert rows[0].actor == sysadmin and rows[0].before is None and rows[0].after["name"] == "临时休息"
    before = dict(rows[1].before)
    before.pop("updated_at", None)  # present when the two writes fall on different clock ticks
    assert before == {"is_workday": False, "name": "临时休息", "note": "停电"}
    assert rows[1].after["is_workday"] is True


def test_delete_override_restores_builtin_data(sysadmin):
    wc.set_override(actor=sysadmin, date=D("2026-10-10"), is_workday=False, name="取消调休")
    assert not wc.is_workday(D("2026-10-10"))
    assert wc.delete_override(actor=sysadmin, date=D("2026-10-10")) is True
    assert wc.is_workday(D("2026-10-10"))
    assert wc.delete_override(actor=sysadmin, date=D("2026-10-10")) is False
    assert AuditLog.objects.filter(action="calendar.override_delete").count() == 1


def test_set_override_validates(sysadmin):
    with pytest.raises(ValidationFailed) as exc:
        wc.set_override(actor=sysadmin, date=D("2026-03-09"), is_workday=False, name="长" * 51)
    assert exc.value.field == "name"
    with pytest.raises(ValidationFailed):
        wc.set_override(actor=sysadmin, date="2026-03-09", is_workday=False)
    assert not CalendarOverride.objects.exists()


# --- years without data -----------------------------------------------------------------------------------


def test_2027_is_provisional_weekends_only():
    assert wc.has_builtin_data(2026) and not wc.has_builtin_data(2027)
    assert wc.is_year_covered(2026) and not wc.is_year_covered(2027)
    new_year = wc.day_info(D("2027-01-01"))  # a Friday; the notice will surely make it 元旦
    assert (new_year.is_workday, new_year.kind, new_year.provisional) == (True, DayKind.WORKDAY, True)
    sat = wc.day_info(D("2027-01-02"))
    assert (sat.is_workday, sat.kind, sat.provisional) == (False, DayKind.WEEKEND, True)


def test_entering_2027_overrides_then_confirming(sysadmin):
    wc.set_override(actor=sysadmin, date=D("2027-01-01"), is_workday=False, name="元旦")
    info = wc.day_info(D("2027-01-01"))
    assert (info.is_workday, info.name, info.provisional) == (False, "元旦", True)  # entered, not confirmed
    assert not wc.is_year_covered(2027)
    year = wc.confirm_year(actor=sysadmin, year=2027, notice="国务院办公厅关于2027年部分节假日安排的通知")
    assert year.confirmed and wc.is_year_covered(2027)
    assert wc.day_info(D("2027-01-01")).provisional is False
    assert wc.day_info(D("2027-01-04")) == wc.DayInfo(D("2027-01-04"), True, DayKind.WORKDAY, "", False)
    assert AuditLog.objects.filter(action="calendar.year_confirm", object_id="2027").count() == 1
    # withdrawing the confirmation makes it provisional again
    wc.confirm_year(actor=sysadmin, year=2027, confirmed=False)
    assert wc.day_info(D("2027-01-04")).provisional is True
    assert CalendarYear.objects.get(year=2027).notice.startswith("国务院办公厅")


def test_unconfirmed_calendar_year_row_does_not_cover():
    CalendarYear.objects.create(year=2027, confirmed=False, notice="草稿")
    assert not wc.is_year_covered(2027)


def test_confirm_year_validates(sysadmin):
    with pytest.raises(ValidationFailed):
        wc.confirm_year(actor=sysadmin, year=1999)
    with pytest.raises(ValidationFailed):
        wc.confirm_year(actor=sysadmin, year="二〇二七")


@pytest.mark.parametrize(
    "today, expected",
    [
        ("2026-01-15", []),  # 2026 covered; 2027 not asked for before October
        ("2026-09-30", []),
        ("2026-10-01", [2027]),
        ("2026-12-31", [2027]),
        ("2027-03-01", [2027]),  # current year missing: always
        ("2027-11-01", [2027, 2028]),
    ],
)
def test_years_needing_notice(today, expected):
    at = datetime.fromisoformat(today + "T09:00:00+08:00")
    assert wc.years_needing_notice(at) == expected


def test_years_needing_notice_uses_shanghai_date():
    # 2026-09-30 16:30 UTC is already 2026-10-01 00:30 in Shanghai
    assert wc.years_needing_notice(datetime(2026, 9, 30, 16, 30, tzinfo=UTC)) == [2027]


# --- cache invalidation --------------------------------------------------------------------------------------


def test_model_saves_invalidate_the_cache():
    assert wc.is_workday(D("2026-03-09"))
    row = CalendarOverride.objects.create(date=D("2026-03-09"), is_workday=False, name="临时")
    assert not wc.is_workday(D("2026-03-09"))
    row.is_workday = True
    row.save()
    assert wc.is_workday(D("2026-03-09"))
    row.delete()
    assert wc.is_workday(D("2026-03-09"))
    CalendarYear.objects.create(year=2027, confirmed=True)
    assert wc.is_year_covered(2027)


def test_other_servers_changes_are_noticed_by_the_version_check(settings):
    settings.CIVICGRID = {**settings.CIVICGRID, "CALENDAR_RECHECK_SECONDS": 3600}
    row = CalendarOverride.objects.create(date=D("2026-03-09"), is_workday=False, name="临时")
    assert not wc.is_workday(D("2026-03-09"))
    # a write that sends no signal here (as if made by another app server)
    CalendarOverride.objects.filter(pk=row.pk).update(is_workday=True, updated_at=timezone.now())
    assert not wc.is_workday(D("2026-03-09"))  # within the recheck interval: cached
    settings.CIVICGRID = {**settings.CIVICGRID, "CALENDAR_RECHECK_SECONDS": 0}
    assert wc.is_workday(D("2026-03-09"))  # version (max updated_at) moved: reloaded
    CalendarOverride.objects.filter(pk=row.pk)._raw_delete(using="default")  # no signal either
    assert wc.is_workday(D("2026-03-09"))
    CalendarOverride.objects.bulk_create([CalendarOverride(date=D("2026-03-10"), is_workday=False)])
    assert not wc.is_workday(D("2026-03-10"))  # count moved


def test_cache_is_dropped_after_a_rolled_back_calendar_write(settings):
    settings.CIVICGRID = {**settings.CIVICGRID, "CALENDAR_RECHECK_SECONDS": 3600}
    assert wc.is_workday(D("2026-03-09"))

    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        CalendarOverride.objects.create(date=D("2026-03-09"), is_workday=False)
        assert not wc.is_workday(D("2026-03-09"))  # the writer sees its own change
        raise Boom

    # pytest-django's test transaction is still open, so only the savepoint was rolled back;
    # the version check (count/max) notices once it is due
    settings.CIVICGRID = {**settings.CIVICGRID, "CALENDAR_RECHECK_SECONDS": 0}
    assert wc.is_workday(D("2026-03-09"))


def test_cached_lookups_do_not_query(django_assert_num_queries, settings):
    settings.CIVICGRID = {**settings.CIVICGRID, "CALENDAR_RECHECK_SECONDS": 3600}
    wc.day_info(D("2026-01-01"))
    with django_assert_num_queries(0):
        for m in range(1, 13):
            wc.month_days(2026, m)
        wc.compute_due(datetime.fromisoformat("2026-02-13T10:00+08:00"), 3, "工作日")


def test_working_hours_setting_change_invalidates(settings):
    start = datetime.fromisoformat("2026-03-09T08:00+08:00")
    assert wc.compute_due(start, 1, "工作时").due == datetime.fromisoformat("2026-03-09T09:30+08:00")
    settings.CIVICGRID = {**settings.CIVICGRID, "WORKING_HOURS": [("09:00", "17:00")]}
    assert wc.compute_due(start, 1, "工作时").due == datetime.fromisoformat("2026-03-09T10:00+08:00")
    assert wc.compute_due(start, 1, "工作日").due == datetime.fromisoformat("2026-03-10T17:00+08:00")


@pytest.mark.django_db(transaction=True)
def test_snapshot_loaded_inside_a_rolled_back_transaction_is_dropped(settings):
    """Rollbacks send no signal: the taint check notices the writer's transaction is over."""
    settings.CIVICGRID = {**settings.CIVICGRID, "CALENDAR_RECHECK_SECONDS": 3600}
    assert wc.is_workday(D("2026-03-09"))

    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        CalendarOverride.objects.create(date=D("2026-03-09"), is_workday=False)
        assert not wc.is_workday(D("2026-03-09"))
        raise Boom
    assert wc.is_workday(D("2026-03-09"))  # no recheck was due: the taint did it

    with transaction.atomic():
        CalendarOverride.objects.create(date=D("2026-03-10"), is_workday=False)
        assert not wc.is_workday(D("2026-03-10"))
    assert not wc.is_workday(D("2026-03-10"))  # committed: still there after on_commit
