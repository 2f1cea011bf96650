"""The 信访 API and pages as a client sees them: the desk registers through POST /api/v1/petitions and drives the
信访 through the case API's generated endpoints; figures, 接待, 协查任务 and 积案化解 endpoints; the /imports/
wizard offers the 信访台账 to the desk only; the case page never shows the 信访人's name or phone."""

from __future__ import annotations

from datetime import date

import pytest

from civicgrid.core import clock
from civicgrid.petitions.models import PetitionDetail, PetitionTask, Reception
from tests.petitions.conftest import at

pytestmark = pytest.mark.django_db

BODY = {
    "form": "online",
    "petitioner_name": "李秀英",
    "petitioner_phone": "13900001111",
    "petitioner_id_number": "330106199001011234",
    "summary": "小区停车位分配不公",
}


def test_desk_registers_and_drives_a_petition_through_the_api(pw, api_client):
    api = api_client.login(pw.desk)
    r = api.post("/petitions", {**BODY, "lead": pw.lead.pk, "grid": pw.grid.pk})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["state"] == "registered" and body["stage"] == "notice" and body["lead"] == pw.lead.pk
    assert body["petitioner"] == "李**" and body["petitioner_phone"] == "139****1111"
    assert "1990" not in body["petitioner_id_number"]
    pk = body["id"]
    case = api.get(f"/cases/{pk}").json()
    assert "notify_accept" in {m["name"] for m in case["allowed_moves"]}
    r = api.post(f"/cases/{pk}/notify-accept", {"version": case["version"], "note": "已告知"})
    assert r.status_code == 200, r.content
    assert api.get(f"/petitions/{pk}").json()["state"] == "accepted"
    # the 办理期限 is 60 自然日 and cannot be chosen; an extension over 30 日 is refused naming the field
    version = api.get(f"/cases/{pk}").json()["version"]
    r = api.post(
        f"/cases/{pk}/request-extension",
        {"version": version, "amount": 45, "unit": "natural_days", "reason": "复杂"},
    )
    assert r.status_code == 422 and r.json()["field"] == "amount"


def test_registration_errors_name_the_field_and_only_the_desk_may_register(pw, api_client):
    api = api_client.login(pw.desk)
    r = api.post("/petitions", {**BODY, "kind": "leapfrog"})
    assert r.status_code == 422 and r.json()["field"] == "leap_level"
    r = api.post("/petitions", {**BODY, "form": "fax"})
    assert r.status_code == 422
    r = api.post("/petitions", {**BODY, "lead": pw.grid_worker.pk})
    assert r.status_code == 422 and r.json()["field"] == "lead"
    assert api_client.login(pw.dispatcher).post("/petitions", BODY).status_code == 403
    assert api_client.login(pw.grid_worker).post("/petitions", BODY).status_code == 403
    assert not PetitionDetail.objects.exists()
    # nor through the generic case API: 信访 are filed on the ledger
    r = api_client.login(pw.desk).post(
        "/cases", {"procedure": "petition", "source": "petition", "description": "x", "grid": pw.grid.pk}
    )
    assert r.status_code == 422 and r.json()["field"] == "procedure"


