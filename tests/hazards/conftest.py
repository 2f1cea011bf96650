from __future__ import annotations

import pytest

from civicgrid.hazards import defaults
from civicgrid.hazards.models import Checklist, HazardCategory
from tests.cases.factories import World
from tests.factories import BuildingFactory, UnitFactory


class HazardWorld(World):
    """The cases' small 街道 plus a 小区 with a 楼栋, a shop in it, and the seeded checklist and categories."""

    def __init__(self):
        defaults.ensure()  # (a transactional test elsewhere may have flushed the seeded lists)
        super().__init__()
        self.estate = BuildingFactory(grid=self.grid, kind="estate", name="示范小区", address="示范路10号")
        self.block = BuildingFactory(
            grid=self.grid, kind="block", name="示范小区1幢", address="示范路10号1幢", parent=self.estate
        )
        self.shop = UnitFactory(
            grid=self.grid,
            building=self.block,
            name="示范小吃店",
            address="示范路10号1幢底商",
            contact_name="王老板",
        )
        self.checklist = Checklist.objects.get(name="沿街商铺及出租房消防安全检查")
        self.items = list(self.checklist.items.order_by("order"))
        self.cat = {c.code: c for c in HazardCategory.objects.all()}


@pytest.fixture
def hw(db) -> HazardWorld:
    return HazardWorld()
