"""Imports through /imports/ (mapping, preview row errors, idempotent rerun), the pages per role and the API
(scoped, masked, 4xx naming the field)."""

from __future__ import annotations

from io import BytesIO

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from civicgrid.core.models import ImportLedger, ImportRun, ImportRunError
from civicgrid.estates.models import CampaignTarget, Rental

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def inline_runs(settings, tmp_path):
    settings.BACKGROUND_RUN_INLINE = True
    settings.DATA_DIR = tmp_path


def _xlsx(header, rows) -> SimpleUploadedFile:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    buf = BytesIO()
    wb.save(buf)
    return SimpleUploadedFile("清单.xlsx", buf.getvalue())


def _run(client, spec, header, rows, capture) -> ImportRun:
    resp = client.post(f"/imports/{spec}/new/", {"file": _xlsx(header, rows)})
    assert resp.status_code == 302, resp.content.decode()[:500]
    run = ImportRun.objects.get(pk=int(resp.url.rstrip("/").rsplit("/", 1)[1]))
    with capture(execute=True):
        assert client.post(f"/imports/runs/{run.pk}/start/").status_code == 302
    run.refresh_from_db()
    return run


RENTAL_HEADER = ["所属网格", "楼栋", "房号", "房东", "房东联系电话", "居住人数", "是否群租", "三合一"]


def test_rental_import_row_errors_and_idempotent(ew, client, django_capture_on_commit_callbacks):
    client.force_login(ew.community_staff)
    g = ew.grid.code
    rows = [
        [g, "示范小区3幢", "601", "林房东", "13800001234", 3, "否", "否"],
        [g, "示范小区3幢", "602", "郑房东", "", 12, "是", "是"],
        [g, "示范小区3幢", "501", "陈建国", "13912345678", 8, "是", "否"],  # existing: update
        [g, "不存在楼", "1", "某", "", 1, "否", "否"],  # unknown building
        [ew.other_grid.code, "外区5幢", "9", "某", "", 1, "否", "否"],  # not the staff's 社区
        [g, "示范小区3幢", "603", "某", "12", 1, "否", "否"],  # bad phone
        [g, "示范小区3幢", "604", "某", "", "多", "否", "否"],  # not a number
    ]
    resp = client.post("/imports/estates.rentals/new/", {"file": _xlsx(RENTAL_HEADER, rows)})
    run = ImportRun.objects.get(pk=int(resp.url.rstrip("/").rsplit("/", 1)[1]))
    page = client.get(f"/imports/runs/{run.pk}/").content.decode()
    assert '<option value="房号" selected>' in page  # mapped by alias
    assert "房东电话：应为 7–12 位数字" in page and "租住人数应为整数" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/imports/runs/{run.pk}/start/")
    run.refresh_from_db()
    assert (run.created_count, run.failed) == (3, 4)
    errors = " ".join(ImportRunError.objects.filter(job=run).values_list("reason", flat=True))
    assert "楼栋：网格" in errors and "不在您的辖区" in errors
    assert Rental.objects.get(room="602").crowded and Rental.objects.get(room="602").three_in_one
    assert Rental.objects.get(room="501").tenants == 8 and Rental.objects.filter(room="501").count() == 1
    assert Rental.objects.get(room="601").landlord_phone_masked == "138****1234"
    assert "13800001234" not in repr(list(ImportLedger.objects.values_list("key", flat=True)))
    again = _run(client, "estates.rentals", RENTAL_HEADER, rows, django_capture_on_commit_callbacks)
    assert (again.created_count, again.updated_count) == (0, 0)


def test_grid_worker_may_not_import(ew, client):
    client.force_login(ew.grid_worker)
    resp = client.post("/imports/estates.rentals/new/", {"file": _xlsx(RENTAL_HEADER, [])})
    assert resp.status_code in (403, 404)


def test_target_import_keeps_results(ew, client, django_capture_on_commit_callbacks):
    from civicgrid.estates import services

    services.record_result(actor=ew.grid_worker, target=ew.targets[0], result="checked")
    client.force_login(ew.leader)
    header = ["活动编号", "对象编号", "排查对象", "网格编码", "楼栋", "地址"]
    rows = [
        ["RQ2026", "001", "示范小区3幢101（陈）", ew.grid.code, "示范小区3幢", ""],
        ["RQ2026", "010", "示范小区3幢110", ew.grid.code, "示范小区3幢", ""],
        ["NOPE", "011", "某", ew.grid.code, "", ""],
        ["RQ2026", "012", "某", "330106999999999", "", ""],
    ]
    run = _run(client, "estates.targets", header, rows, django_capture_on_commit_callbacks)
    assert run.failed == 2
    t1 = CampaignTarget.objects.get(key="001")
    assert t1.name == "示范小区3幢101（陈）" and t1.result == "checked"  # renamed, result kept
    assert CampaignTarget.objects.get(key="010").address == "示范路30号"
    errors = " ".join(ImportRunError.objects.filter(job=run).values_list("reason", flat=True))
    assert "活动编号：NOPE 不存在" in errors and "网格编码：330106999999999" in errors


