"""Every refusal of the cases domain carries a stable machine code, answered as ``{"code", "detail", "field"}``
and listed in docs/api-errors.md, so a 12345 platform or an Open311 client can act on it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from civicgrid.cases import services
from civicgrid.cases.errors import CaseErrorCode
from civicgrid.core import geoindex
from civicgrid.core.errors import DomainError, ErrorCode
from civicgrid.open311.formats import Forbidden, render_error
from tests.cases.factories import CategoryFactory
from tests.factories import DepartmentFactory
from tests.open311.helpers import point

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "api-errors.md").read_text(encoding="utf-8")
DOMAIN_ERRORS = {"DomainError", "ValidationFailed", "NotFound", "PermissionDenied", "Conflict"}
DOMAIN_ERRORS |= {"IllegalTransition", "StaleVersion"}


def _table(heading: str) -> set[str]:
    section = DOC.split(heading, 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.M))


def test_the_docs_list_exactly_the_codes_in_the_code():
    assert _table("## 工单错误码") == {c.value for c in CaseErrorCode}
    assert _table("## 通用错误码") == {c.value for c in ErrorCode}


def test_every_domain_error_raised_by_the_cases_app_names_its_code():
    missing = []
    for path in sorted((ROOT / "src" / "civicgrid" / "cases").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                name = getattr(node.exc.func, "id", getattr(node.exc.func, "attr", ""))
                if name in DOMAIN_ERRORS and not any(k.arg == "code" for k in node.exc.keywords):
                    missing.append(f"{path.name}:{node.lineno}")
    assert missing == []


def _err(r, status: int, code: str, field: str | None = None) -> dict:
    body = r.json()
    assert r.status_code == status, body
    assert body["code"] == code and body["detail"]
    if field is not None:
        assert body["field"] == field
    return body


@pytest.mark.django_db
class TestOverHttp:
    def test_dispatch_to_an_inactive_department(self, api_client, world):
        closed = DepartmentFactory(code="OLD", name="已撤销部门", is_active=False)
        c = world.to_state("accepted")
        r = api_client.login(world.dispatcher).post(
            f"/cases/{c.pk}/dispatch", {"version": c.version, "department": closed.pk}
        )
        assert "已停用" in _err(r, 422, "cannot_dispatch", "department")["detail"]

    def test_accept_into_a_disabled_category(self, api_client, world):
        off = CategoryFactory(is_enabled=False, name="停用的小类")
        c = world.report()
        r = api_client.login(world.dispatcher).post(
            f"/cases/{c.pk}/accept", {"version": c.version, "category": off.pk}
        )
        _err(r, 422, "category_disabled", "category")

    def test_a_second_extension_request_waits_for_the_first(self, api_client, world):
        c = world.to_state("handling")
        api = api_client.login(world.handler)
        body = {"version": c.version, "amount": 2, "unit": c.limit_unit, "reason": "等待材料"}
        assert api.post(f"/cases/{c.pk}/request-extension", body).status_code == 200
        c.refresh_from_db()
        r = api.post(f"/cases/{c.pk}/request-extension", {**body, "version": c.version})
        _err(r, 409, "extension_pending")

    def test_approving_with_nothing_to_approve(self, api_client, world):
        c = world.to_state("handling")
        r = api_client.login(world.shift_leader).post(
            f"/cases/{c.pk}/approve-extension", {"version": c.version}
        )
        _err(r, 409, "no_pending_extension")

    def test_a_grid_worker_reports_only_in_own_grids(self, api_client, world):
        geoindex.invalidate()  # this test's grids, not a previous test's
        lng, lat = point(1)  # inside grid2 of the same community, not the worker's grid
        body = {"source": "grid_patrol", "description": "井盖缺失", "category": world.category.pk}
        r = api_client.login(world.grid_worker).post("/cases", {**body, "lng": lng, "lat": lat})
        _err(r, 403, "out_of_jurisdiction", "lng")

    def test_redo_only_after_a_dissatisfied_rating(self, api_client, world):
        c = world.to_state("closed")
        r = api_client.login(world.dispatcher).post(
            f"/cases/{c.pk}/rate", {"version": c.version, "rating": "satisfied", "redo": True}
        )
        _err(r, 422, "redo_not_allowed", "redo")

    def test_the_codes_clients_already_rely_on_stay(self, api_client, world):
        c = world.to_state("accepted")
        api = api_client.login(world.dispatcher)
        _err(api.post(f"/cases/{c.pk}/close", {"version": c.version}), 409, "illegal_transition")
        _err(
            api.post(f"/cases/{c.pk}/reject", {"version": c.version + 5, "reason": "x"}), 409, "stale_version"
        )
        r = api_client.login(world.leader).post(f"/cases/{c.pk}/dispatch", {"version": c.version})
        _err(r, 403, "forbidden")


@pytest.mark.django_db
def test_an_unknown_move_is_named(world):
    c = world.report()
    with pytest.raises(DomainError) as exc:
        services.perform(actor=world.dispatcher, case=c, move="teleport", version=c.version)
    assert exc.value.as_dict() == {"code": "unknown_move", "detail": "未知操作：teleport", "field": "move"}


def test_open311_sends_the_domain_code_beside_the_spec_error_body():
    response = render_error(
        "json", Forbidden("该位置不在您的辖区内", error_code=CaseErrorCode.OUT_OF_JURISDICTION)
    )
    assert response.status_code == 403
    assert response["X-CivicGrid-Error-Code"] == "out_of_jurisdiction"
    assert "X-CivicGrid-Error-Code" not in render_error("json", Forbidden())
