"""factory_boy factories shared by every app's tests."""

from __future__ import annotations

import factory
from shapely.geometry import box, mapping

from civicgrid.accounts.models import Department, User
from civicgrid.accounts.roles import Role
from civicgrid.places.models import Building, Community, District, Grid, Street, Unit

PASSWORD = "Test-Passw0rd!"

# a 街道 near (120.100, 30.250); grid squares of 0.005° (~480 m x 555 m)
ORIGIN_LNG, ORIGIN_LAT, STEP = 120.100, 30.250, 0.005


def square(col: int, row: int, size: float = STEP) -> dict:
    x0, y0 = ORIGIN_LNG + col * STEP, ORIGIN_LAT + row * STEP
    return mapping(box(x0, y0, x0 + size, y0 + size))


class DistrictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = District
        django_get_or_create = ("code",)

    name = "西湖区"
    code = "330106"


class StreetFactory(factory.django.DjangoModelFactory):
    """The 示范街道 by default (get-or-create by code); its 区 follows from ``division_code``."""

    class Meta:
        model = Street
        django_get_or_create = ("code",)

    name = "示范街道"
    division_code = "330106"
    code = "330106001"
    center_lng = ORIGIN_LNG + 0.02
    center_lat = ORIGIN_LAT + 0.02


class CommunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Community

    street = factory.SubFactory(StreetFactory)
    # 12 digits however many communities a test session creates
    code = factory.Sequence(lambda n: f"330106{n + 1:06d}")
    name = factory.Sequence(lambda n: f"测试{n + 1}社区")


class GridFactory(factory.django.DjangoModelFactory):
    """A square grid; pass ``col``/``row`` to place it (defaults to a fresh column per grid)."""

    class Meta:
        model = Grid
        exclude = ("col", "row")

    col = factory.Sequence(lambda n: n)
    row = 0
    community = factory.SubFactory(CommunityFactory)
    # 15 digits however many grids a test session creates (PostgreSQL enforces the length, SQLite does not)
    code = factory.Sequence(lambda n: f"330106{n + 1:09d}")
    name = factory.Sequence(lambda n: f"第{n + 1}网格")
    geometry = factory.LazyAttribute(lambda o: square(o.col, o.row))
    area_m2 = 266_000.0
    min_lng = factory.LazyAttribute(lambda o: ORIGIN_LNG + o.col * STEP)
    min_lat = factory.LazyAttribute(lambda o: ORIGIN_LAT + o.row * STEP)
    max_lng = factory.LazyAttribute(lambda o: ORIGIN_LNG + (o.col + 1) * STEP)
    max_lat = factory.LazyAttribute(lambda o: ORIGIN_LAT + (o.row + 1) * STEP)


class BuildingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Building

    grid = factory.SubFactory(GridFactory)
    kind = "block"
    name = factory.Sequence(lambda n: f"{n + 1}幢")
    address = factory.Sequence(lambda n: f"示范路{n + 1}号")


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit

    grid = factory.SubFactory(GridFactory)
    kind = "shop"
    name = factory.Sequence(lambda n: f"测试商户{n + 1}")
    address = factory.Sequence(lambda n: f"示范路{n + 1}号底商")


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"D{n + 1:03d}")
    name = factory.Sequence(lambda n: f"测试部门{n + 1}")
    kind = "other"
    community = None
    # the 街道 of its community, else the 示范街道; pass street=None, district=… for a 区-level department
    street = factory.LazyAttribute(lambda o: o.community.street if o.community else StreetFactory())
    district = factory.LazyAttribute(lambda o: o.street.district if o.street else None)


class UserFactory(factory.django.DjangoModelFactory):
    """``UserFactory(role=Role.GRID_WORKER, grids=[g1, g2])``; password is ``PASSWORD``."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n + 1}")
    full_name = factory.Sequence(lambda n: f"测试用户{n + 1}")
    role = Role.DISPATCHER
    department = factory.LazyAttribute(lambda o: DepartmentFactory() if o.role == Role.DEPT_HANDLER else None)
    community = factory.LazyAttribute(
        lambda o: CommunityFactory() if o.role == Role.COMMUNITY_STAFF else None
    )
    # the tier: the 街道 of the community / department (grids: see below), else the 示范街道. A 区-level account:
    # ``UserFactory(street=None, district=…)``
    street = factory.LazyAttribute(
        lambda o: (
            o.community.street
            if o.community
            else (o.department.street if o.department and o.department.street_id else StreetFactory())
        )
    )
    district = factory.LazyAttribute(lambda o: o.street.district if o.street else None)
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def grids(self, create, extracted, **kwargs):
        if create and extracted:
            self.grids.set(extracted)
            if self.street_id is not None and not self.community_id:
                # a grid worker belongs to the 街道 of their grids
                self.street = extracted[0].community.street
                self.district_id = self.street.district_id
        if create:
            self.save()


def bump_on_another_server(name: str) -> None:
    """What another app server's write does to counter ``name`` of ``core.revisions``: the number moves in the
    database, but nothing in this process is told (no local cache is dropped)."""
    from civicgrid.core import revisions
    from civicgrid.core.models import CacheRevision

    CacheRevision.objects.update_or_create(pk=name, defaults={"revision": revisions.current(name) + 1})
