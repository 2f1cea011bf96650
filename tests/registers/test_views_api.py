"""The 基础台账 pages, Excel export and API: personal data masked per role and per channel (list, detail, export,
API, admin, 一户一档 card); the full view only for the 领导, only after a reason, and always logged; the phone
visit form files a case; the overdue list; bad input never a 5xx."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from civicgrid.core.models import AuditLog
from civicgrid.registers.models import AccessLog, Visit, VisitCheckItem
from tests.registers.conftest import id_number

pytestmark = pytest.mark.django_db

ROLES = ["grid_worker", "community_staff", "dispatcher", "shift_leader", "leader", "sysadmin"]


def _text(resp) -> str:
    return resp.content.decode()


def _xlsx_text(resp) -> str:
    wb = load_workbook(io.BytesIO(b"".join(resp.streaming_content)))
    return repr([list(r) for r in wb.active.iter_rows(values_only=True)])


@pytest.mark.parametrize("who", ROLES)
def test_every_channel_shows_masked_data_by_default(rw, client, api_client, who):
    user = getattr(rw, who)
    raw, masked = id_number(1), rw.granny.id_masked
    client.force_login(user)
    pages = {
        "list": client.get("/registers/"),
        "detail": client.get(f"/registers/persons/{rw.granny.pk}/"),
        "household": client.get(f"/registers/households/{rw.household.pk}/"),
        "card": client.get(f"/registers/households/{rw.household.pk}/card/"),
    }
    for channel, resp in pages.items():
        assert resp.status_code == 200, channel
        body = _text(resp)
        assert masked in body and raw not in body and "13812345678" not in body, channel
        assert "138****5678" in body, channel
    export = client.get("/registers/export.xlsx")
    assert export.status_code == 200
    sheet = _xlsx_text(export)
    assert masked in sheet and raw not in sheet and "13812345678" not in sheet
    api = api_client.login(user)
    listed = api.get("/registers/persons").json()
    detail = api.get(f"/registers/persons/{rw.granny.pk}").json()
    assert masked in repr(listed) and raw not in repr(listed) + repr(detail)
    assert detail["id_number"] == masked and detail["phone"] == "138****5678"
    assert not AccessLog.objects.exists()
    # the reveal form shows only to the holder of the capability
    assert ('data-testid="reveal-form"' in _text(pages["detail"])) == (who == "leader")


@pytest.mark.parametrize("who", ["grid_worker", "community_staff", "dispatcher", "sysadmin"])
def test_without_the_capability_reveal_and_full_export_are_refused_on_every_channel(
    rw, client, api_client, who
):
    user = getattr(rw, who)
    client.force_login(user)
    resp = client.post(f"/registers/persons/{rw.granny.pk}/reveal/", {"reason": "好奇"}, follow=True)
    assert id_number(1) not in _text(resp)
    resp = client.post("/registers/export.xlsx", {"reason": "导出"})
    assert resp.status_code in (302, 403)
    r = api_client.login(user).post(f"/registers/persons/{rw.granny.pk}/reveal", {"reason": "好奇"})
    assert r.status_code == 403
    assert not AccessLog.objects.exists()
    assert not AuditLog.objects.filter(
        action__in=["registers.person.reveal", "registers.person.export_full"]
    ).exists()


def test_a_leader_sees_the_full_data_once_and_it_is_logged_on_each_channel(rw, client, api_client):
    client.force_login(rw.leader)
    resp = client.post(f"/registers/persons/{rw.granny.pk}/reveal/", {"reason": "低保复核"})
    body = _text(resp)
    assert id_number(1) in body and "13812345678" in body and resp["Cache-Control"] == "no-store"
    # the next plain view is masked again, and lists the access
    body = _text(client.get(f"/registers/persons/{rw.granny.pk}/"))
    assert id_number(1) not in body and "低保复核" in body
    r = api_client.login(rw.leader).post(f"/registers/persons/{rw.granny.pk}/reveal", {"reason": "核对"})
    assert r.json() == {"id_number": id_number(1), "phone": "13812345678"}
    full = client.post("/registers/export.xlsx", {"reason": "民政年报"})
    sheet = _xlsx_text(full)
    assert id_number(1) in sheet and id_number(3) in sheet  # the leader's tier: every person of the 街道
    assert list(AccessLog.objects.order_by("pk").values_list("channel", flat=True)) == [
        "web",
        "api",
        "export",
        "export",
        "export",
    ]
    assert AuditLog.objects.filter(action="registers.person.reveal").count() == 2
    assert AuditLog.objects.get(action="registers.person.export_full").note == "导出事由：民政年报"
    # no reason: nothing revealed, nothing exported, nothing logged
    assert client.post("/registers/export.xlsx", {"reason": ""}).status_code == 302
    assert api_client.post(f"/registers/persons/{rw.granny.pk}/reveal", {"reason": " "}).status_code in (
        400,
        422,
    )
    assert AccessLog.objects.count() == 5


def test_admin_lists_people_masked(rw, client):
    rw.sysadmin.is_staff = True
    rw.sysadmin.save(update_fields=["is_staff"])
    client.force_login(rw.sysadmin)
    resp = client.get("/admin/registers/person/")
    assert resp.status_code == 200
    body = _text(resp)
    assert rw.granny.id_masked in body and id_number(1) not in body and rw.granny.id_hash not in body
    body = _text(client.get(f"/admin/registers/person/{rw.granny.pk}/change/"))
    assert id_number(1) not in body and rw.granny.id_cipher not in body


def test_scope_other_grid_and_other_roles(rw, client, api_client):
    client.force_login(rw.other_worker)
    assert client.get(f"/registers/persons/{rw.granny.pk}/").status_code == 404
    assert "王阿婆" not in _text(client.get("/registers/"))
    assert api_client.login(rw.other_worker).get(f"/registers/persons/{rw.granny.pk}").status_code == 404
    client.force_login(rw.handler)
    assert client.get("/registers/").status_code == 403
    assert api_client.login(rw.handler).get("/registers/persons").status_code == 403


def test_exact_id_search_on_the_page_and_api(rw, client, api_client):
    client.force_login(rw.community_staff)
    body = _text(client.get("/registers/", {"q": id_number(1)}))
    assert "王阿婆" in body and "李流动" not in body
    rows = api_client.login(rw.community_staff).get("/registers/persons", q=id_number(2, "19900505")).json()
    assert [r["name"] for r in rows] == ["李流动"]


def test_the_phone_visit_form_records_the_visit_and_files_a_case(rw, client):
    client.force_login(rw.grid_worker)
    form = client.get(f"/registers/visits/new/?household={rw.household.pk}")
    assert form.status_code == 200 and "王阿婆" in _text(form)
    items = list(VisitCheckItem.objects.all())
    data = {
        "target_kind": "household",
        "target_id": rw.household.pk,
        "method": "home",
        "persons": [rw.granny.pk],
        "notes": "老人独居，身体尚可",
        "to_case": "on",
        "finding": "楼道堆放杂物堵塞消防通道",
        "idempotency_key": "k1",
        **{f"item-{i.pk}": "ok" for i in items},
    }
    data[f"item-{items[0].pk}"] = "bad"
    resp = client.post("/registers/visits/new/", data)
    assert resp.status_code == 302
    visit = Visit.objects.get()
    assert visit.case is not None and "消防通道" in visit.case.description
    body = _text(client.get(resp["Location"]))
    assert 'data-testid="visit-case"' in body
    # a bad method names the problem, writes nothing
    data["method"] = "teleport"
    resp = client.post("/registers/visits/new/", data)
    assert resp.status_code == 200 and "走访方式" in _text(resp) and Visit.objects.count() == 1


def test_api_visit_and_overdue_and_figures(rw, api_client):
    api = api_client.login(rw.grid_worker)
    item = VisitCheckItem.objects.first()
    r = api.post(
        "/registers/visits",
        {
            "target_kind": "person",
            "target_id": rw.granny.pk,
            "method": "phone",
            "answers": [{"item": item.pk, "ok": True}],
        },
    )
    assert r.status_code == 200 and r.json()["persons"] == [rw.granny.pk] and r.json()["case"] is None
    bad = api.post(
        "/registers/visits", {"target_kind": "person", "target_id": rw.outsider.pk, "method": "phone"}
    )
    assert bad.status_code == 422 and bad.json()["field"] == "target_id"
    bad = api.post(
        "/registers/visits",
        {
            "target_kind": "person",
            "target_id": rw.granny.pk,
            "method": "phone",
            "answers": [{"item": 999999, "ok": True}],
        },
    )
    assert bad.status_code == 422
    assert api.get("/registers/overdue", all=True).json()[0]["name"] == "王阿婆"
    fig = api_client.login(rw.leader).get("/registers/figures").json()
    assert fig["visit_count"] == 1 and fig["visit_person_times"] == 1 and fig["key_persons"] == 1
    assert api.get("/registers/figures", start="2026-13-01").status_code in (400, 422)


def test_person_create_via_page_and_api_with_errors_named(rw, client, api_client):
    client.force_login(rw.grid_worker)
    resp = client.post(
        "/registers/persons/new/",
        {"grid": rw.grid.pk, "name": "新住户", "id_number": "123", "residence": "resident"},
    )
    assert resp.status_code == 200 and "身份证号应为 18 位" in _text(resp)
    resp = client.post(
        f"/registers/persons/new/?household={rw.household.pk}",
        {
            "household": rw.household.pk,
            "name": "新住户",
            "id_number": id_number(50),
            "residence": "resident",
            "tags": ["canji"],
        },
    )
    assert resp.status_code == 302
    r = api_client.login(rw.grid_worker).post(
        "/registers/persons",
        {"name": "甲", "id_number": id_number(51), "residence": "huji", "grid": rw.other_grid.pk},
    )
    assert r.status_code == 422 and r.json()["field"] == "grid"


@pytest.mark.parametrize(
    "url",
    [
        "/registers/?page=abc&residence=x&tag=%00",
        "/registers/figures/?start=2026-02-31&end=x",
        "/registers/persons/999999/",
        "/registers/households/999999/card/",
        "/registers/visits/new/?household=abc",
        "/registers/overdue/?all=1",
    ],
)
def test_odd_input_is_never_a_server_error(rw, client, url):
    client.force_login(rw.leader)
    assert client.get(url).status_code in (200, 400, 404)


def test_household_assistance_form(rw, client):
    client.force_login(rw.community_staff)
    resp = client.post(
        f"/registers/households/{rw.household.pk}/assistance/",
        {
            "kind": "dibao",
            "recognized_on": "2026-01-05",
            "review_on": "2026-07-05",
            "monthly_amount": "1180",
            "person": rw.granny.pk,
        },
    )
    assert resp.status_code == 302
    body = _text(client.get(f"/registers/households/{rw.household.pk}/card/"))
    assert "最低生活保障" in body and "2026-01-05" in body and "1180" in body
    resp = client.post(
        f"/registers/households/{rw.household.pk}/assistance/",
        {"kind": "dibao", "recognized_on": "bad"},
        follow=True,
    )
    assert "日期格式不正确" in _text(resp)


def test_a_building_visit_from_the_list_of_places(rw, client):
    client.force_login(rw.grid_worker)
    page = client.get("/registers/visits/new/").content.decode()
    assert f'value="building:{rw.block.pk}"' in page and f"building:{rw.other_block.pk}" not in page
    resp = client.post(
        "/registers/visits/new/", {"target": f"building:{rw.block.pk}", "method": "door", "notes": "楼道巡看"}
    )
    assert resp.status_code == 302
    v = Visit.objects.get()
    assert (v.target_kind, v.building, v.target_name) == ("building", rw.block, "示范小区1幢")
    resp = client.post(
        "/registers/visits/new/", {"target": f"building:{rw.other_block.pk}", "method": "door"}
    )
    assert resp.status_code == 200 and "不在您的辖区" in resp.content.decode() and Visit.objects.count() == 1