def test_figures_receptions_tasks_and_backlog_endpoints(pw, api_client):
    with clock.frozen(at(2026, 3, 2, 9)):
        case = pw.register()
        case = pw.pmove(case, "notify_accept")
    api = api_client.login(pw.desk)
    r = api.post("/petitions/receptions", {"received_on": "2026-03-02", "people": 3, "topic": "停车",
                                           "petition": case.pk, "leader": pw.lead.pk})  # fmt: skip
    assert r.status_code == 201 and Reception.objects.get().people == 3
    assert (
        api.post(
            "/petitions/receptions", {"received_on": "2026-03-02", "people": 0, "topic": "x"}
        ).status_code
        == 422
    )
    f = api.get("/petitions/figures", start="2026-03-01", end="2026-03-31").json()
    assert (f["registered"], f["accepted"], f["done"], f["reception_batches"], f["reception_people"]) == (
        1,
        1,
        0,
        1,
        3,
    )
    assert f["done_rate"] == 0.0 and f["on_time_rate"] is None and f["zero_beijing"] is True
    assert api.get("/petitions/figures", start="2026-04-01", end="2026-03-01").status_code == 422
    assert api_client.login(pw.grid_worker).get("/petitions/figures").status_code == 403
    # a 协查任务 for the 网格员 of the 信访人's grid; he completes it through the API
    api = api_client.login(pw.desk)
    r = api.post(f"/petitions/{case.pk}/tasks", {"assignee": pw.grid_worker.pk, "text": "走访"})
    assert r.status_code == 201
    task = PetitionTask.objects.get()
    assert api_client.login(pw.grid_worker).get(f"/petitions/{case.pk}").status_code == 200
    r = api_client.login(pw.grid_worker).post(f"/petitions/tasks/{task.pk}/done", {"result": "已走访"})
    assert r.status_code == 200 and PetitionTask.objects.get().done_at is not None
    assert (
        api_client.login(pw.other_worker)
        .post(f"/petitions/tasks/{task.pk}/done", {"result": "x"})
        .status_code
        == 404
    )
    # 积案化解: refused while the 信访 is within its limit, accepted once it is past it
    api = api_client.login(pw.desk)
    with clock.frozen(at(2026, 3, 3, 9)):
        r = api.post(f"/petitions/{case.pk}/resolve", {"resolved_on": "2026-03-03", "method": "settled"})
    assert r.status_code == 422 and r.json()["code"] == "petition_not_backlog"
    with clock.frozen(at(2026, 6, 1, 9)):
        r = api.post(f"/petitions/{case.pk}/resolve", {"resolved_on": "2026-05-30", "method": "aid"})
    assert r.status_code == 200 and r.json()["resolved_at"] == "2026-05-30"
    rows = api.get("/petitions", backlog=True).json()
    assert [p["id"] for p in rows] == [case.pk]


def test_procedures_endpoint_marks_the_petition_procedure_restricted(pw, api_client):
    body = api_client.login(pw.desk).get("/procedures").json()
    p = {x["code"]: x for x in body}["petition"]
    assert p["restricted"] is True and p["filed_elsewhere"]
    assert {s["code"]: s["amount"] for s in p["stages"]} == {
        "notice": 15,
        "handle": 60,
        "review": 30,
        "recheck": 30,
    }


def test_the_import_wizard_offers_the_ledger_to_the_desk_only(pw, client):
    client.force_login(pw.desk)
    assert "信访台账" in client.get("/imports/").content.decode()
    client.force_login(pw.dispatcher)
    assert "信访台账" not in client.get("/imports/").content.decode()


def test_case_page_never_shows_the_petitioners_name_or_phone(pw, client):
    case = pw.register(lead=pw.lead)
    client.force_login(pw.lead)
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert "小区加装电梯" in html and "张三丰" not in html and "13812345678" not in html
    html = client.get(f"/petitions/{case.pk}/").content.decode()
    assert "张**" in html and "张三丰" not in html and "138****5678" in html
    client.force_login(pw.desk)  # the desk calls the 信访人 back: in full on the 信访 page
    html = client.get(f"/petitions/{case.pk}/").content.decode()
    assert "张三丰" in html and "13812345678" in html


def test_pages_register_receptions_and_print(pw, client):
    client.force_login(pw.desk)
    r = client.post("/petitions/new/", {"form": "letter", "petitioner_name": "", "summary": "x"})
    assert r.status_code == 400 and "请填写信访人" in r.content.decode()
    r = client.post("/petitions/new/", {"form": "letter", "petitioner_name": "赵六", "summary": "噪音扰民",
                                        "headcount": "abc"})  # fmt: skip
    assert r.status_code == 400 and "人数必须是整数" in r.content.decode()
    r = client.post("/petitions/new/", {"form": "letter", "petitioner_name": "赵六", "summary": "噪音扰民",
                                        "grid": str(pw.grid.pk), "lead": str(pw.lead.pk)})  # fmt: skip
    d = PetitionDetail.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/petitions/{d.case_id}/"
    page = client.get(f"/petitions/{d.case_id}/").content.decode()
    assert "data-print" in page and "信访事项登记表" in page and "petitions.js" in page
    r = client.post(
        "/petitions/receptions/", {"received_on": str(date.today()), "people": "2", "topic": "噪音"}
    )
    assert r.status_code == 302 and Reception.objects.count() == 1
    r = client.post("/petitions/receptions/", {"received_on": "", "people": "2", "topic": "噪音"})
    assert r.status_code == 400
    client.force_login(pw.leader)
    assert (
        client.post("/petitions/receptions/", {"received_on": "2026-01-01", "topic": "x"}).status_code == 403
    )
    assert Reception.objects.count() == 1  # a leader reads the register, the desk writes it
    assert client.get("/petitions/receptions/").status_code == 200
