"""The monthly figures on hand-built data with known answers: October 2025 has the 国庆 holidays (1–3 and 6–8
October off) and an adjusted working Saturday (11 October): 18 working days."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from civicgrid.core import clock
from civicgrid.gridwork import metrics, services
from civicgrid.gridwork.models import GridworkRule
from tests.gridwork.conftest import at, inside

pytestmark = pytest.mark.django_db

IN, OUT = inside(0), inside(1)  # the worker's own grid, the neighbouring one


def _check(pw, point, when, n, *, near=True):
    with clock.frozen(when):
        return services.check_in(
            actor=pw.grid_worker,
            point=point,
            client_id=f"chk-{point.pk}-{when:%m%d%H%M}-{n}",
            lng=point.lng if near else OUT[0],
            lat=point.lat if near else OUT[1],
        )


def _report(pw, when, n, *, file: bool):
    with clock.frozen(when):
        return services.check_in(
            actor=pw.grid_worker,
            point=pw.relic,
            client_id=f"rep-{n:04d}-{when:%m%d}",
            lng=pw.relic.lng,
            lat=pw.relic.lat,
            findings=f"古桥栏杆破损第{n}处",
            report=True,
            category=pw.minor if file else None,
        )


@pytest.fixture
def october(pw):
    walk = pw.walk
    w = pw.grid_worker
    walk(w, at(2025, 9, 30, 9), [IN] * 13)  # September: not counted
    walk(w, at(2025, 10, 3, 9), [IN] * 10)  # a holiday: 45 min, all inside (hours yes, 打卡 day no)
    walk(w, at(2025, 10, 9, 9), [IN] * 13)  # Thursday: 60 min, all inside → valid
    walk(w, at(2025, 10, 10, 9), [OUT] * 5)  # Friday: 20 min → not valid; all outside
    walk(w, at(2025, 10, 11, 9), [IN] * 4 + [OUT] * 5)  # adjusted working Saturday: 40 min, 4 × 5 min inside
    # points: the relic (每月1次) once; the market (每周2次 → ⌈2 × 31 / 7⌉ = 9) nine times; the river (每日 → 18)
    # once near and once too far
    _check(pw, pw.relic, at(2025, 10, 9, 9, 10), 1)
    for i in range(9):
        _check(pw, pw.market, at(2025, 10, 9, 9, 20) + timedelta(days=i), i)
    _check(pw, pw.river, at(2025, 10, 9, 9, 30), 1)
    _check(pw, pw.river, at(2025, 10, 10, 9, 30), 2, near=False)
    # 4 主动上报, 2 of them 立案 at once (a category a grid worker may file)
    for n, file in enumerate([True, False, True, False]):
        _report(pw, at(2025, 10, 20, 10, n), n, file=file)
    pw.report(actor=pw.dispatcher, source="hotline_12345")  # (not the worker's, not 网格员巡查)
    return metrics.month_period(2025, 10, today=date(2026, 1, 5))


def test_a_month_with_holidays_per_grid_worker(pw, october, rule):
    assert len(october.workdays) == 18
    rows = {r.key: r for r in metrics.by_worker(user=pw.dispatcher, period=october)}
    a = rows[pw.grid_worker.pk]
    assert (a.workdays, a.attended, a.attendance) == (18, 2, 11.1)  # 9 and 11 October
    assert (a.patrols, a.valid_patrols) == (4, 3)
    assert a.duration_s == (45 + 60 + 20 + 40) * 60
    assert (a.tracked_s, a.inside_s) == (9900, 2700 + 3600 + 1200)
    assert a.inside_rate == 75.8  # 7500 / 9900
    assert (a.points, a.covered, a.coverage) == (3, 2, 66.7)  # relic and market, not the river
    assert (a.reports, a.accepted, a.valid_report_rate) == (4, 2, 50.0)
    # 考核得分 with the default weights 30/20/20/15/15 and the target of 10 reports a month
    assert a.score == round((30 * 11.1 + 20 * 75.8 + 20 * 66.7 + 15 * 40 + 15 * 50) / 100, 1) == 45.3
    b = rows[pw.worker2.pk]  # no patrol, no point, no report
    assert (b.attendance, b.inside_rate, b.coverage, b.valid_report_rate) == (0.0, None, None, None)
    assert b.score == 0.0  # 打卡率 0 and 主动上报 0; the terms without data are left out


def test_the_weights_and_the_valid_patrol_rule_are_configurable(pw, october):
    rule = GridworkRule.current()
    rule.valid_minutes = 15  # the 20 min patrol of Friday 10 October becomes valid
    rule.weight_attendance, rule.weight_inside, rule.weight_coverage = 100, 0, 0
    rule.weight_reports = rule.weight_valid_reports = 0
    rule.save()
    a = next(r for r in metrics.by_worker(user=pw.dispatcher, period=october) if r.key == pw.grid_worker.pk)
    assert (a.attended, a.attendance, a.score) == (3, 16.7, 16.7)


def test_grid_and_community_rows_add_up_their_grid_workers(pw, october):
    grids = {r.key: r for r in metrics.by_grid(user=pw.dispatcher, period=october)}
    g = grids[pw.grid.pk]
    assert (g.workers, g.workdays, g.attended, g.points, g.covered, g.reports, g.accepted) == (
        1,
        18,
        2,
        3,
        2,
        4,
        2,
    )
    assert grids[pw.grid2.pk].workers == 1 and grids[pw.grid2.pk].attended == 0
    comms = {r.key: r for r in metrics.by_community(user=pw.dispatcher, period=october)}
    c = comms[pw.community.pk]
    assert (c.workers, c.workdays, c.attended, c.attendance) == (2, 36, 2, 5.6)
    assert (c.tracked_s, c.inside_s, c.reports, c.accepted) == (9900, 7500, 4, 2)
    other = comms[pw.other_grid.community.pk]
    assert (other.workers, other.points, other.covered) == (1, 1, 0)


def test_each_role_sees_the_figures_of_its_own_scope(pw, october):
    mine = metrics.by_worker(user=pw.grid_worker, period=october)
    assert [r.key for r in mine] == [pw.grid_worker.pk]
    staff = {r.key for r in metrics.by_worker(user=pw.community_staff, period=october)}
    assert staff == {pw.grid_worker.pk, pw.worker2.pk}
    assert pw.other_worker.pk not in staff
    assert metrics.by_worker(user=pw.handler, period=october) == []


def test_the_running_month_ends_today_and_a_future_month_has_no_figures():
    p = metrics.month_period(2025, 10, today=date(2025, 10, 11))
    assert (p.start, p.end, len(p.workdays)) == (
        date(2025, 10, 1),
        date(2025, 10, 11),
        3,
    )  # 9, 10, 11 October
    assert metrics.month_period(2025, 11, today=date(2025, 10, 9)) is None


def test_a_point_in_a_dedicated_grid_inside_the_workers_grid_is_theirs(pw):
    pw.point("专属网格内垃圾房", "refuse", col=0, dx=0.1, dy=0.1, grid=pw.dedicated, period="month")
    period = metrics.month_period(2025, 10, today=date(2026, 1, 5))
    a = next(r for r in metrics.by_worker(user=pw.dispatcher, period=period) if r.key == pw.grid_worker.pk)
    assert a.points == 4
    assert (
        next(
            r for r in metrics.by_community(user=pw.dispatcher, period=period) if r.key == pw.community.pk
        ).points
        == 4
    )
