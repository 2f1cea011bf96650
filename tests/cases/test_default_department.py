"""Categories carry a default 处置部门: it is linked when the department exists (by the seed's code, the usual
name, or a unique kind), the 派遣 form pre-selects it, the admin edits it, and the API may omit it."""

from __future__ import annotations

import pytest

from civicgrid.accounts.roles import Role
from civicgrid.cases.models import Category
from tests.factories import DepartmentFactory, UserFactory

pytestmark = pytest.mark.django_db


def _garbage_case(world):
    """An accepted 暴露垃圾 case (the demo's most common category; the seed means 城管中队 for it)."""
    cat = Category.objects.get(code="S06010")
    case = world.report(category=cat)
    return world.move(case, "accept")


def test_seeded_category_gets_the_department_created_later(world):
    # World created 城管中队 (code CGZD) and 市场监管所 (SCJG) after the categories were loaded
    assert Category.objects.get(code="S06010").default_department == world.dept
    assert Category.objects.get(code="S09015").default_department == world.dept2  # 无证餐饮
    # a 街道 whose 司法所 has another code still gets it, by name
    sfs = DepartmentFactory(code="SF01", name="司法所")
    assert Category.objects.get(code="J91001").default_department == sfs


def test_dispatch_form_preselects_the_default_department(world, client):
    case = _garbage_case(world)
    client.force_login(world.dispatcher)
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert f'<option value="{world.dept.pk}" selected>城管中队</option>' in html
    assert "已按分类预选默认处置部门「城管中队」" in html


def test_admin_edits_the_default_and_the_form_follows(world, client):
    admin = UserFactory(role=Role.SYSTEM_ADMIN, is_staff=True, is_superuser=False)
    cat = Category.objects.get(code="S06010")
    client.force_login(admin)
    url = f"/admin/cases/category/{cat.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200 and 'name="default_department"' in page.content.decode()
    form = page.context["adminform"].form
    data = {k: ("" if v is None else v) for k, v in form.initial.items()}
    data.update({"default_department": world.dept2.pk, "parent": cat.parent_id})
    data = {k: v for k, v in data.items() if not isinstance(v, bool) or v}
    r = client.post(url, data)
    assert r.status_code == 302, r.content.decode()[:2000]
    cat.refresh_from_db()
    assert cat.default_department == world.dept2
    case = _garbage_case(world)
    client.force_login(world.dispatcher)
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert f'<option value="{world.dept2.pk}" selected>市场监管所</option>' in html


def test_api_dispatch_without_department_uses_the_default(world, api_client):
    case = _garbage_case(world)
    api = api_client.login(world.dispatcher)
    r = api.post(f"/cases/{case.pk}/dispatch", {"version": case.version})
    assert r.status_code == 200, r.content
    assert r.json()["department"]["name"] == "城管中队" and r.json()["state"] == "dispatched"


def test_api_dispatch_without_department_and_no_default_names_the_field(world, api_client):
    cat = Category.objects.get(code="J91001")  # 邻里纠纷 → 司法所, which this 街道 does not have
    assert cat.default_department is None
    case = world.move(world.report(category=cat), "accept")
    r = api_client.login(world.dispatcher).post(f"/cases/{case.pk}/dispatch", {"version": case.version})
    assert r.status_code == 422 and r.json()["field"] == "department"
