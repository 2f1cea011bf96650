"""Upgrading a database made before tiers: its 街道 gets a 区, and its people, departments and cases a 街道."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [
    ("places", "0003_map_feature"),
    ("accounts", "0040_user_is_system"),
    ("cases", "0031_other_category_synonyms"),
    ("open311", "0001_initial"),
    ("notify", "0001_initial"),
]
AFTER = [
    ("places", "0005_street_district_required"),
    ("accounts", "0041_tiers"),
    ("cases", "0034_case_street"),
    ("open311", "0002_service_user_street"),
    ("notify", "0002_webhook_street"),
]


@pytest.mark.django_db(transaction=True)
def test_a_one_street_database_puts_everything_in_its_street():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    street = old.get_model("places", "Street").objects.create(
        name="老街道", division_code="330106", code="330106001"
    )
    community = old.get_model("places", "Community").objects.create(
        street=street, code="330106001001", name="甲"
    )
    grid = old.get_model("places", "Grid").objects.create(
        community=community,
        code="330106001001001",
        name="一",
        geometry={"type": "Polygon", "coordinates": []},
    )
    dept = old.get_model("accounts", "Department").objects.create(code="CG", name="城管")
    user = old.get_model("accounts", "User").objects.create(username="old_dispatcher", role="dispatcher")
    Case = old.get_model("cases", "Case")
    placed = Case.objects.create(description="有网格", source="dispatcher", grid=grid, community=community)
    desk = Case.objects.create(description="无位置", source="dispatcher", created_by=user)

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    district = new.get_model("places", "District").objects.get(code="330106")
    assert district.name == "西湖区"
    assert new.get_model("places", "Street").objects.get(pk=street.pk).district_id == district.pk
    moved = new.get_model("accounts", "User").objects.get(pk=user.pk)
    assert (moved.street_id, moved.district_id) == (street.pk, district.pk)
    assert new.get_model("accounts", "Department").objects.get(pk=dept.pk).street_id == street.pk
    NewCase = new.get_model("cases", "Case")
    assert NewCase.objects.get(pk=placed.pk).street_id == street.pk
    assert NewCase.objects.get(pk=desk.pk).street_id == street.pk
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_several_streets_derive_the_street_and_leave_the_rest_unassigned():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Street = old.get_model("places", "Street")
    a = Street.objects.create(name="甲街道", division_code="330106", code="330106001")
    b = Street.objects.create(name="乙街道", division_code="999999", code="999999001")
    ca = old.get_model("places", "Community").objects.create(street=a, code="330106001001", name="甲社区")
    cb = old.get_model("places", "Community").objects.create(street=b, code="999999001001", name="乙社区")
    gb = old.get_model("places", "Grid").objects.create(
        community=cb, code="999999001001001", name="乙一", geometry={"type": "Polygon", "coordinates": []}
    )
    User = old.get_model("accounts", "User")
    staff = User.objects.create(username="shequ_a", role="community_staff", community=ca)
    worker = User.objects.create(username="wangge_b", role="grid_worker")
    worker.grids.set([gb])
    loose = User.objects.create(username="loose", role="dispatcher")
    Case = old.get_model("cases", "Case")
    by_worker = Case.objects.create(description="无位置", source="grid_patrol", created_by=worker)
    nowhere = Case.objects.create(description="无人无位置", source="dispatcher", created_by=loose)

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    NewUser = new.get_model("accounts", "User")
    assert NewUser.objects.get(pk=staff.pk).street_id == a.pk
    assert NewUser.objects.get(pk=worker.pk).street_id == b.pk
    assert (
        NewUser.objects.get(pk=loose.pk).street_id is None
    )  # unassigned: sees nothing until an admin sets it
    assert new.get_model("places", "District").objects.get(code="999999").name == "999999区"
    NewCase = new.get_model("cases", "Case")
    assert NewCase.objects.get(pk=by_worker.pk).street_id == b.pk
    assert NewCase.objects.get(pk=nowhere.pk).street_id is None
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