# --- pages ------------------------------------------------------------------------------------------------


def test_pages_per_role(ew, client):
    client.force_login(ew.grid_worker)
    text = client.get("/estates/").content.decode()
    assert "示范小区3幢" in text and "外区5幢" not in text and "陈建国" in text and "139****5678" in text
    assert client.get(f"/estates/rentals/{ew.other_rental.pk}/").status_code == 404
    assert client.get(f"/estates/rentals/{ew.rental.pk}/").status_code == 200
    resp = client.post(
        f"/estates/rentals/{ew.rental.pk}/inspect/",
        {"result": "rectify", "findings": "消防通道堵塞", "to": "case", "idempotency_key": "abc"},
    )
    assert resp.status_code == 302 and ew.rental.inspections.get().case is not None
    page = client.get(f"/estates/targets/{ew.targets[0].pk}/")
    assert page.status_code == 200 and "保存并下一户" in page.content.decode()
    resp = client.post(f"/estates/targets/{ew.targets[0].pk}/", {"result": "checked"})
    assert resp.url == f"/estates/targets/{ew.targets[1].pk}/"  # on to the next pending one
    assert client.get(f"/estates/targets/{ew.targets[2].pk}/").status_code == 404
    text = client.get(f"/estates/campaigns/{ew.campaign.pk}/?by=worker").content.decode()
    assert "外区5幢201" not in text and "50.0%" in text
    # the desk sees the whole 街道, landlord names masked
    client.force_login(ew.dispatcher)
    text = client.get("/estates/").content.decode()
    assert "外区5幢" in text and "陈**" in text and "陈建国" not in text
    assert client.post(f"/estates/rentals/{ew.rental.pk}/clear/", {"reason": "x"}).status_code == 302
    ew.rental.refresh_from_db()
    assert ew.rental.status == "active"  # the desk may not 清退
    text = client.get("/estates/buildings/").content.decode()
    assert "钱江大厦" in text and "100.0%" in text and "吴**" in text
    xlsx = client.get("/estates/rentals/export.xlsx")
    wb = openpyxl.load_workbook(BytesIO(b"".join(xlsx.streaming_content)))
    cells = [c.value for row in wb.active.iter_rows() for c in row]
    assert "陈**" in cells and "139****5678" in cells and "陈建国" not in cells
    # 处置部门 and the 审计管理员 see none of it
    for user in (ew.handler, ew.auditor):
        client.force_login(user)
        assert client.get("/estates/").status_code in (302, 403)


def test_campaign_creation_page(ew, client):
    client.force_login(ew.leader)
    resp = client.post(
        "/estates/campaigns/",
        {"code": "DDC26", "name": "电动车入户充电排查", "kind": "ebike", "starts_on": "2026-03-01",
         "ends_on": "2026-02-01"},
    )  # fmt: skip
    assert resp.status_code == 200 and "截止日期不得早于开始日期" in resp.content.decode()
    client.force_login(ew.grid_worker)
    assert client.post("/estates/campaigns/", {"code": "X"}).status_code == 403


# --- API --------------------------------------------------------------------------------------------------


