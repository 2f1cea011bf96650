from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from civicgrid.core import clock
from civicgrid.gridwork import defaults, services
from civicgrid.gridwork.models import GridworkRule, PatrolPoint, PointType
from tests.cases.factories import World
from tests.factories import ORIGIN_LAT, ORIGIN_LNG, STEP, GridFactory, UserFactory


def inside(col: int, dx: float = 0.5, dy: float = 0.5) -> tuple[float, float]:
    """A position inside the factory grid square of column ``col`` (row 0)."""
    return ORIGIN_LNG + (col + dx) * STEP, ORIGIN_LAT + dy * STEP


OUTSIDE = (ORIGIN_LNG - 0.05, ORIGIN_LAT - 0.05)  # in no grid at all


class PatrolWorld(World):
    """The cases' small 街道 (a community with grids 0 and 1, another community's grid 5), a 专属网格 inside grid 0,
    a second 网格员 on grid 1, the seeded point types and three points in grid 0."""

    def __init__(self):
        defaults.ensure()
        super().__init__()
        from civicgrid.accounts.roles import Role
        from tests.factories import square

        self.dedicated = GridFactory(
            col=0,
            community=self.community,
            kind="dedicated",
            parent=self.grid,
            name="示范专属网格",
            geometry=square(0, 0, STEP / 5),
        )
        self.worker2 = UserFactory(role=Role.GRID_WORKER, grids=[self.grid2], full_name="李四")
        self.grid_worker.full_name = "张三"
        self.grid_worker.save()
        self.types = {t.code: t for t in PointType.objects.all()}
        self.river = self.point("示范河东岸", "river", col=0, dx=0.3, period="day", times=1)
        self.market = self.point("示范农贸市场", "market", col=0, dx=0.7, period="week", times=2)
        self.relic = self.point("古桥（文物）", "relic", col=0, dx=0.5, dy=0.8, period="month", times=1)
        self.far_point = self.point(
            "别社区垃圾房", "refuse", col=5, period="day", times=1, grid=self.other_grid
        )

    def point(self, name, kind, *, col, dx=0.5, dy=0.5, period="day", times=1, grid=None) -> PatrolPoint:
        lng, lat = inside(col, dx, dy)
        grid = grid or self.grid
        return PatrolPoint.objects.create(
            street_id=grid.community.street_id,
            grid=grid,
            kind=self.types[kind],
            name=name,
            lng=lng,
            lat=lat,
            period=period,
            times=times,
            radius_m=150,
        )

    def walk(
        self, worker, start: datetime, positions: list[tuple[float, float]], *, every_s: int = 300, stop=True
    ):
        """A patrol by ``worker`` from ``start`` with one fix per ``every_s`` seconds at ``positions``, stopped at
        the last fix (clock frozen at each step, as on the phone)."""
        with clock.frozen(start):
            patrol = services.start_patrol(actor=worker, client_id=f"p-{worker.pk}-{start:%Y%m%d%H%M}")
        fixes = [
            services.Fix(
                client_id=f"f-{patrol.pk}-{i:04d}", at=start + timedelta(seconds=i * every_s), lng=x, lat=y
            )
            for i, (x, y) in enumerate(positions)
        ]
        end = start + timedelta(seconds=(len(positions) - 1) * every_s)
        with clock.frozen(end):
            services.upload_points(actor=worker, patrol=patrol, fixes=fixes)
            if stop:
                patrol = services.stop_patrol(actor=worker, patrol=patrol)
        patrol.refresh_from_db()
        return patrol


def at(*args) -> datetime:
    return clock.aware(datetime(*args))


@pytest.fixture
def pw(db) -> PatrolWorld:
    return PatrolWorld()


@pytest.fixture
def rule(db) -> GridworkRule:
    return GridworkRule.current()
