"""The category seed: the committed copy of the standard's table, the 街道 classes, defaults and protection."""

from __future__ import annotations

import csv

import pytest
from django.db.models import ProtectedError

from civicgrid.cases.admin import CategoryAdmin
from civicgrid.cases.categories import STANDARD_CSV, load_categories, resolve_departments
from civicgrid.cases.models import Category

pytestmark = pytest.mark.django_db


def _rows(path):
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_committed_copy_equals_shared_csv(shared_dir):
    shared = _rows(shared_dir / "data" / "gbt47678_5_categories.csv")
    assert _rows(STANDARD_CSV) == shared
    assert len(shared) == 403


def test_seed_loaded_by_migration():
    minors = Category.objects.filter(level="minor")
    assert minors.filter(kind="component").count() == 153
    assert minors.filter(kind="matter").count() == 250
    street = minors.filter(kind="street")
    assert street.count() >= 25
    assert all(c.std_code.startswith("9") for c in street)
    majors = set(Category.objects.filter(kind="street", level="major").values_list("name", flat=True))
    assert {"矛盾纠纷", "安全隐患", "信访", "民生服务", "社会治安", "疫情与应急", "其他"} <= majors
    # the standard reuses 01001 for a 部件 and a 事项: codes are kind-qualified
    assert Category.objects.get(code="B01001").name == "供水井盖"
    assert Category.objects.get(code="S01001").name == "供水井盖异常"
    garbage = Category.objects.get(code="S06010")
    assert garbage.parent.code == "S06" and garbage.grid_worker_can_file
    assert garbage.default_department_code == "CGZD" and garbage.accept_condition and garbage.close_condition
    assert Category.objects.get(code="S06027").default_department_code == "HBS"  # 油烟污染
    gas = Category.objects.get(code="J92002")
    assert gas.priority == "urgent" and gas.default_department_code == "AJB"


def test_departments_resolved_by_code_when_they_exist():
    from tests.factories import DepartmentFactory

    assert Category.objects.get(code="S06010").default_department is None
    dept = DepartmentFactory(code="CGZD", name="城管中队")  # linked as the department is created
    assert Category.objects.get(code="S06010").default_department == dept
    assert Category.objects.filter(default_department=dept).count() > 100
    assert resolve_departments() == 0  # nothing left to link
    assert Category.objects.get(code="J91001").default_department is None  # SFS does not exist


def test_load_is_idempotent_and_keeps_admin_edits():
    c = Category.objects.get(code="S06010")
    c.handle_limit_amount = 7
    c.save()
    result = load_categories()
    assert result["created"] == 0
    assert Category.objects.get(code="S06010").handle_limit_amount == 7
    load_categories(update_existing=True)
    assert Category.objects.get(code="S06010").handle_limit_amount == 1


def test_used_category_cannot_be_deleted(world, rf):
    c = world.report()
    cat = c.category
    with pytest.raises(ProtectedError):
        cat.delete()
    admin = CategoryAdmin(Category, None)
    request = rf.get("/")
    request.user = world.sysadmin
    assert admin.has_delete_permission(request, cat) is False
    unused = Category.objects.get(code="S06012")
    assert admin.has_delete_permission(request, unused) is True
    request.user = world.dispatcher
    assert admin.has_delete_permission(request, unused) is False
    # disabled categories stay on old cases but cannot be used for new ones
    cat.is_enabled = False
    cat.save()
    c.refresh_from_db()
    assert c.category == cat
