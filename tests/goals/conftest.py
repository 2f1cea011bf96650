from __future__ import annotations

from decimal import Decimal as D

import pytest

from civicgrid.accounts.roles import Role
from civicgrid.goals.models import Actual, Indicator, Project, ProjectProgress, Scorecard
from tests.factories import StreetFactory, UserFactory

YEAR = 2026


class GoalWorld:
    """甲街道's 2026 catalogue (three indicators, three projects) and 乙街道's (one of each), in one 区."""

    def __init__(self):
        self.street = StreetFactory(code="330106001", name="甲街道")
        self.other = StreetFactory(code="330106002", name="乙街道")
        self.leader = UserFactory(role=Role.LEADER, street=self.street, full_name="甲领导")
        self.dispatcher = UserFactory(role=Role.DISPATCHER, street=self.street)
        self.worker = UserFactory(role=Role.GRID_WORKER, street=self.street)
        self.other_leader = UserFactory(role=Role.LEADER, street=self.other)
        self.card = Scorecard.objects.create(street=self.street, year=YEAR)
        self.gdp = Indicator.objects.create(
            scorecard=self.card,
            seq=1,
            name="地区生产总值",
            unit="亿元",
            target_total=D(120),
            target_growth=D(6),
        )
        self.invest = Indicator.objects.create(
            scorecard=self.card, seq=2, name="固定资产投资", unit="%", basis="growth", target_growth=D(8)
        )
        self.accidents = Indicator.objects.create(
            scorecard=self.card,
            seq=3,
            name="较大安全事故",
            unit="起",
            target_total=D(0),
            higher_is_better=False,
        )
        for m, total, growth, rank in ((7, 70, "6.5", 5), (9, 90, "7", 3)):  # August is missing
            Actual.objects.create(
                indicator=self.gdp, month=m, ytd_total=D(total), ytd_growth=D(growth), rank=rank
            )
        Actual.objects.create(indicator=self.invest, month=9, ytd_growth=D(5))
        Actual.objects.create(indicator=self.accidents, month=9, ytd_total=D(0))
        self.plant = Project.objects.create(
            street=self.street, year=YEAR, category="new_industry", name="智能制造产业园", annual_plan=D(800)
        )
        self.lab = Project.objects.create(
            street=self.street, year=YEAR, category="new_industry", name="研发中心", annual_plan=D(400)
        )
        self.lift = Project.objects.create(
            street=self.street, year=YEAR, category="elevator", name="老旧住宅电梯加装", annual_plan=D(200)
        )
        ProjectProgress.objects.create(project=self.plant, month=9, cumulative=D(868), note="主体结顶")
        ProjectProgress.objects.create(project=self.lab, month=9, cumulative=D(100))
        ProjectProgress.objects.create(project=self.lift, month=6, cumulative=D(160))
        self.other_card = Scorecard.objects.create(street=self.other, year=YEAR)
        self.other_ind = Indicator.objects.create(
            scorecard=self.other_card, seq=1, name="乙专属指标", target_total=D(10)
        )
        self.other_project = Project.objects.create(
            street=self.other, year=YEAR, category="other", name="乙专属项目", annual_plan=D(10)
        )


@pytest.fixture
def gw(db) -> GoalWorld:
    return GoalWorld()
