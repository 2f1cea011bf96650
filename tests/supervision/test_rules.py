"""Each 预警 rule on hand-built data: what must trigger and what must not (boundary counts, weekday seasonality,
cases outside the window), de-duplication per rule × subject × day, the job and the CLI."""

from __future__ import annotations

import json
import math
from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from civicgrid.core import clock, periodic
from civicgrid.supervision import rules, services
from civicgrid.supervision.models import EarlyWarning, RuleKind, WarningConfig
from tests.cases.factories import CategoryFactory
from tests.supervision.conftest import at, bulk_cases

WED = date(2026, 11, 18)  # a Wednesday
MON = date(2026, 11, 16)


def _run(world, day, now=None):
    with clock.frozen(now or at(day, 22)):
        return services.run_warnings(street=world.community.street, day=day)


def test_poisson_tail_and_baseline_arithmetic():
    lam = 17 / 9
    direct = 1 - sum(math.exp(-lam) * lam**i / math.factorial(i) for i in range(9))
    assert rules.poisson_tail(9, lam) == pytest.approx(direct, rel=1e-9)
    assert rules.poisson_tail(0, 3.0) == 1.0
    assert rules.poisson_tail(1, 2.0) == pytest.approx(1 - math.exp(-2))
    assert rules.baseline([2] * 8) == pytest.approx(17 / 9)
    assert rules.baseline([]) == 1.0
    assert rules.quantile([1, 2, 3, 4], 75) == 3
    assert rules.quantile([5], 75) == 5


def test_surge_flags_an_improbable_day_with_expected_and_observed(world):
    for k in range(1, 9):
        bulk_cases(world, WED - timedelta(days=7 * k), 2)
    bulk_cases(world, WED - timedelta(days=1), 30)  # Tuesday: another weekday, not in the baseline
    bulk_cases(world, WED, 9)
    counts = _run(world, WED)
    w = EarlyWarning.objects.get(rule=RuleKind.SURGE)
    assert counts["created"] == 1
    assert (w.observed, w.expected) == (9, pytest.approx(1.89, abs=0.01))
    assert w.probability == pytest.approx(rules.poisson_tail(9, 17 / 9))
    assert w.probability < 0.001
    assert "上报 9 件" in w.message and "基线为 1.9 件/天" in w.message and "星期三" in w.message
    assert w.community_id == world.community.pk and w.category_id == world.category.parent_id
    assert len(w.case_ids) == 9


def test_surge_same_count_is_normal_on_a_busy_weekday_but_not_on_a_quiet_one(world):
    for k in range(1, 9):
        bulk_cases(world, MON - timedelta(days=7 * k), 8)  # Mondays are busy
    bulk_cases(world, MON, 9)
    tue = MON + timedelta(days=1)
    bulk_cases(world, tue, 9)
    _run(world, MON)
    assert not EarlyWarning.objects.filter(rule=RuleKind.SURGE).exists()  # λ = 65/9 ≈ 7.2: 9 is ordinary
    _run(world, tue)
    w = EarlyWarning.objects.get(rule=RuleKind.SURGE)
    assert w.day == tue and w.expected == pytest.approx(1 / 9, abs=0.01)


def test_surge_minimum_count_boundary_and_cases_outside_the_window(world):
    bulk_cases(world, WED - timedelta(days=7 * 9), 20)  # 9 weeks back: outside K = 8
    bulk_cases(world, WED, 4)
    _run(world, WED)
    assert not EarlyWarning.objects.exists()  # P tiny, but 4 < 5
    bulk_cases(world, WED, 1)
    _run(world, WED)
    w = EarlyWarning.objects.get(rule=RuleKind.SURGE)
    assert w.observed == 5 and w.expected == pytest.approx(0.11, abs=0.01)


def test_surge_separates_category_families_and_honours_the_street_settings(world):
    other = CategoryFactory(parent=CategoryFactory(level="major", code="T99", parent=None, name="另一大类"))
    bulk_cases(world, WED, 3)
    bulk_cases(world, WED, 3, category=other)
    _run(world, WED)
    assert not EarlyWarning.objects.exists()  # 3 + 3 in two families, never 6 in one
    WarningConfig.objects.create(street=world.community.street, surge_min_count=3)
    _run(world, WED)
    assert EarlyWarning.objects.filter(rule=RuleKind.SURGE).count() == 2
    WarningConfig.objects.filter(street=world.community.street).update(surge_enabled=False)
    EarlyWarning.objects.all().delete()
    _run(world, WED)
    assert not EarlyWarning.objects.exists()


def test_repeat_address_normalised_and_window_boundary(world):
    bulk_cases(
        world, WED - timedelta(days=30), 1, address="示范路12号"
    )  # 31 days ago counting today: outside
    bulk_cases(world, WED - timedelta(days=29), 1, address="示范路 12 号")
    bulk_cases(world, WED - timedelta(days=3), 1, address="示范路１２号。")
    _run(world, WED)
    assert not EarlyWarning.objects.filter(rule=RuleKind.REPEAT_ADDRESS).exists()  # 2 in the window
    bulk_cases(world, WED, 1, address="示范路12号")
    _run(world, WED)
    w = EarlyWarning.objects.get(rule=RuleKind.REPEAT_ADDRESS)
    assert w.observed == 3 and len(w.case_ids) == 3
    assert "上报 3 件" in w.message and "示范路12号" in w.message


