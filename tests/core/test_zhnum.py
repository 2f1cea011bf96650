"""The report number style: each rule with the report sentence it comes from."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from civicgrid.core import zhnum


class TestAmount:
    def test_yi_with_two_decimals_as_investment_sentences_write_it(self):
        # "全年计划总投资22.12亿元，1-9月完成投资19.98亿元"
        assert zhnum.amount(2_212_000_000) == "22.12亿元"
        assert zhnum.amount(1_998_000_000) == "19.98亿元"
        assert zhnum.amount(868_000_000) == "8.68亿元"

    def test_wan_between_one_wan_and_one_yi(self):
        assert zhnum.amount(3_164_104) == "316.41万元"
        assert zhnum.amount(12_345, decimals=1) == "1.2万元"

    def test_yuan_when_asked_or_small(self):
        # "累计发放保障金3164104元"
        assert zhnum.amount(3_164_104, unit="元") == "3164104元"
        assert zhnum.amount(800) == "800元"

    def test_rounding_and_stripping(self):
        assert zhnum.amount(2_215_500_000, decimals=1) == "22.2亿元"
        assert zhnum.amount(2_215_500_000, decimals=1, rounding=zhnum.TRUNCATE) == "22.1亿元"
        assert zhnum.amount(2_000_000_000, strip=True) == "20亿元"
        assert zhnum.amount(Decimal("150000000.00"), unit="亿元", strip=True) == "1.5亿元"

    def test_missing_is_none_and_bad_unit_is_an_error(self):
        assert zhnum.amount(None) is None
        with pytest.raises(ValueError, match="unit"):
            zhnum.amount(1, unit="千元")
        with pytest.raises(TypeError):
            zhnum.amount("100")


class TestRate:
    def test_truncating_office_writes_98_3(self):
        # "全年共受理各类来信来访183件，办结180件，办结率达98.3%"
        assert zhnum.rate(180, 183, rounding=zhnum.TRUNCATE) == "98.3%"
        assert zhnum.rate(180, 183) == "98.4%"

    def test_two_decimals_and_over_100(self):
        # "占计划的90.33%", "完成计划的108.5%"
        assert zhnum.rate(19.98, 22.12, decimals=2) == "90.33%"
        assert zhnum.rate(8.68, 8, decimals=1) == "108.5%"

    def test_nothing_over_nothing_is_left_out(self):
        assert zhnum.rate(0, 0) is None
        assert zhnum.rate(5, None) is None
        assert zhnum.rate(0, 7) == "0.0%"
        assert zhnum.rate(7, 7, strip=True) == "100%"

    def test_float_noise_does_not_leak(self):
        assert zhnum.percent(0.1 + 0.2, decimals=2) == "0.30%"
        assert zhnum.percent(-0.04) == "0.0%"  # never "-0.0%"

    def test_unknown_rounding_is_refused(self):
        with pytest.raises(ValueError, match="rounding"):
            zhnum.rate(1, 3, rounding="banker")


class TestApprox:
    def test_yu(self):
        # "20000余户"
        assert zhnum.approx(20_345) == "20000余"
        assert zhnum.approx(20_000) == "20000"  # already round: no 余

    def test_yu_in_wan(self):
        # "对1.6万余流动人口实现人来登记、人走注销"
        assert zhnum.approx(16_234, digits=2, unit="万") == "1.6万余"
        assert zhnum.approx(60_709, digits=1, unit="万") == "6万余"
        with pytest.raises(ValueError, match="万"):
            zhnum.approx(9_000, unit="万")

    def test_duo(self):
        # "采集12座重点楼宇400多家单位基础信息"
        assert zhnum.approx(423, style="多") == "400多"
        assert zhnum.approx(1_480, style="多", digits=2) == "1400多"

    def test_jin(self):
        # "近百"
        assert zhnum.approx(97, style="近") == "近百"
        assert zhnum.approx(90, style="近") == "近百"
        assert zhnum.approx(89, style="近") == "89"  # not near enough: the count itself
        assert zhnum.approx(100, style="近") == "100"  # reached: not 近
        assert zhnum.approx(9_300, style="近") == "近万"

    def test_small_counts_and_bad_styles(self):
        assert zhnum.approx(7) == "7"
        assert zhnum.approx(None) is None
        with pytest.raises(ValueError):
            zhnum.approx(-1)
        with pytest.raises(ValueError, match="style"):
            zhnum.approx(120, style="约")


class TestPeriod:
    @pytest.mark.parametrize(
        ("start", "end", "label"),
        [
            (date(2024, 1, 1), date(2024, 12, 31), "全年"),
            (date(2024, 1, 1), date(2024, 6, 30), "上半年"),
            (date(2024, 7, 1), date(2024, 12, 31), "下半年"),
            (date(2024, 1, 1), date(2024, 9, 30), "1-9月"),
            (date(2024, 3, 1), date(2024, 5, 31), "3-5月"),
            (date(2024, 2, 1), date(2024, 2, 29), "2月"),  # leap February
            (date(2024, 3, 5), date(2024, 4, 10), "3月5日至4月10日"),
            (date(2024, 1, 1), date(2024, 9, 29), "1月1日至9月29日"),  # not a whole month
            (date(2023, 12, 1), date(2024, 1, 31), "2023年12月1日至2024年1月31日"),
        ],
    )
    def test_labels(self, start, end, label):
        assert zhnum.period_label(start, end) == label

    def test_with_year(self):
        assert zhnum.period_label(date(2024, 1, 1), date(2024, 9, 30), with_year=True) == "2024年1-9月"
        assert zhnum.period_label(date(2024, 1, 1), date(2024, 12, 31), with_year=True) == "2024年全年"

    def test_backwards_period_is_refused(self):
        with pytest.raises(ValueError):
            zhnum.period_label(date(2024, 2, 1), date(2024, 1, 1))


class TestYearOverYear:
    def test_growth_and_decline_from_the_sign(self):
        assert zhnum.yoy(120.4, 100) == "同比增长20.4%"
        assert zhnum.yoy(94.3, 100) == "同比下降5.7%"

    def test_flat_and_missing(self):
        assert zhnum.yoy(100.01, 100) == "与去年同期持平"
        assert zhnum.yoy(5, 0) is None  # growth over nothing
        assert zhnum.yoy(None, 3) is None
        assert zhnum.yoy(11, 10, prefix="环比") == "环比增长10.0%"
        assert zhnum.yoy(10, 10, prefix="环比") == "与上期持平"

    def test_negative_base(self):
        # a loss that shrank is an improvement: the change is measured against the size of last year's figure
        assert zhnum.yoy(-50, -100) == "同比增长50.0%"

    def test_trend_words_for_compound_phrases(self):
        # "总量降、初次化解升"
        total, first = zhnum.trend(183, 201), zhnum.trend(0.62, 0.55)
        assert f"总量{total}、初次化解{first}" == "总量降、初次化解升"
        assert zhnum.trend(3, 3) == "平"
        assert zhnum.trend(None, 3) is None


class TestConditionalPhrases:
    def test_all_done_only_when_every_item_is(self):
        assert zhnum.when_all(12, 12, "已全部完成整改") == "已全部完成整改"
        assert zhnum.when_all(11, 12, "已全部完成整改") is None
        assert zhnum.when_all(0, 0, "已全部完成整改") is None  # nothing to rectify: nothing to claim

    def test_zero_only_at_zero(self):
        assert zhnum.when_zero(0, "零进京") == "零进京"
        assert zhnum.when_zero(1, "零进京") is None
        assert zhnum.when_zero(None, "零进京") is None


def test_title_periods():
    assert zhnum.title_period(date(2025, 1, 1), date(2025, 12, 31)) == "2025年"
    assert zhnum.title_period(date(2025, 1, 1), date(2025, 6, 30)) == "2025年上半年"
    assert zhnum.title_period(date(2025, 1, 1), date(2025, 9, 30)) == "2025年1-9月"
    assert zhnum.title_period(date(2024, 12, 1), date(2025, 11, 25)) == "2024年12月1日至2025年11月25日"
