"""Case figures on hand-built data with known answers (docs/metrics.md).

June 2026 in one 街道 (Asia/Shanghai days):

- c1 reported 05-31 23:30 (May), 立案/派遣 06-01, 签收 after 50 min (within the 2-hour 派遣时限), 办结 06-01 13:00,
  满意 — 4 hours from 立案 to 办结;
- c2 a 网格员 report of 06-10, 签收 after 2 h 50 (too late), overdue, 返工 once, 办结 07-01 (July), 基本满意;
- c3 reported 06-15 and 作废: in no figure;
- c4 reported 06-20 and merged into c5 (reported 06-20, still 上报): a 重复;
- c6 reported 06-30 23:50, 立案 07-01 00:10 (July);
- c7 reported 06-05, 不予受理;
- c8 reported 06-02, a 延期 approved, 办结 06-03 09:00 (24 h after 立案), 不满意.
"""

from __future__ import annotations

from datetime import date

import pytest

from civicgrid.metrics import direct, selectors, services
from civicgrid.metrics.errors import BadQuery
from civicgrid.metrics.models import DailyRollup
from tests.metrics.conftest import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def june(story):
    s = story
    c1 = s.report_at((2026, 5, 31, 23, 30))
    c1 = s.handled(c1, (2026, 6, 1), sign=(10, 0))
    s.closed(c1, (2026, 6, 1, 13, 0))

    c2 = s.report_at((2026, 6, 10, 10, 0), actor=s.grid_worker, source="grid_patrol")
    c2 = s.handled(c2, (2026, 6, 10), sign=(12, 0), finish=(23, 0))  # 签收 2h50 after 派遣; 处置 limit 10 h
    c2 = s.move_at(c2, (2026, 6, 11, 9, 0), "verify_fail", actor=s.grid_worker, reason="未清理干净")
    c2 = s.move_at(c2, (2026, 6, 11, 12, 0), "finish")
    s.closed(c2, (2026, 7, 1, 9, 0), rating="basic")

    c3 = s.report_at((2026, 6, 15, 10, 0))
    s.move_at(c3, (2026, 6, 15, 11, 0), "void")

    c5 = s.report_at((2026, 6, 20, 9, 0))
    c4 = s.report_at((2026, 6, 20, 10, 0))
    s.move_at(c4, (2026, 6, 20, 11, 0), "merge", target_case=c5)

    c6 = s.report_at((2026, 6, 30, 23, 50))
    s.move_at(c6, (2026, 7, 1, 0, 10), "accept")

    c7 = s.report_at((2026, 6, 5, 8, 0))
    s.move_at(c7, (2026, 6, 5, 8, 30), "reject")

    c8 = s.report_at((2026, 6, 2, 8, 0))
    c8 = s.move_at(c8, (2026, 6, 2, 9, 0), "accept")
    c8 = s.move_at(c8, (2026, 6, 2, 9, 10), "dispatch")
    c8 = s.move_at(c8, (2026, 6, 2, 9, 30), "sign")
    ext = {"amount": 24, "unit": "natural_hours", "reason": "需协调产权单位"}
    c8 = s.move_at(c8, (2026, 6, 2, 10, 0), "request_extension", actor=s.handler, **ext)
    c8 = s.move_at(c8, (2026, 6, 2, 11, 0), "approve_extension", actor=s.shift_leader)
    c8 = s.move_at(c8, (2026, 6, 3, 8, 0), "finish")
    s.closed(c8, (2026, 6, 3, 9, 0), rating="dissatisfied")
    services.refresh()
    return s


def stats(start, end, **kw):
    return selectors.stats(user=None, start=start, end=end, **kw)


