from __future__ import annotations

from datetime import date

import pytest

from civicgrid.estates import services
from civicgrid.estates.models import CampaignTarget
from tests.cases.factories import World
from tests.factories import BuildingFactory, UnitFactory


def uscc(body17: str) -> str:
    """A credit code with its GB 32100 check character."""
    a, w = services.USCC_ALPHABET, services.USCC_WEIGHTS
    total = sum(a.index(c) * x for c, x in zip(body17, w, strict=True))
    return body17 + a[(31 - total % 31) % 31]


class EstWorld(World):
    """The cases' small 街道: a block in the 网格员's grid and one in another community's grid; an 出租房 in each;
    an office tower (重点楼宇) with 4 入驻单位 (3 registered here, 1 moved out, registered elsewhere); a campaign
    with two targets in the worker's grid and one in the other grid."""

    def __init__(self):
        super().__init__()
        self.street = self.grid.community.street
        self.block = BuildingFactory(grid=self.grid, kind="block", name="示范小区3幢", address="示范路30号")
        self.other_block = BuildingFactory(
            grid=self.other_grid, kind="block", name="外区5幢", address="外路5号"
        )
        self.tower = BuildingFactory(grid=self.grid, kind="block", name="钱江大厦", address="示范路100号")
        self.rental = services.save_rental(
            actor=self.grid_worker, building_id=self.block.pk, room="501", landlord_name="陈建国",
            landlord_phone="13912345678", tenants=6, crowded=True,
        )  # fmt: skip
        self.other_rental = services.save_rental(
            actor=self.other_worker,
            building_id=self.other_block.pk,
            room="101",
            landlord_name="周外区",
            tenants=2,
        )
        self.profile = services.save_building_profile(
            actor=self.community_staff, building_id=self.tower.pk, is_key=True, manager_name="吴楼长",
            manager_phone="13700001111", leader="张副主任",
        )  # fmt: skip
        self.units = [UnitFactory(grid=self.grid, building=self.tower, kind="enterprise", name=f"钱江{i}号公司")
                      for i in range(4)]  # fmt: skip
        self.enterprises = [
            services.save_enterprise(
                actor=self.community_staff,
                unit_id=u.pk,
                credit_code=uscc(f"91330106MA2{i:05d}X"),
                registered_here=i < 3,
                industry="it",
                above_scale=i == 0,
                vacant_area=120 if i == 2 else 0,
            )  # fmt: skip
            for i, u in enumerate(self.units)
        ]
        # the fourth also left (moved out): it is no longer an occupant
        services.save_enterprise(
            actor=self.community_staff, unit_id=self.units[3].pk, credit_code=self.enterprises[3].credit_code,
            moved_in_on=date(2025, 1, 1), moved_out_on=date(2025, 6, 30),
        )  # fmt: skip
        self.campaign = services.create_campaign(
            actor=self.leader, code="RQ2026", name="燃气安全排查", kind="gas",
            starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31),
        )  # fmt: skip
        self.targets = [
            CampaignTarget.objects.create(
                campaign=self.campaign, street=self.street, grid=g, key=k, name=n, building=b
            )
            for g, k, n, b in (
                (self.grid, "001", "示范小区3幢101", self.block),
                (self.grid, "002", "示范小区3幢102", self.block),
                (self.other_grid, "003", "外区5幢201", self.other_block),
            )
        ]


@pytest.fixture
def ew(db) -> EstWorld:
    return EstWorld()
