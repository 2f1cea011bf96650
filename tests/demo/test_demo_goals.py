"""The demo 街道's 目标考核: a year's catalogue with monthly figures and ten projects, fast and idempotent."""

from __future__ import annotations

import random
import time

import pytest

from civicgrid.accounts.roles import Role
from civicgrid.demo import goals as demo_goals
from civicgrid.goals import metrics, selectors
from civicgrid.goals.models import Actual, Indicator, Project, ProjectMilestone, ProjectProgress
from tests.factories import StreetFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_year_of_indicators_and_ten_projects_in_well_under_three_seconds():
    street = StreetFactory()
    t0 = time.perf_counter()
    info = demo_goals.load_goals(street, random.Random(1), year=2026, month=10)
    assert time.perf_counter() - t0 < 3
    assert info["indicators"] == Indicator.objects.count() == 40
    assert info["projects"] == Project.objects.count() == 10
    assert (
        info["actuals"] == Actual.objects.count()
        and info["progress"] == ProjectProgress.objects.count() == 100
    )
    # one month is missing for one indicator (the summary then uses the month before)
    assert not Actual.objects.filter(indicator__seq=10, month=10).exists()
    leader = UserFactory(role=Role.LEADER, street=street)
    card = selectors.default_scorecard(user=leader)
    s = selectors.summary(scorecard=card, month=10)
    lights = {line.status.light for line in s.lines}
    assert len(s.lines) == 40 and {"green", "red"} <= lights and s.green > 0
    assert {line.forecast.method for line in s.lines} >= {"seasonal", "linear", "carry", "none"}
    board = selectors.board(user=leader, year=2026, month=10)
    rates = [line.rate for c in board.categories for line in c.lines]
    assert board.count == 10 and max(rates) > 100 and board.lagging >= 1
    # cumulative investment never falls
    for p in Project.objects.all():
        amounts = list(p.progress.order_by("month").values_list("cumulative", flat=True))
        assert amounts == sorted(amounts)
    assert demo_goals.load_goals(street, random.Random(1), year=2026, month=10) is None
    assert Indicator.objects.count() == 40
    # milestones (one 节点 never planned), the 70 elevators by stage, 21 民生微实事 of which 17 decided
    assert info["milestones"] == ProjectMilestone.objects.count() == 59
    lift = Project.objects.get(category="elevator")
    assert metrics.stage_sentence("elevator", lift.stages) == (
        "38台已投入使用，5台已完工待交付，11台正在施工，16台正在按程序申报"
    )
    assert lift.stage_items.count() == 70 and lift.households == sum(
        i.households for i in lift.stage_items.all()
    )
    assert selectors.micro_board(user=leader, year=2026).sentence == "确定2026年民生微实事项目17件"
    g = selectors.gantt(user=leader, year=2026)
    assert len(g.rows) == 10 and sum(r.late for r in g.rows) > 0 and sum(r.missing for r in g.rows) == 1
    assert Indicator.objects.filter(source="computed").count() == 3