def test_june_figures_follow_each_period_rule(june):
    t = stats(date(2026, 6, 1), date(2026, 6, 30))["totals"]
    # by 上报 date: c2 c4 c5 c6 c7 c8 (c1 is May's, c3 作废)
    assert t["received"] == 6
    assert (t["received_grid"], t["proactive_rate"]) == (1, 16.7)
    assert (t["merged"], t["repeat_rate"]) == (1, 16.7)
    assert t["rejected"] == 1
    # by 立案 date: c1 c2 c8 (c6 is July's); all three are 办结 by now
    assert (t["accepted"], t["accepted_done"], t["resolve_rate"]) == (3, 3, 100.0)
    # by 派遣 date: c1 c2 c8; c2 signed too late
    assert (t["dispatched"], t["responded"], t["response_rate"]) == (3, 2, 66.7)
    # by 办结 date: c1 (06-01) and c8 (06-03); c2 closed in July
    assert t["done"] == 2
    assert (t["done_on_time"], t["on_time_rate"]) == (2, 100.0)
    assert (t["rated"], t["rated_satisfied"], t["rated_basic"], t["satisfaction_rate"]) == (2, 1, 0, 50.0)
    assert (t["reworked"], t["rework_rate"]) == (0, 0.0)
    assert (t["extended"], t["extension_rate"]) == (1, 50.0)
    assert t["avg_handle_hours"] == 14.0  # (4 h + 24 h) / 2


def test_july_holds_the_case_closed_on_its_first_day(june):
    t = stats(date(2026, 7, 1), date(2026, 7, 31))["totals"]
    assert (t["received"], t["accepted"], t["done"]) == (0, 1, 1)
    assert (t["on_time_rate"], t["rework_rate"], t["satisfaction_rate"]) == (0.0, 100.0, 100.0)
    assert t["accepted_done"] == 0 and t["resolve_rate"] == 0.0  # c6 is still open


def test_a_period_across_the_month_boundary_takes_each_side_by_its_own_timestamp(june):
    t = stats(date(2026, 6, 30), date(2026, 7, 1))["totals"]
    # c6: reported 06-30 23:50 and 立案 07-01 00:10 — both inside; c2 办结 07-01
    assert (t["received"], t["accepted"], t["done"], t["dispatched"]) == (1, 1, 1, 0)
    # Shanghai days, not UTC: 06-30 23:50 +08:00 is 15:50 UTC, still 06-30
    assert stats(date(2026, 7, 1), date(2026, 7, 1))["totals"]["received"] == 0


def test_an_empty_period_has_zero_counts_and_no_rates(june):
    data = stats(date(2026, 3, 1), date(2026, 3, 31), by="community")
    t = data["totals"]
    assert all(t[k] == 0 for k in ("received", "accepted", "dispatched", "done"))
    assert all(
        t[k] is None for k in ("on_time_rate", "response_rate", "satisfaction_rate", "avg_handle_hours")
    )
    assert data["groups"] == []


def test_month_on_month_and_year_on_year(june):
    data = stats(date(2026, 6, 1), date(2026, 6, 30))
    assert data["previous"]["from"] == "2026-05-02" and data["previous"]["to"] == "2026-05-31"
    assert data["previous"]["received"] == 1  # c1
    assert data["change"]["mom"]["received"] == 500.0  # 1 → 6
    assert data["last_year"]["from"] == "2025-06-01" and data["last_year"]["received"] == 0
    assert data["change"]["yoy"]["received"] is None  # nothing to compare with
    july = stats(date(2026, 7, 1), date(2026, 7, 30))
    # rates change in percentage points: 按期办结率 100 % in the 30 days before → 0 % in July
    assert july["change"]["mom"]["on_time_rate"] == -100.0


def test_groups_by_source_and_by_category_family(june):
    rows = {g["key"]: g for g in stats(date(2026, 6, 1), date(2026, 6, 30), by="source")["groups"]}
    assert rows["grid_patrol"]["received"] == 1 and rows["grid_patrol"]["label"] == "网格员巡查"
    assert rows["hotline_12345"]["received"] == 5
    fam = stats(date(2026, 6, 1), date(2026, 6, 30), by="category")["groups"]
    assert [(g["key"], g["label"], g["received"]) for g in fam] == [("T90", "测试大类", 6)]
    depts = {g["label"]: g for g in stats(date(2026, 6, 1), date(2026, 6, 30), by="department")["groups"]}
    assert depts["城管中队"]["done"] == 2 and depts["未派遣"]["received"] == 4


