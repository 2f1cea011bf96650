"""The 目标考核 rules on hand-built data with known answers (docs/goals.md states each one)."""

from __future__ import annotations

from decimal import Decimal as D

from civicgrid.goals import metrics
from civicgrid.goals.metrics import Figures, Light, Method, Rule


def fc_status(rule: Rule, fig: Figures | None):
    fc = metrics.forecast(rule, fig)
    return fc, metrics.status(rule, fig, fc)


# --- forecast ---------------------------------------------------------------------------------------------


def test_linear_pace_when_last_years_profile_is_unknown():
    rule = Rule(target_total=D(120))
    fc, st = fc_status(rule, Figures(9, ytd_total=D(90), ytd_growth=D("8.5")))
    assert (fc.method, fc.total, fc.growth) == (Method.LINEAR, D("120.00"), D("8.50"))  # growth carried
    assert st.light == Light.GREEN
    assert "已过 9 个月" in fc.inputs and "增幅沿用累计增幅 8.50%" in fc.inputs


def test_seasonal_share_from_last_years_same_period_and_full_year():
    # last year: 60 of 100 by September (share 60 %); this year 69 by September → 69 / 0.6 = 115, +15 %
    rule = Rule(target_total=D(110), target_growth=D(20), last_year_total=D(100))
    fc, st = fc_status(rule, Figures(9, ytd_total=D(69), prior_ytd=D(60)))
    assert (fc.method, fc.total, fc.growth) == (Method.SEASONAL, D("115.00"), D("15.00"))
    assert "季节占比 60.00%" in fc.inputs
    # the total meets its target (green) but the growth is 5 points short: within the 5-point margin → 黄灯
    assert st.light == Light.YELLOW
    assert len(st.reasons) == 2


def test_a_same_period_above_last_years_total_falls_back_to_linear():
    fc = metrics.forecast(Rule(last_year_total=D(50)), Figures(6, ytd_total=D(30), prior_ytd=D(60)))
    assert (fc.method, fc.total, fc.growth) == (Method.LINEAR, D("60.00"), D("20.00"))


def test_the_margin_separates_yellow_from_red():
    rule = Rule(target_total=D(120))  # margin 5 % of 120 = 6
    assert fc_status(rule, Figures(9, ytd_total=D(86)))[1].light == Light.YELLOW  # 114.67: 5.33 short
    assert fc_status(rule, Figures(9, ytd_total=D(85)))[1].light == Light.RED  # 113.33: 6.67 short
    assert (
        fc_status(Rule(target_total=D(120), margin=D(10)), Figures(9, ytd_total=D(85)))[1].light
        == Light.YELLOW
    )


def test_a_missing_month_uses_the_latest_earlier_month():
    figs = {m: Figures(m, ytd_total=D(10 * m)) for m in range(1, 8)}
    figs[9] = Figures(9, ytd_total=D(95))
    fig = metrics.latest(figs, 8)  # August never came
    assert fig.month == 7
    fc, st = fc_status(Rule(target_total=D(120)), fig)
    assert fc.total == D("120.00") and st.light == Light.GREEN
    assert metrics.latest(figs, 9).month == 9
    assert metrics.latest({}, 9) is None
    assert metrics.latest({3: Figures(3)}, 3) is None  # a month with no figure at all counts as missing


def test_no_figures_no_light():
    fc, st = fc_status(Rule(target_total=D(100)), None)
    assert fc.method == Method.NONE and st.light == Light.NONE


def test_zero_target_lower_is_better():
    # e.g. 较大以上安全生产事故 0 起: any accident is red (5 % of 0 is no margin)
    rule = Rule(target_total=D(0), higher_is_better=False)
    assert fc_status(rule, Figures(6, ytd_total=D(0)))[1].light == Light.GREEN
    fc, st = fc_status(rule, Figures(6, ytd_total=D(1)))
    assert fc.total == D("2.00") and st.light == Light.RED


def test_zero_target_growth_uses_points():
    rule = Rule(basis="growth", target_growth=D(0))
    assert fc_status(rule, Figures(9, ytd_growth=D("-4")))[1].light == Light.YELLOW  # 4 points short of 0
    assert fc_status(rule, Figures(9, ytd_growth=D("-6")))[1].light == Light.RED
    assert fc_status(rule, Figures(9, ytd_growth=D("0.1")))[1].light == Light.GREEN


