"""The 经济发展办's story through the services: figures entered month by month, a manual forecast with its
reason, a project's investment; every write audited, every bad input named, another 街道's rows out of reach."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from civicgrid.core.errors import NotFound, PermissionDenied, ValidationFailed
from civicgrid.core.models import AuditLog
from civicgrid.goals import metrics, selectors, services
from civicgrid.goals.models import Actual

pytestmark = pytest.mark.django_db


def test_the_summary_of_september_counts_lights_and_climbs(gw):
    s = selectors.summary(scorecard=gw.card)
    assert s.month == 9  # the latest month with figures
    lines = {line.indicator.seq: line for line in s.lines}
    gdp = lines[1]
    assert gdp.forecast.method == metrics.Method.LINEAR and gdp.forecast.total == D("120.00")
    assert gdp.status.light == "green" and gdp.climbed  # rank 5 → 3
    assert lines[2].status.light == "yellow"  # growth 5 vs 8: 3 points short, within 5
    assert lines[3].status.light == "green"  # 0 accidents, target 0, lower is better
    assert (s.green, s.yellow, s.red, s.climbed) == (2, 1, 0, 1)


def test_august_is_missing_so_its_summary_uses_july(gw):
    s = selectors.summary(scorecard=gw.card, month=8)
    gdp = s.lines[0]
    assert gdp.figures.month == 7 and gdp.stale
    assert gdp.forecast.total == D("120.00")  # 70 / 7 × 12


def test_entering_a_month_replaces_it_and_is_audited(gw):
    row = services.save_actual(
        actor=gw.leader, indicator=gw.gdp, month="8", ytd_total="80.5", ytd_growth="6.8%"
    )
    assert (row.month, row.ytd_total, row.ytd_growth, row.updated_by) == (8, D("80.5"), D("6.8"), gw.leader)
    assert row.source == "entered"
    services.save_actual(actor=gw.leader, indicator=gw.gdp, month=8, ytd_total="81", ytd_growth="6.8")
    assert Actual.objects.get(indicator=gw.gdp, month=8).ytd_total == D(81)
    logs = AuditLog.objects.filter(action="goals.actual.save", object_id=str(row.pk))
    assert logs.count() == 2
    last = logs.order_by("pk").last()
    assert (last.before, last.after) == ({"ytd_total": "80.5000"}, {"ytd_total": "81.0000"})


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"month": 13, "ytd_total": 1}, "month"),
        ({"month": "九", "ytd_total": 1}, "month"),
        ({"month": 9}, "ytd_total"),
        ({"month": 9, "ytd_total": "八十"}, "ytd_total"),
        ({"month": 9, "ytd_growth": "1e30"}, "ytd_growth"),
        ({"month": 9, "ytd_total": 1, "rank": "0"}, "rank"),
        ({"month": 9, "ytd_total": 1, "prior_ytd": "-3"}, "prior_ytd"),
    ],
)
def test_bad_figures_name_their_field_and_write_nothing(gw, kw, field):
    before = Actual.objects.count()
    with pytest.raises(ValidationFailed) as exc:
        services.save_actual(actor=gw.leader, indicator=gw.gdp, **kw)
    assert exc.value.field == field
    assert Actual.objects.count() == before


def test_a_manual_forecast_needs_a_reason_and_is_audited(gw):
    with pytest.raises(ValidationFailed) as exc:
        services.set_override(actor=gw.leader, indicator=gw.gdp, total="110")
    assert exc.value.field == "override_reason"
    ind = services.set_override(
        actor=gw.leader, indicator=gw.gdp, total="110", reason="四季度重大项目延后投产"
    )
    assert (ind.override_total, ind.override_by, ind.override_reason) == (
        D(110),
        gw.leader,
        "四季度重大项目延后投产",
    )
    line = selectors.summary(scorecard=gw.card).lines[0]
    assert line.forecast.method == "manual" and line.forecast.total == D("110.00")
    assert line.status.light == "red"  # 110 vs 120: 10 short, beyond the 6 of the margin
    assert AuditLog.objects.filter(action="goals.forecast.override", object_id=str(ind.pk)).exists()
    ind = services.clear_override(actor=gw.leader, indicator=ind)
    assert not ind.has_override and AuditLog.objects.filter(action="goals.forecast.clear").count() == 1
    assert selectors.summary(scorecard=gw.card).lines[0].forecast.method == "linear"


def test_project_progress_rates_and_the_board(gw):
    b = selectors.board(user=gw.leader, year=2026, month=9)
    assert b.count == 3
    cats = {c.code: c for c in b.categories}
    industry = cats["new_industry"]
    assert {line.project.name: line.rate for line in industry.lines} == {
        "智能制造产业园": D("108.50"),
        "研发中心": D("25.00"),
    }
    assert industry.rate == D("80.67")  # 968 / 1200, not the mean of the two rates
    assert [line.project.name for line in industry.lines if line.lagging] == ["研发中心"]
    lift = cats["elevator"].lines[0]
    assert (lift.done, lift.reported_month, lift.rate, lift.lagging) == (D(160), 6, D("80.00"), False)
    assert (b.done, b.plan, b.rate, b.lagging) == (D(1128), D(1400), D("80.57"), 1)
    assert "乙专属项目" not in {line.project.name for c in b.categories for line in c.lines}


def test_elevator_stage_counts_add_up_per_category(gw):
    gw.lift.stage_in_use, gw.lift.stage_building = 30, 4
    gw.lift.save()
    from civicgrid.goals.models import Project

    Project.objects.create(
        street=gw.street, year=2026, category="elevator", name="第二批电梯", annual_plan=D(100), stage_in_use=8,
        stage_applied=16,
    )  # fmt: skip
    cats = {c.code: c for c in selectors.board(user=gw.leader, year=2026, month=9).categories}
    assert cats["elevator"].stages == "38台已投入使用，4台正在施工，16台正在按程序申报"
    assert cats["new_industry"].stages == ""


def test_progress_may_not_fall_below_an_earlier_month(gw):
    with pytest.raises(ValidationFailed) as exc:
        services.save_progress(actor=gw.leader, project=gw.lift, month=7, cumulative="150")
    assert exc.value.field == "cumulative" and "1-6月" in exc.value.message
    row = services.save_progress(actor=gw.leader, project=gw.lift, month=7, cumulative="175", note="3台投用")
    assert row.cumulative == D(175)
    assert AuditLog.objects.filter(action="goals.progress.save", object_id=str(row.pk)).exists()
    with pytest.raises(ValidationFailed):
        services.save_progress(actor=gw.leader, project=gw.lift, month=8, cumulative="")


def test_another_street_and_other_roles_are_out_of_reach(gw):
    with pytest.raises(NotFound):
        services.save_actual(actor=gw.other_leader, indicator=gw.gdp, month=9, ytd_total=1)
    with pytest.raises(NotFound):
        services.save_progress(actor=gw.other_leader, project=gw.plant, month=9, cumulative=1)
    with pytest.raises(PermissionDenied):
        services.save_actual(actor=gw.worker, indicator=gw.gdp, month=9, ytd_total=1)
    assert list(selectors.visible_scorecards(user=gw.worker)) == []
    assert list(selectors.visible_scorecards(user=gw.leader)) == [gw.card]
