"""A finding becomes a case or a 安全隐患 in one tap — from a visit and from a point check — through the
cases.findings registry (registers and gridwork do not import hazards); a visit sent again with the same phone id
is stored once and files once; the 户 visit form the phone keeps offline is masked like every other channel."""

from __future__ import annotations

import pytest

from civicgrid.cases import findings
from civicgrid.cases.models import Case
from civicgrid.gridwork import services as gw_services
from civicgrid.hazards.models import HazardDetail
from civicgrid.registers import services
from civicgrid.registers.models import Visit
from tests.gridwork.conftest import PatrolWorld
from tests.registers.conftest import id_number

pytestmark = pytest.mark.django_db


def test_the_registry_offers_case_and_hazard():
    assert findings.choices() == [("case", "工单"), ("hazard", "安全隐患")]


def test_a_visit_finding_filed_as_a_hazard_on_the_building(rw):
    v = services.record_visit(
        actor=rw.grid_worker, target_kind="household", target_id=rw.household.pk, method="home",
        finding="楼道堆放电动车电池，充电线私拉", report_as="hazard", client_id="a1b2c3d4",
    )  # fmt: skip
    case = v.case
    assert case.procedure == "hazard" and case.source == "grid_patrol" and "电动车电池" in case.description
    detail = HazardDetail.objects.get(case=case)
    assert (
        detail.target_kind == "building" and detail.target_building == rw.block and detail.level == "general"
    )
    # the phone sends it again (lost answer): the same visit, nothing filed twice
    again = services.record_visit(
        actor=rw.grid_worker, target_kind="household", target_id=rw.household.pk, method="home",
        finding="楼道堆放电动车电池，充电线私拉", report_as="hazard", client_id="a1b2c3d4",
    )  # fmt: skip
    assert again.pk == v.pk and again.replayed and Case.objects.count() == 1 and Visit.objects.count() == 1


def test_visit_api_client_id_and_report_as(rw, api_client):
    api = api_client.login(rw.grid_worker)
    body = {
        "target_kind": "person",
        "target_id": rw.granny.pk,
        "method": "home",
        "finding": "燃气软管老化开裂",
        "report_as": "case",
        "client_id": "0f0e0d0c0b0a",
    }
    first, second = api.post("/registers/visits", body), api.post("/registers/visits", body)
    assert first.status_code == second.status_code == 200
    assert first.json()["id"] == second.json()["id"] and second.json()["replayed"] is True
    assert first.json()["case_procedure"] == "standard" and Case.objects.count() == 1
    bad = api.post("/registers/visits", {**body, "client_id": "x y", "report_as": "case"})
    assert bad.status_code == 422
    bad = api.post("/registers/visits", {**body, "client_id": "", "report_as": "fire"})
    assert bad.status_code == 422 and Visit.objects.count() == 1


def test_the_visit_form_offers_hazard_and_keeps_the_phone_id(rw, client):
    client.force_login(rw.grid_worker)
    page = client.get(f"/registers/households/{rw.household.pk}/visit/").content.decode()
    assert 'data-testid="report-as-hazard"' in page and 'name="client_id"' in page and "js/visit.js" in page
    assert id_number(1) not in page and "13812345678" not in page
    data = {"target_kind": "household", "target_id": rw.household.pk, "method": "home", "to_case": "on",
            "finding": "消防通道被杂物堵塞", "report_as": "hazard", "client_id": "c0ffee01"}  # fmt: skip
    resp = client.post(f"/registers/households/{rw.household.pk}/visit/", data, follow=True)
    assert "已上报安全隐患" in resp.content.decode()
    client.post(f"/registers/households/{rw.household.pk}/visit/", data)
    assert Visit.objects.count() == 1 and Case.objects.get().procedure == "hazard"
    # another grid's 户: not found, never a 5xx
    client.force_login(rw.other_worker)
    assert client.get(f"/registers/households/{rw.household.pk}/visit/").status_code == 404


def test_a_point_check_finding_filed_as_a_hazard(db):
    pw = PatrolWorld()
    check = gw_services.check_in(
        actor=pw.grid_worker, point=pw.river, client_id="hazard-check-1", lng=pw.river.lng, lat=pw.river.lat,
        findings="河岸护栏断裂，行人有坠河危险", report=True, report_as="hazard",
    )  # fmt: skip
    assert check.case.procedure == "hazard" and check.valid
    detail = HazardDetail.objects.get(case=check.case)
    assert detail.target_kind == "point" and "示范河东岸" in detail.target_name
    again = gw_services.check_in(
        actor=pw.grid_worker, point=pw.river, client_id="hazard-check-1", lng=pw.river.lng, lat=pw.river.lat,
        findings="河岸护栏断裂，行人有坠河危险", report=True, report_as="hazard",
    )  # fmt: skip
    assert again.replayed and Case.objects.count() == 1


def test_point_check_api_report_as_hazard(db, api_client):
    pw = PatrolWorld()
    api = api_client.login(pw.grid_worker)
    r = api.post(
        "/gridwork/checks",
        {"client_id": "api-hazard-01", "point": pw.market.pk, "lng": pw.market.lng, "lat": pw.market.lat,
         "findings": "市场煤气罐露天堆放", "report": True, "report_as": "hazard"},
    )  # fmt: skip
    assert r.status_code in (200, 201) and Case.objects.get().procedure == "hazard"
    bad = api.post(
        "/gridwork/checks",
        {"client_id": "api-hazard-02", "point": pw.market.pk, "findings": "市场煤气罐露天堆放", "report": True,
         "report_as": "fire"},
    )  # fmt: skip
    assert bad.status_code == 422
