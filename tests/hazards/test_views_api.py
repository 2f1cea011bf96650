"""The 安全隐患 screens and API: the phone checklist form, the ledger and its Excel, the 四色地图 scores, the
figures, and the case engine's generated endpoints driving a hazard through its life."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from civicgrid.hazards import fourcolor, services
from civicgrid.hazards.models import ColorRule, Equipment, HazardDetail, Inspection
from civicgrid.hazards.services import Finding
from tests.cases.factories import photo

pytestmark = pytest.mark.django_db


def submit(client, hw, **extra):
    fire, gas = hw.items[0], hw.items[1]
    data = {"checklist": hw.checklist.pk, "target_kind": "unit", "unit": hw.shop.pk}
    for it in hw.items:
        data[f"item-{it.pk}-result"] = "pass"
    data.update(
        {
            f"item-{fire.pk}-result": "fail",
            f"item-{fire.pk}-hazard": "on",
            f"item-{fire.pk}-level": "general",
            f"item-{fire.pk}-description": "灭火器压力不足",
            f"item-{fire.pk}-photos": SimpleUploadedFile("before.png", photo("before.png")[1], "image/png"),
            f"item-{gas.pk}-result": "fail",  # failed, fixed on the spot: not a hazard
            f"item-{gas.pk}-note": "当场整改",
        }
    )
    data.update(extra)
    return client.post("/hazards/inspect/", data)


def test_the_phone_checklist_records_the_inspection_and_its_hazard(hw, client):
    client.force_login(hw.grid_worker)
    page = client.get("/hazards/inspect/").content.decode()
    assert hw.shop.name in page and hw.items[0].text in page and 'capture="environment"' in page
    r = submit(client, hw)
    assert r.status_code == 302, r.content.decode()[:500]
    i = Inspection.objects.get()
    assert r["Location"] == f"/hazards/inspections/{i.pk}/"
    assert i.hazard_count == 1 and i.results.filter(passed=False).count() == 2
    d = HazardDetail.objects.get()
    assert d.case.description == "灭火器压力不足" and d.case.attachments.count() == 1
    page = client.get(r["Location"]).content.decode()
    assert d.case.number in page and "当场整改" in page


def test_the_desk_records_an_inspection_with_a_co_inspector(hw, client):
    client.force_login(hw.dispatcher)
    page = client.get("/hazards/inspect/").content.decode()
    assert f'<option value="{hw.grid_worker.pk}">' in page
    r = submit(client, hw, inspectors=[hw.grid_worker.pk])
    assert r.status_code == 302
    assert set(Inspection.objects.get().inspectors.all()) == {hw.dispatcher, hw.grid_worker}


def test_the_form_answers_a_missing_target_with_422_and_keeps_nothing(hw, client):
    client.force_login(hw.grid_worker)
    r = submit(client, hw, unit="")
    assert r.status_code == 422 and "请选择检查对象" in r.content.decode()
    assert not Inspection.objects.exists()


def test_the_ledger_lists_and_exports_with_a_totals_row(hw, client):
    target = services.resolve_target(actor=hw.grid_worker, kind="unit", unit_id=hw.shop.pk)
    services.record_inspection(
        actor=hw.grid_worker,
        target=target,
        checklist=hw.checklist,
        findings=[
            Finding(passed=False, item=hw.items[0], hazard=True, level="general", note="灭火器过期"),
            Finding(passed=False, item=hw.items[3], hazard=True, level="major", note="三合一住人"),
        ],
    )
    client.force_login(hw.dispatcher)
    page = client.get("/hazards/?level=major").content.decode()
    assert "三合一住人" in page and "灭火器过期" not in page
    r = client.get("/hazards/export.xlsx")
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(b"".join(r.streaming_content))).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:4] == ("隐患编号", "发现时间", "隐患类别", "隐患等级")
    assert len(rows) == 4 and {rows[1][3], rows[2][3]} == {"一般", "重大"}
    assert rows[-1][0] == "合计 2 处" and rows[-1][3] == "重大 1"
    client.force_login(hw.auditor)  # the 审计管理员 reads the audit log only
    assert client.get("/hazards/export.xlsx").status_code == 403


def test_the_generated_case_endpoints_drive_a_hazard(hw, api_client):
    target = services.resolve_target(actor=hw.grid_worker, kind="unit", unit_id=hw.shop.pk)
    i = services.record_inspection(
        actor=hw.grid_worker,
        target=target,
        checklist=hw.checklist,
        findings=[Finding(passed=False, item=hw.items[3], hazard=True, level="major", note="三合一住人")],
    )
    c = i.new_hazards[0]
    api_client.login(hw.dispatcher)
    body = api_client.get(f"/cases/{c.pk}").json()
    assert body["procedure"] == "hazard" and body["state_label"] == "发现"
    assert {m["name"] for m in body["allowed_moves"]} == {"assign_fix", "list_supervise", "void"}
    r = api_client.post(f"/cases/{c.pk}/assign-fix", {"version": 1, "department": hw.dept.pk, "amount": 10})
    assert r.status_code == 422 and (r.json()["code"], r.json()["field"]) == ("limit_out_of_bounds", "amount")
    assert "重大隐患" in r.json()["detail"]
    r = api_client.post(f"/cases/{c.pk}/assign-fix", {"version": 1, "department": hw.dept.pk, "amount": 7})
    assert r.status_code == 200 and r.json()["state_label"] == "整改中"
    r = api_client.post(f"/cases/{c.pk}/list-supervise", {"version": 2, "note": "挂牌"})
    assert r.status_code == 200
    # the case page shows the hazard's detail record: level, category, 挂牌督办
    page = api_client.c.get(f"/cases/{c.pk}/").content.decode()
    assert 'data-testid="detail-level">重大<' in page and 'data-testid="detail-supervised">是<' in page
    assert 'data-testid="detail-category">三合一<' in page
    api_client.login(hw.handler)
    r = api_client.post(
        f"/cases/{c.pk}/report-fixed", {"version": 3, "note": "已清退住人", "measures": "清退"}
    )
    assert r.status_code == 200 and r.json()["state"] == "review"
    api_client.login(hw.grid_worker)
    assert api_client.post(f"/cases/{c.pk}/review-pass", {"version": 4}).status_code == 200
    api_client.login(hw.dispatcher)
    r = api_client.post(f"/cases/{c.pk}/sign-off", {"version": 5})
    assert r.status_code == 200 and r.json()["state_label"] == "已销号"
    procs = {p["code"]: p for p in api_client.get("/procedures").json()}
    assert procs["hazard"]["label"] == "安全隐患"


def test_the_hazards_api_figures_map_and_inspection(hw, api_client):
    api_client.login(hw.grid_worker)
    r = api_client.post(
        "/hazards/inspections",
        {
            "target_kind": "building",
            "building": hw.block.pk,
            "checklist": hw.checklist.pk,
            "items": [
                {"item": hw.items[0].pk, "passed": True},
                {
                    "item": hw.items[5].pk,
                    "passed": False,
                    "hazard": True,
                    "level": "serious",
                    "description": "楼道充电",
                },
            ],
        },
    )
    assert r.status_code == 200, r.json()
    assert r.json()["hazard_count"] == 1 and len(r.json()["hazards"]) == 1
    r = api_client.post(
        "/hazards/inspections",
        {"target_kind": "unit", "unit": 999999, "checklist": hw.checklist.pk, "items": []},
    )
    assert r.status_code == 422 and r.json()["code"] == "hazard_target_not_found"
    f = api_client.get("/hazards/figures").json()
    assert f["inspections"] == 1 and f["found"] == 1 and f["fix_rate"] == 0.0
    places = {(p["kind"], p["id"]): p for p in api_client.get("/hazards/map").json()["places"]}
    # a 较大 hazard (3 points) makes the 楼栋 yellow; its 小区 counts it too; the shop has none: blue
    assert places[("building", hw.block.pk)]["color"] == "yellow"
    assert places[("building", hw.estate.pk)]["score"] == 3
    assert places[("unit", hw.shop.pk)]["color"] == "blue"
    assert api_client.login(hw.auditor).get("/hazards/figures").status_code == 403


def test_four_colours_follow_the_rule_and_the_fire_register(hw):
    rule = ColorRule.current()
    target = services.resolve_target(actor=hw.grid_worker, kind="unit", unit_id=hw.shop.pk)
    services.record_inspection(
        actor=hw.grid_worker,
        target=target,
        checklist=hw.checklist,
        findings=[Finding(passed=False, item=hw.items[3], hazard=True, level="major", note="三合一")],
    )
    services.save_fire_register(
        actor=hw.grid_worker,
        building=hw.estate,
        smoke_detectors=Equipment.MISSING,
        extinguishers=Equipment.FAULTY,
    )
    out = fourcolor.scores(user=hw.dispatcher, rule=rule)
    places = {(p["kind"], p["id"]): p for p in out["places"]}
    assert places[("unit", hw.shop.pk)]["color"] == "red"  # 重大: 10 points
    assert places[("building", hw.block.pk)]["score"] == 10  # the shop is in this 楼栋
    estate = places[("building", hw.estate.pk)]
    assert (estate["score"], estate["defects"], estate["color"]) == (14, 2, "red")  # 10 + 2 × 2
    assert places[("community", hw.community.pk)]["score"] == 14
    assert out["legend"]["colors"][0]["rule"] == "分值 ≥ 10"
    rule.red_from = 20
    rule.save()
    out = fourcolor.scores(user=hw.dispatcher)
    assert {(p["kind"], p["id"]): p for p in out["places"]}[("unit", hw.shop.pk)]["color"] == "orange"


def test_the_pages_render_for_the_desk(hw, client):
    client.force_login(hw.dispatcher)
    for url in (
        "/hazards/",
        "/hazards/inspections/",
        "/hazards/figures/",
        "/hazards/map/",
        "/hazards/map.json",
    ):
        assert client.get(url).status_code == 200, url
    page = client.get("/hazards/map/").content.decode()
    assert "分值 ≥ 10" in page and "<script>" not in page
    r = client.post(
        f"/hazards/fire/{hw.block.pk}/",
        {"smoke_detectors": "missing", "extinguishers": "ok", "sprinklers": "na", "fire_lane": "ok"},
    )
    assert r.status_code == 302 and hw.block.fire_register.smoke_detectors == "missing"
    assert client.get("/hazards/figures/?start=2030-01-01&end=2020-01-01").status_code == 200


def test_a_hazard_is_filed_through_an_inspection_not_the_generic_create(hw, api_client, client):
    """A 安全隐患 needs its level, place and inspection from the start: the generic 新建工单 (API and page) refuses
    the procedure and says where to file it, and writes nothing."""
    from civicgrid.cases.models import Case

    before = Case.objects.count()
    api_client.login(hw.dispatcher)
    r = api_client.post(
        "/cases",
        {
            "source": "dispatcher",
            "description": "楼道堆放电动车",
            "procedure": "hazard",
            "lng": 120.105,
            "lat": 30.255,
        },
    )
    assert r.status_code == 422, r.content
    assert (r.json()["code"], r.json()["field"]) == ("validation_failed", "procedure")
    assert "安全检查" in r.json()["detail"]
    assert Case.objects.count() == before
    procs = {p["code"]: p for p in api_client.get("/procedures").json()}
    assert "安全检查" in procs["hazard"]["filed_elsewhere"] and procs["standard"]["filed_elsewhere"] == ""
    client.force_login(hw.dispatcher)
    page = client.get("/cases/new/").content.decode()
    assert 'value="hazard"' not in page


def _inspect(hw, level, note):
    target = services.resolve_target(actor=hw.grid_worker, kind="unit", unit_id=hw.shop.pk)
    i = services.record_inspection(
        actor=hw.grid_worker,
        target=target,
        checklist=hw.checklist,
        findings=[Finding(passed=False, item=hw.items[3], hazard=True, level=level, note=note)],
    )
    return i.new_hazards[0]


def test_list_supervision_is_offered_only_on_a_major_hazard_not_yet_listed(hw, api_client):
    general, major = _inspect(hw, "general", "插座超负荷"), _inspect(hw, "major", "三合一住人")
    api_client.login(hw.dispatcher)
    body = api_client.get(f"/cases/{general.pk}").json()
    assert {m["name"] for m in body["allowed_moves"]} == {"assign_fix", "void"}
    page = api_client.c.get(f"/cases/{general.pk}/").content.decode()
    assert "交办整改" in page and "挂牌督办" not in page
    r = api_client.post(f"/cases/{general.pk}/list-supervise", {"version": 1, "note": "挂牌"})
    assert r.status_code == 409 and r.json()["code"] == "illegal_transition"
    assert "重大隐患" in r.json()["detail"]

    assert "list_supervise" in {
        m["name"] for m in api_client.get(f"/cases/{major.pk}").json()["allowed_moves"]
    }
    assert "挂牌督办" in api_client.c.get(f"/cases/{major.pk}/").content.decode()
    assert (
        api_client.post(f"/cases/{major.pk}/list-supervise", {"version": 1, "note": "挂牌"}).status_code
        == 200
    )
    # once listed, it is not offered again
    body = api_client.get(f"/cases/{major.pk}").json()
    assert "list_supervise" not in {m["name"] for m in body["allowed_moves"]}
    assert api_client.post(f"/cases/{major.pk}/list-supervise", {"version": 2}).status_code == 409
    procs = {p["code"]: p for p in api_client.get("/procedures").json()}
    supervise = next(m for m in procs["hazard"]["moves"] if m["name"] == "list_supervise")
    assert supervise["needs"] == "supervisable"


def test_the_export_writes_a_natural_day_deadline_as_its_last_day_at_24(hw, client):
    from civicgrid.cases import services as case_services
    from civicgrid.core import clock

    fire = _inspect(hw, "general", "灭火器过期")
    fire = case_services.perform(
        actor=hw.dispatcher, case=fire, move="assign_fix", version=fire.version,
        department=hw.dept, amount=10, unit="natural_days",
    )  # fmt: skip
    due = clock.to_local(fire.due_at)
    assert (due.hour, due.minute) == (0, 0)  # stored as 00:00 of the next day
    last_day = due.date() - __import__("datetime").timedelta(days=1)
    client.force_login(hw.dispatcher)
    ws = load_workbook(io.BytesIO(b"".join(client.get("/hazards/export.xlsx").streaming_content))).active
    rows = list(ws.iter_rows(values_only=True))
    col = rows[0].index("整改期限")
    assert rows[1][col] == f"{last_day.year}年{last_day.month}月{last_day.day}日 24:00"
    page = client.get("/hazards/").content.decode()
    assert f"{last_day.month}月{last_day.day}日 24:00" in page  # the ledger page says the same


def test_the_inspection_keeps_photos_of_the_whole_inspection(hw, client):
    client.force_login(hw.grid_worker)
    r = submit(
        client,
        hw,
        photos=[
            SimpleUploadedFile("scene.png", photo("scene.png")[1], "image/png"),
            SimpleUploadedFile("sheet.png", photo("sheet.png", color=(9, 9, 9))[1], "image/png"),
        ],
    )
    assert r.status_code == 302, r.content.decode()[:300]
    i = Inspection.objects.get()
    shots = list(i.photos.select_related("attachment"))
    assert len(shots) == 2 and all(p.attachment.thumbnail and p.attachment.case_id is None for p in shots)
    page = client.get(f"/hazards/inspections/{i.pk}/").content.decode()
    assert 'data-testid="inspection-photos"' in page
    assert f"/hazards/inspections/photos/{shots[0].pk}/thumb/" in page
    thumb = client.get(f"/hazards/inspections/photos/{shots[0].pk}/thumb/")
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/jpeg"
    assert client.get(f"/hazards/inspections/photos/{shots[0].pk}/")["Content-Type"] == "image/png"
    client.force_login(hw.other_worker)  # another grid's worker does not see the inspection nor its photos
    assert client.get(f"/hazards/inspections/photos/{shots[0].pk}/").status_code == 404


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ([SimpleUploadedFile("x.png", b"not an image", "image/png")], "不是有效的图片"),
        ([SimpleUploadedFile(f"{n}.png", photo(f"{n}.png")[1], "image/png") for n in range(7)], "最多 6 张"),
    ],
)
def test_bad_inspection_photos_refuse_the_whole_submit(hw, client, files, message):
    client.force_login(hw.grid_worker)
    r = submit(client, hw, photos=files)
    assert r.status_code == 422 and message in r.content.decode()
    assert not Inspection.objects.exists() and not HazardDetail.objects.exists()
