"""Tiers and the 12345 import: a 街道's import stays in its 街道; the 区 files rows by their 所属街道."""

from __future__ import annotations

import pytest

from civicgrid.accounts.roles import Role
from civicgrid.cases.models import Case
from tests.factories import (
    ORIGIN_LAT,
    ORIGIN_LNG,
    STEP,
    BuildingFactory,
    CommunityFactory,
    DepartmentFactory,
    GridFactory,
    StreetFactory,
    UserFactory,
)
from tests.intake.conftest import HEADERS, row, write_csv
from tests.intake.test_hotline_import import run_file

pytestmark = pytest.mark.django_db

HEADERS_WITH_STREET = [*HEADERS, "所属街道"]


@pytest.fixture
def other(world):
    """乙街道 beside the 示范街道 of ``world``, with its own 城管 and a building at 乙街道路9号."""
    from civicgrid.core import geoindex

    street = StreetFactory(code="330106002", name="乙街道", division_code="330106")
    grid = GridFactory(col=6, row=0, name="乙网格", community=CommunityFactory(street=street))
    BuildingFactory(
        grid=grid, name="乙大厦", address="乙街道路9号", lng=ORIGIN_LNG + 6.5 * STEP, lat=ORIGIN_LAT
    )
    dept = DepartmentFactory(code="YCG", name="乙城管", street=street)
    geoindex.invalidate()
    return {"street": street, "grid": grid, "dept": dept}


def test_a_street_import_places_and_dispatches_only_in_its_street(world, other, dispatcher, tmp_path):
    rows = [
        row("T1"),
        row("T2", 事发地址="乙街道路9号", 承办单位="城管中队"),  # the address is 乙街道's: not placed there
        row("T3", 承办单位="乙城管"),  # another 街道's department is not ours
    ]
    job = run_file(dispatcher, write_csv(tmp_path / "t.csv", rows))
    assert Case.objects.get(source_ref="T1").street == world["g1"].community.street
    t2 = Case.objects.filter(source_ref="T2").first()
    assert t2 is None or (t2.grid_id != other["grid"].pk and t2.street == dispatcher.street)
    assert not Case.objects.filter(department=other["dept"]).exists()
    assert job.failed >= 1  # T3: 承办单位无法识别


def test_the_district_files_rows_by_their_street(world, other, tmp_path):
    qu = UserFactory(role=Role.DISPATCHER, street=None, district=other["street"].district)
    rows = [
        {**row("Q1", 事发地址="乙街道路9号", 承办单位="乙城管"), "所属街道": "乙街道"},
        {**row("Q2", 事发地址="无名地址", 承办单位=""), "所属街道": "乙街道"},
        {**row("Q3"), "所属街道": "示范街道"},
    ]
    run_file(qu, write_csv(tmp_path / "q.csv", rows, headers=HEADERS_WITH_STREET))
    q1, q2, q3 = (Case.objects.get(source_ref=r) for r in ("Q1", "Q2", "Q3"))
    assert q1.grid == other["grid"] and q1.street == other["street"] and q1.department == other["dept"]
    assert q2.grid is None and q2.street == other["street"]  # no place: its 所属街道
    assert q3.street == world["g1"].community.street
