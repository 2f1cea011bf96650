from __future__ import annotations

from datetime import date

import pytest

from civicgrid.activities import services
from tests.cases.factories import World


def activity(actor, *, community=None, **kw) -> object:
    data = {
        "kind": "publicity", "name": "反诈宣传进社区", "date": date(2026, 3, 15), "place": "社区广场",
        "community": community, "sessions": 1, "attendance": 50, "households": 20, "materials": 100,
    } | kw  # fmt: skip
    return services.create_activity(actor=actor, data=services.ActivityData(**data))


class ActWorld(World):
    """The cases' small 街道 (the staff's 社区 with the 网格员's grids, another 社区 with the other 网格员 and
    staff) with three activities: one of the staff's 社区, one of the other 社区, one of the 街道 itself."""

    def __init__(self):
        super().__init__()
        self.street = self.community.street
        self.other_community = self.other_grid.community
        self.own = activity(self.community_staff, name="本社区议事会", kind="deliberation", attendance=30,
                            households=12, sessions=2)  # fmt: skip
        self.other = activity(
            self.other_staff, name="外社区文艺汇演", kind="culture", attendance=200, households=0
        )
        self.street_level = activity(
            self.leader, name="街道消防演练", kind="drill", attendance=80, households=40
        )


@pytest.fixture
def aw(db) -> ActWorld:
    return ActWorld()