def test_repeat_caller_counts_one_number_written_three_ways_and_masks_it(world):
    bulk_cases(world, WED - timedelta(days=5), 1, reporter_phone="13800138000")
    bulk_cases(world, WED - timedelta(days=2), 1, reporter_phone="+86 138-0013-8000")
    bulk_cases(world, WED - timedelta(days=2), 1, reporter_phone="13900139000")
    _run(world, WED)
    assert not EarlyWarning.objects.filter(rule=RuleKind.REPEAT_CALLER).exists()
    bulk_cases(world, WED, 1, reporter_phone="8613800138000")
    _run(world, WED)
    w = EarlyWarning.objects.get(rule=RuleKind.REPEAT_CALLER)
    assert w.observed == 3 and w.title == "来电 138****8000"
    assert "13800138000" not in w.message and "13800138000" not in w.subject_key


def test_one_warning_per_rule_subject_and_day_and_no_repeat_without_new_cases(world):
    bulk_cases(world, WED - timedelta(days=1), 2, address="示范路8号")
    bulk_cases(world, WED, 1, address="示范路8号")
    _run(world, WED)
    _run(world, WED)
    assert EarlyWarning.objects.filter(rule=RuleKind.REPEAT_ADDRESS).count() == 1
    thu = WED + timedelta(days=1)
    _run(world, thu)
    assert EarlyWarning.objects.filter(rule=RuleKind.REPEAT_ADDRESS).count() == 1  # nothing new
    bulk_cases(world, thu, 1, address="示范路8号")
    _run(world, thu)
    assert list(EarlyWarning.objects.filter(rule=RuleKind.REPEAT_ADDRESS).values_list("day", "observed")) == [
        (thu, 4),
        (WED, 3),
    ]


def _handled_history(world, *, n: int, hours: float, now, department=None, category=None):
    rows = bulk_cases(world, (now - timedelta(days=20)).date(), n, category=category)
    for c in rows:
        c.dispatched_at = now - timedelta(days=20)
        c.handled_at = c.dispatched_at + timedelta(hours=hours)
        c.department = department or world.dept
        c.save(update_fields=["dispatched_at", "handled_at", "department"])


def _open_case(world, *, now, elapsed_h: float, remaining_h: float, department=None, light="green"):
    (c,) = bulk_cases(world, (now - timedelta(hours=elapsed_h)).date(), 1, state="handling")
    c.stage, c.light = "handle", light
    c.department = department or world.dept
    c.dispatched_at = now - timedelta(hours=elapsed_h)
    c.due_at = now + timedelta(hours=remaining_h)
    c.save(update_fields=["stage", "light", "department", "dispatched_at", "due_at"])
    return c


def test_overdue_risk_from_the_departments_recent_handling_times(world):
    now = at(WED, 10)
    _handled_history(world, n=6, hours=10, now=now)
    risky = _open_case(world, now=now, elapsed_h=2, remaining_h=5)  # needs ~8 h more, has 5
    _open_case(world, now=now, elapsed_h=2, remaining_h=9)  # has 9: fine
    _open_case(world, now=now, elapsed_h=1, remaining_h=1, light="red")  # already red: the light says it
    _open_case(world, now=now, elapsed_h=1, remaining_h=1, department=world.dept2)  # no history: no estimate
    _run(world, WED, now=now)
    w = EarlyWarning.objects.get(rule=RuleKind.OVERDUE_RISK)
    assert w.case_id == risky.pk and w.department_id == world.dept.pk
    assert (w.observed, w.expected) == (5.0, 8.0)
    assert "还剩 5.0 小时" in w.message and "预计还需约 8.0 小时" in w.message
    # the next run does not raise it again while it is unresolved
    _run(world, WED + timedelta(days=1), now=now + timedelta(hours=1))
    assert EarlyWarning.objects.filter(rule=RuleKind.OVERDUE_RISK).count() == 1


def test_overdue_risk_needs_the_minimum_samples_and_ignores_old_history(world):
    now = at(WED, 10)
    _handled_history(world, n=4, hours=10, now=now)
    old = bulk_cases(world, (now - timedelta(days=120)).date(), 5)
    for c in old:  # handled 120 days ago: outside the 90-day lookback
        c.dispatched_at, c.handled_at, c.department = (
            now - timedelta(days=120),
            now - timedelta(days=119),
            world.dept,
        )
        c.save(update_fields=["dispatched_at", "handled_at", "department"])
    _open_case(world, now=now, elapsed_h=2, remaining_h=5)
    _run(world, WED, now=now)
    assert not EarlyWarning.objects.filter(rule=RuleKind.OVERDUE_RISK).exists()  # 4 < 5 samples
    _handled_history(world, n=1, hours=10, now=now)
    _run(world, WED, now=now)
    assert EarlyWarning.objects.filter(rule=RuleKind.OVERDUE_RISK).count() == 1


def test_the_job_and_the_cli_run_the_rules(world):
    bulk_cases(world, WED, 3, address="示范路9号")
    with clock.frozen(at(WED, 22)):
        result = periodic.run_now(services.JOB_NAME)
        assert result["created"] == 1 and result["swept"] == {"items": 0, "cleared": 0}
        out = StringIO()
        call_command("warnings", "run", "--date", WED.isoformat(), stdout=out)
    assert json.loads(out.getvalue())["created"] == 0  # de-duplicated
    assert services.JOB_NAME in periodic.REGISTRY


def test_cli_rejects_bad_arguments(world):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--date"):
        call_command("warnings", "run", "--date", "2026-13-45")
    with pytest.raises(CommandError, match="街道编码不存在"):
        call_command("warnings", "run", "--street", "nope")
