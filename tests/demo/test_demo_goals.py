"""The demo 街道's 目标考核: a year's catalogue with monthly figures and ten projects, fast and idempotent."""

from __future__ import annotations

import random
import time

import pytest

from civicgrid.accounts.roles import Role
from civicgrid.demo import goals as demo_goals
from civicgrid.goals import selectors
from civicgrid.goals.models import Actual, Indicator, Project, ProjectProgress
from tests.factories import StreetFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_year_of_indicators_and_ten_projects_in_well_under_three_seconds():
    street = StreetFactory()
    t0 = time.perf_counter()
    info = demo_goals.load_goals(street, random.Random(1), year=2026, month=10)
    assert time.perf_counter() - t0 < 3
    assert info["indicators"] == Indicator.objects.count() == 20
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
    assert len(s.lines) == 20 and {"green", "red"} <= lights and s.green > 0
    assert {line.forecast.method for line in s.lines} >= {"seasonal", "linear", "carry", "none"}
    board = selectors.board(user=leader, year=2026, month=10)
    rates = [line.rate for c in board.categories for line in c.lines]
    assert board.count == 10 and max(rates) > 100 and board.lagging >= 1
    # cumulative investment never falls
    for p in Project.objects.all():
        amounts = list(p.progress.order_by("month").values_list("cumulative", flat=True))
        assert amounts == sorted(amounts)
    assert demo_goals.load_goals(street, random.Random(1), year=2026, month=10) is None
    assert Indicator.objects.count() == 20