def test_api_scoped_masked_and_4xx(ew, client):
    client.force_login(ew.grid_worker)
    rows = client.get("/api/v1/estates/rentals").json()
    assert [r["room"] for r in rows] == ["501"] and rows[0]["landlord_phone"] == "139****5678"
    assert client.get(f"/api/v1/estates/rentals/{ew.other_rental.pk}").status_code == 404
    r = client.post(
        "/api/v1/estates/rentals",
        {"building": ew.block.pk, "room": "702", "landlord_name": "黄房东", "tenants": 2},
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["address"] == "示范小区3幢702室"
    bad = client.post(
        "/api/v1/estates/rentals",
        {"building": ew.other_block.pk, "room": "1", "landlord_name": "x"},
        content_type="application/json",
    )
    assert bad.status_code == 422 and "building" in bad.content.decode()
    r = client.post(
        f"/api/v1/estates/rentals/{ew.rental.pk}/inspections",
        {"result": "serious", "findings": "违规住人", "to": "hazard", "hazard_level": "major"},
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["case"]
    assert (
        client.post(
            f"/api/v1/estates/rentals/{ew.rental.pk}/clear",
            {"reason": "清退"},
            content_type="application/json",
        ).json()["status"]
        == "cleared"
    )
    r = client.post(
        f"/api/v1/estates/targets/{ew.targets[0].pk}/result",
        {"result": "problem", "finding": "燃气报警器缺失"},
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["case"]
    cov = client.get(f"/api/v1/estates/campaigns/{ew.campaign.pk}/coverage?by=grid").json()
    assert cov[-1] == {"key": None, "label": "合计", "targets": 2, "reached": 1, "attempted": 1,
                       "coverage": 50.0, "done": 50.0}  # fmt: skip
    assert client.get(f"/api/v1/estates/campaigns/{ew.campaign.pk}/coverage?by=x").status_code == 422
    r = client.post(
        f"/api/v1/estates/enterprises/{ew.enterprises[0].pk}/visits",
        {"notes": "", "demand": "希望协调停车位"},
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["case"]
    client.force_login(ew.leader)
    b = client.get("/api/v1/estates/buildings?key_only=true").json()
    assert b[0]["registration_rate"] == 100.0 and b[0]["manager"] == "吴楼长"
    reg = client.get("/api/v1/estates/registration").json()
    assert reg[0]["rate"] == 100.0 and "注册地在本街道" in reg[0]["formula"]
    client.force_login(ew.handler)
    assert client.get("/api/v1/estates/rentals").status_code == 403


def test_enterprise_import_finds_or_adds_units(ew, client, django_capture_on_commit_callbacks):
    from civicgrid.estates import metrics
    from civicgrid.estates.models import EnterpriseProfile
    from civicgrid.places.models import Unit
    from tests.estates.conftest import uscc

    client.force_login(ew.community_staff)
    header = [
        "所属网格",
        "所在楼宇",
        "企业名称",
        "社会信用代码",
        "本街道注册",
        "所属行业",
        "规上",
        "空置面积",
        "入驻日期",
    ]
    code = uscc("91330106MA2Y00001")
    bad = code[:-1] + ("0" if code[-1] != "0" else "1")
    rows = [
        [
            ew.grid.code,
            "钱江大厦",
            "钱江0号公司",
            ew.enterprises[0].credit_code,
            "否",
            "金融",
            "是",
            "0",
            "2024-05-01",
        ],
        [ew.grid.code, "钱江大厦", "新入驻科技有限公司", code, "是", "信息技术", "否", "200㎡", ""],
        [ew.grid.code, "钱江大厦", "坏代码公司", bad, "是", "信息技术", "否", "", ""],
        [ew.grid.code, "钱江大厦", "坏行业公司", "", "是", "挖矿", "否", "", ""],
        [ew.grid.code, "钱江大厦", "坏面积公司", "", "是", "金融", "否", "很大", ""],
    ]
    run = _run(client, "estates.enterprises", header, rows, django_capture_on_commit_callbacks)
    assert run.failed == 3
    errors = " ".join(ImportRunError.objects.filter(job=run).values_list("reason", flat=True))
    assert (
        "统一社会信用代码：校验位不正确" in errors and "行业应为" in errors and "闲置面积应为数字" in errors
    )
    first = EnterpriseProfile.objects.get(pk=ew.enterprises[0].pk)
    assert (first.registered_here, first.industry, first.above_scale) == (False, "finance", True)
    new = EnterpriseProfile.objects.get(credit_code=code)
    assert (
        new.unit.building == ew.tower
        and new.vacant_area == 200
        and Unit.objects.filter(name="新入驻科技有限公司").count() == 1
    )
    # 3 old occupants (one now registered elsewhere) + the new one: 3 / 4 registered here
    assert metrics.registration(EnterpriseProfile.objects.all())[ew.tower.pk]["rate"] == 75.0
    again = _run(client, "estates.enterprises", header, rows, django_capture_on_commit_callbacks)
    assert (again.created_count, again.updated_count) == (0, 0)


def test_building_profile_page_form(ew, client):
    from civicgrid.estates.models import BuildingProfile
    from tests.factories import BuildingFactory

    other_tower = BuildingFactory(grid=ew.grid, kind="tower", name="西溪科创中心")
    client.force_login(ew.grid_worker)
    assert "西溪科创中心" in client.get("/estates/buildings/").content.decode()
    resp = client.post(
        "/estates/buildings/save/",
        {"building": other_tower.pk, "is_key": "on", "manager_name": "钱楼长", "manager_phone": "13600002222",
         "leader": "刘副书记", "total_area": "12000"},
    )  # fmt: skip
    p = BuildingProfile.objects.get(building=other_tower)
    assert resp.url == f"/estates/buildings/{p.pk}/" and p.is_key and p.manager_phone_masked == "136****2222"
    client.post(
        "/estates/buildings/save/",
        {
            "building": other_tower.pk,
            "is_key": "on",
            "manager_name": "钱楼长",
            "total_area": "12000",
            "leader": "刘副书记",
        },
    )
    p.refresh_from_db()
    assert p.manager_phone_masked == "136****2222"  # a blank phone keeps the stored one
    resp = client.post("/estates/buildings/save/", {"building": other_tower.pk, "total_area": "很大"})
    assert resp.status_code == 302 and BuildingProfile.objects.get(pk=p.pk).total_area == 12000
    client.force_login(ew.other_worker)
    client.post("/estates/buildings/save/", {"building": other_tower.pk, "leader": "外人"})
    assert BuildingProfile.objects.get(pk=p.pk).leader == "刘副书记"