def test_lower_is_better_total():
    rule = Rule(target_total=D(10), higher_is_better=False)  # e.g. 能耗 ≤ 10; margin 0.5
    assert fc_status(rule, Figures(6, ytd_total=D(5)))[1].light == Light.GREEN  # 10
    assert fc_status(rule, Figures(6, ytd_total=D("5.1")))[1].light == Light.YELLOW  # 10.2
    assert fc_status(rule, Figures(6, ytd_total=D(6)))[1].light == Light.RED  # 12


def test_growth_only_is_carried():
    fc, st = fc_status(Rule(basis="growth", target_growth=D("6.5")), Figures(9, ytd_growth=D(7)))
    assert (fc.method, fc.total, fc.growth) == (Method.CARRY, None, D("7.00"))
    assert st.light == Light.GREEN


def test_a_ratio_is_carried_and_compared_to_its_target():
    rule = Rule(basis="ratio", target_growth=D(95))  # e.g. 12345 满意率 ≥ 95 %
    fc, st = fc_status(rule, Figures(9, ytd_total=D("93.2")))
    assert fc.method == Method.CARRY and fc.total == D("93.20") and st.light == Light.YELLOW


def test_manual_override_wins_and_derives_its_growth():
    rule = Rule(target_total=D(120), last_year_total=D(100), override_total=D(126))
    fc, st = fc_status(rule, Figures(9, ytd_total=D(60)))
    assert (fc.method, fc.total, fc.growth) == (Method.MANUAL, D("126.00"), D("26.00"))
    assert st.light == Light.GREEN


def test_time_progress_rule_without_a_forecast():
    rule = Rule(target_total=D(120), forecast_mode="none")  # due by September: 9/12 × 120 = 90; margin 4.5
    assert fc_status(rule, Figures(9, ytd_total=D(90)))[1].light == Light.GREEN
    assert fc_status(rule, Figures(9, ytd_total=D(88)))[1].light == Light.YELLOW
    fc, st = fc_status(rule, Figures(9, ytd_total=D(80)))
    assert fc.method == Method.NONE and st.light == Light.RED
    assert "时序进度目标 90.00" in st.reasons[0]


def test_done_or_not():
    rule = Rule(basis="done")
    assert fc_status(rule, Figures(5, ytd_total=D(1)))[1].light == Light.GREEN
    assert fc_status(rule, Figures(5, ytd_total=D(0)))[1].light == Light.YELLOW
    assert fc_status(rule, Figures(12, ytd_total=D(0)))[1].light == Light.RED


def test_climbed_compares_the_last_two_ranks():
    assert metrics.climbed({7: Figures(7, D(1), rank=5), 8: Figures(8, D(1)), 9: Figures(9, D(1), rank=3)}, 9)
    assert not metrics.climbed({8: Figures(8, D(1), rank=3), 9: Figures(9, D(1), rank=4)}, 9)
    assert not metrics.climbed({9: Figures(9, D(1), rank=3)}, 9)
    # as of August only July's and August's ranks count
    figs = {7: Figures(7, D(1), rank=2), 8: Figures(8, D(1), rank=2), 9: Figures(9, D(1), rank=1)}
    assert not metrics.climbed(figs, 8) and metrics.climbed(figs, 9)


# --- projects ---------------------------------------------------------------------------------------------


def test_project_over_100_percent_and_pooled_category_rate():
    assert metrics.rate(D(868), D(800)) == D("108.50")
    done, plan, rate = metrics.pooled_rate([(D(868), D(800)), (D(100), D(400))])
    assert (done, plan, rate) == (D(968), D(1200), D("80.67"))  # not (108.5 + 25) / 2 = 66.75
    assert metrics.rate(D(5), D(0)) is None
    assert metrics.pooled_rate([]) == (D(0), D(0), None)


def test_lagging_against_time_progress():
    assert metrics.lagging(D(290), D(400), 9)  # 72.5 % < 75 %
    assert not metrics.lagging(D(300), D(400), 9)
    assert not metrics.lagging(D(0), D(0), 9)


def test_cumulative_carries_over_a_month_without_report():
    progress = {3: D(100), 5: D(250)}
    assert metrics.cumulative_at(progress, 4) == (D(100), 3)
    assert metrics.cumulative_at(progress, 9) == (D(250), 5)
    assert metrics.cumulative_at(progress, 2) == (D(0), None)


def test_stage_counts_read_like_the_report():
    stages = {"stage_in_use": 38, "stage_pending": 5, "stage_building": 11, "stage_applied": 16}
    assert (
        metrics.stage_sentence("elevator", stages)
        == "38台已投入使用，5台已完工待交付，11台正在施工，16台正在按程序申报"
    )
    assert metrics.stage_sentence("old_estate", {"stage_building": 2}) == "2个小区正在施工"
    assert metrics.stage_sentence("elevator", {}) == ""