def test_the_rollup_agrees_with_a_direct_count_and_follows_later_moves(june):
    from civicgrid.cases.models import Case

    def agree(start, end, by=None):
        col = selectors.BY[by] if by else None
        got = selectors.rollup_counters(user=None, start=start, end=end, by=by)
        want = direct.counters(Case.objects.all(), start, end, by=col)
        got = {k: v for k, v in got.items() if any(v.values())}
        assert got == {(k or (0 if col and col.endswith("_id") else k)): v for k, v in want.items()}

    agree(date(2026, 5, 1), date(2026, 7, 31))
    agree(date(2026, 6, 1), date(2026, 6, 30), by="department")
    # a later move changes an old period: c6 dispatched and voided in August
    c6 = Case.objects.get(created_at=at(2026, 6, 30, 23, 50))
    june.move_at(c6, (2026, 8, 1, 9, 0), "void")
    services.refresh()
    agree(date(2026, 5, 1), date(2026, 8, 31))
    assert stats(date(2026, 7, 1), date(2026, 7, 31))["totals"]["accepted"] == 0
    before = sorted(DailyRollup.objects.values_list("day", "received", "accepted", "done"))
    assert services.rebuild()["rollup_rows"] == len(before)
    assert sorted(DailyRollup.objects.values_list("day", "received", "accepted", "done")) == before


def test_bad_queries_name_their_field():
    with pytest.raises(BadQuery) as e:
        selectors.parse_period("2026-06-31", "2026-07-01")
    assert e.value.field == "from" and e.value.status == 400
    with pytest.raises(BadQuery) as e:
        selectors.parse_period("2026-07-02", "2026-07-01")
    assert e.value.field == "from"
    with pytest.raises(BadQuery) as e:
        selectors.parse_by("weekday")
    assert e.value.field == "by"


def test_the_periodic_job_keeps_the_rollup_current(story):
    from civicgrid.core import periodic

    assert periodic.REGISTRY[services.JOB_NAME].interval == services.JOB_INTERVAL
    story.report_at((2026, 9, 1, 10, 0))
    sept = (date(2026, 9, 1), date(2026, 9, 30))
    assert stats(*sept)["totals"]["received"] == 0  # not yet counted: the job has not run
    periodic.run_now(services.JOB_NAME)
    assert stats(*sept)["totals"]["received"] == 1
    assert periodic.run_now(services.JOB_NAME) is not None  # a round with nothing new changes nothing
    assert stats(*sept)["totals"]["received"] == 1


def test_a_period_ending_inside_a_month_with_no_later_day_reads_that_months_row():
    """本月 and 今年以来 end today: the month of ``end`` holds no later day yet, so its coarse row is exactly the
    sum of its days so far (a later day anywhere, e.g. a period ending last week, and the days are read)."""
    split = selectors.cube_split
    nov, oct_ = date(2026, 11, 1), date(2026, 10, 1)
    assert split(date(2026, 1, 1), date(2026, 11, 26)) == ([], (date(2026, 1, 1), nov))
    assert split(nov, date(2026, 11, 26)) == ([], (nov, nov))
    assert split(date(2026, 10, 15), date(2026, 11, 26)) == (
        [(date(2026, 10, 15), date(2026, 10, 31))],
        (nov, nov),
    )
    # a period starting inside the month cannot take its row (it would add the days before the start)
    assert split(date(2026, 11, 10), date(2026, 11, 26)) == ([(date(2026, 11, 10), date(2026, 11, 26))], None)
    # a whole month ending the period is a whole month either way
    assert split(date(2026, 1, 1), date(2026, 10, 31)) == ([], (date(2026, 1, 1), oct_))
    DailyRollup.objects.create(day=date(2026, 11, 27), street_id=1, received=1)
    assert split(date(2026, 1, 1), date(2026, 11, 26)) == (
        [(nov, date(2026, 11, 26))],
        (date(2026, 1, 1), oct_),
    )
    assert split(nov, date(2026, 11, 27)) == ([], (nov, nov))
