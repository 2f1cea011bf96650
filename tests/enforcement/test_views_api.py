"""The 综合执法 screens and API: the ledger and its Excel (上级 report layout, totals row), the create form, the
printable record, the figures, the API (register, list, one case, figures), and the import of an existing ledger
through the /imports/ wizard: mapping, preview with row errors, idempotent re-upload."""

from __future__ import annotations

import io
from datetime import timedelta

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from civicgrid.core import clock
from civicgrid.core.models import ImportRun, ImportStatus
from civicgrid.enforcement.models import EnforcementDetail

pytestmark = pytest.mark.django_db


def test_the_desk_registers_a_case_with_the_form_and_prints_its_record(ew, client):
    client.force_login(ew.dispatcher)
    page = client.get("/enforcement/new/").content.decode()
    assert "违法建设" in page and ew.dept.name in page
    r = client.post(
        "/enforcement/new/",
        {
            "party_name": "张三",
            "party_kind": "person",
            "party_contact": "13912345678",
            "violation_type": ew.types["illegal_building"].pk,
            "department": ew.dept.pk,
            "discovered_at": clock.local_now().strftime("%Y-%m-%dT%H:%M"),
            "address": "示范路3号楼顶",
            "description": "楼顶搭建彩钢棚约20平方米",
        },
    )
    assert r.status_code == 302, r.content.decode()[:800]
    d = EnforcementDetail.objects.get()
    assert r["Location"] == f"/enforcement/{d.case_id}/"
    record = client.get(r["Location"]).content.decode()
    assert "行政处罚案件登记表" in record and "张三" in record and "data-cg-print" in record
    assert "13912345678" in record  # the desk sees the full number
    client.force_login(ew.handler)
    record = client.get(r["Location"]).content.decode()
    assert "139****5678" in record and "13912345678" not in record


def test_the_form_names_the_problem_and_writes_nothing(ew, client):
    client.force_login(ew.dispatcher)
    r = client.post("/enforcement/new/", {"party_name": "", "department": ew.dept.pk})
    assert r.status_code == 422 and "请填写当事人" in r.content.decode()
    r = client.post(
        "/enforcement/new/",
        {"party_name": "王五", "violation_type": ew.types["noise"].pk, "department": ew.dept.pk,
         "source_case": "C2099"},
    )  # fmt: skip
    assert r.status_code == 422 and "来源案件不存在" in r.content.decode()
    r = client.post(
        "/enforcement/new/",
        {"party_name": "王五", "violation_type": ew.types["noise"].pk, "department": ew.dept.pk,
         "discovered_at": "yesterday"},
    )  # fmt: skip
    assert r.status_code == 422 and "发现时间格式不正确" in r.content.decode()
    assert not EnforcementDetail.objects.exists()


def test_roles_without_the_ledger_are_refused(ew, client):
    case = ew.register()
    for user in (ew.grid_worker, ew.community_staff, ew.auditor):
        client.force_login(user)
        for url in (
            "/enforcement/",
            f"/enforcement/{case.pk}/",
            "/enforcement/figures/",
            "/enforcement/new/",
        ):
            assert client.get(url).status_code in (302, 403), (user.role, url)
    client.force_login(ew.handler2)  # another department: the ledger opens but holds nothing of ours
    assert case.number not in client.get("/enforcement/").content.decode()
    assert client.get(f"/enforcement/{case.pk}/").status_code == 404
    assert client.get("/enforcement/new/").status_code == 403


def test_ledger_export_is_the_report_sheet_with_a_totals_row(ew, client):
    ew.general_case(fine="8000", area="20.5", sites=1)
    ew.simple_case(fine="150")
    client.force_login(ew.dispatcher)
    page = client.get("/enforcement/").content.decode()
    assert "一般程序" in page and "简易程序" in page
    r = client.get("/enforcement/export.xlsx")
    assert r.status_code == 200
    ws = openpyxl.load_workbook(io.BytesIO(b"".join(r.streaming_content))).active
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    assert rows[0][:5] == ["序号", "案件编号", "原台账编号", "适用程序", "当事人"]
    assert len(rows) == 4 and rows[1][0] == 1 and rows[2][0] == 2
    assert rows[1][6] == "138****8000"  # the contact is masked in the sheet
    totals = rows[3]
    assert totals[0] == "合计" and totals[1] == "2 件" and totals[3] == "一般 1 / 简易 1"
    assert totals[16] == 8150 and totals[17] == 20.5 and totals[18] == 1


def test_figures_page_and_api(ew, client):
    ew.general_case(fine="8000", area="20.5", sites=1)
    client.force_login(ew.dispatcher)
    page = client.get("/enforcement/figures/").content.decode()
    assert 'data-testid="fig-accepted">1<' in page and 'data-testid="fig-area">20.50<' in page
    today = clock.local_now().date()
    r = client.get(f"/api/v1/enforcement/figures?start={today - timedelta(days=30)}&end={today}")
    assert r.status_code == 200 and r.json()["accepted"] == 1 and r.json()["fines"] == "8000.00"
    assert client.get("/api/v1/enforcement/figures?start=2026-05-01&end=2026-04-01").status_code == 422


def test_api_registers_lists_and_reads_a_case_then_drives_it(ew, client):
    client.force_login(ew.dispatcher)
    source = ew.move(ew.report(), "accept")  # a 12345 case, numbered at 立案
    body = {
        "party_name": "某餐饮店",
        "party_kind": "unit",
        "party_contact": "0571-8888888",
        "violation_type": ew.types["outdoor_ad"].pk,
        "department": ew.dept.pk,
        "grid": ew.grid.pk,
        "source_case": source.number,
        "description": "未经批准设置户外招牌",
    }
    r = client.post("/api/v1/enforcement/cases", data=body, content_type="application/json")
    assert r.status_code == 201, r.content
    out = r.json()
    assert out["state"] == "pending" and out["source_case"] == source.number and out["stage"] == "file"
    assert out["party_contact"] != "0571-8888888"
    listing = client.get("/api/v1/enforcement/cases?procedure_kind=&q=餐饮").json()
    assert [c["id"] for c in listing] == [out["id"]]
    # the moves are the case API's generated endpoints
    client.force_login(ew.handler)
    case = client.get(f"/api/v1/cases/{out['id']}").json()
    r = client.post(
        f"/api/v1/cases/{out['id']}/summary-penalty",
        data={"version": case["version"], "violation_type": ew.types["outdoor_ad"].pk,
              "legal_basis": "《广告管理条例》", "penalty": "罚款", "decision_no": "当场〔2026〕1号",
              "fine_amount": "500"},
        content_type="application/json",
    )  # fmt: skip
    assert r.status_code == 200, r.content
    assert client.get(f"/api/v1/enforcement/cases/{out['id']}").json()["state"] == "closed"
    # bad input names the field
    client.force_login(ew.dispatcher)
    for bad, field in (({"violation_type": 99999}, "violation_type"), ({"department": 99999}, "department"),
                       ({"source_case": "C1"}, "source_case"), ({"party_name": ""}, "party_name")):  # fmt: skip
        r = client.post("/api/v1/enforcement/cases", data={**body, **bad}, content_type="application/json")
        assert r.status_code == 422 and r.json().get("field") == field, (bad, r.content)
    client.force_login(ew.grid_worker)
    assert client.get(f"/api/v1/enforcement/cases/{out['id']}").status_code == 404
    assert client.post(
        "/api/v1/enforcement/cases", data=body, content_type="application/json"
    ).status_code in (
        403,
        422,
    )


HEADER = ["案号", "程序", "当事人", "当事人类型", "违法类型", "违法地点", "立案日期", "决定书文号", "决定日期",
          "罚款金额", "拆除面积", "拆除处数", "执行完毕时间", "结案日期", "处罚依据", "处罚结果"]  # fmt: skip
ROWS = [
    ["ZF-001", "一般程序", "某建筑公司", "单位", "违法建设", "示范路1号", "2026-01-05", "执罚〔2026〕1号",
     "2026-02-01", "10000", "45.5", "2", "2026-02-20", "2026-02-25", "《城乡规划法》第六十四条", "限期拆除"],
    ["ZF-002", "简易", "刘某", "个人", "占道经营", "示范路2号", "2026-01-06", "当场〔2026〕2号", "", "100", "",
     "", "", "", "《城市市容和环境卫生管理条例》", "罚款"],
    ["ZF-003", "一般程序", "赵某", "个人", "不存在的类型", "", "2026-01-07", "", "", "", "", "", "", "", "", ""],
    ["ZF-004", "一般程序", "钱某", "个人", "噪声扰民", "", "2026-01-08", "", "2026-01-01", "", "", "", "", "", "",
     ""],
    ["ZF-005", "一般程序", "孙某", "个人", "乱堆乱放", "", "2026-01-09", "", "", "", "", "", "", "", "", ""],
]  # fmt: skip


def _sheet(rows) -> SimpleUploadedFile:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["示范街道综合执法队行政处罚案件台账（2026年）"])
    ws.append(HEADER)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return SimpleUploadedFile("执法台账.xlsx", buf.getvalue())


@pytest.fixture
def desk(ew, settings, tmp_path):
    settings.BACKGROUND_RUN_INLINE = True
    settings.DATA_DIR = tmp_path
    ew.dispatcher.street = ew.grid.community.street
    ew.dispatcher.save()
    ew.dept.kind = "enforcement"
    ew.dept.street = ew.grid.community.street
    ew.dept.save()
    return ew


def _import(client, upload, django_capture_on_commit_callbacks) -> ImportRun:
    r = client.post("/imports/enforcement.cases/new/", {"file": upload})
    assert r.status_code == 302, r.content.decode()[:500]
    run = ImportRun.objects.get(pk=int(r.url.rstrip("/").rsplit("/", 1)[1]))
    page = client.get(f"/imports/runs/{run.pk}/").content.decode()
    assert run.header_row == 2 and "未知违法行为类型：不存在的类型" in page  # the preview names the bad row
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/imports/runs/{run.pk}/start/").status_code == 302
    run.refresh_from_db()
    return run


def test_importing_an_existing_ledger_is_checked_row_by_row_and_idempotent(
    desk, client, django_capture_on_commit_callbacks
):
    client.force_login(desk.dispatcher)
    assert "行政处罚案件台账" in client.get("/imports/").content.decode()
    run = _import(client, _sheet(ROWS), django_capture_on_commit_callbacks)
    assert run.status == ImportStatus.PARTIAL
    assert (run.created_count, run.failed) == (3, 2), run.__dict__
    one = EnforcementDetail.objects.select_related("case").get(external_ref="ZF-001")
    assert one.case.state == "closed" and one.procedure_kind == "general"
    assert one.demolished_area == 45.5 and one.fine_amount == 10000 and one.decision_no == "执罚〔2026〕1号"
    assert clock.to_local(one.accepted_at).date().isoformat() == "2026-01-05"
    assert clock.to_local(one.concluded_at).date().isoformat() == "2026-02-25"
    assert list(one.case.events.values_list("data__channel", flat=True))[-1] == "import"
    two = EnforcementDetail.objects.select_related("case").get(external_ref="ZF-002")
    assert two.case.state == "closed" and two.procedure_kind == "simple" and two.fine_amount == 100
    five = EnforcementDetail.objects.select_related("case").get(external_ref="ZF-005")
    assert five.case.state == "investigating" and five.decided_at is None
    # the same file again: nothing new; a changed row updates its figures
    again = _import(client, _sheet(ROWS), django_capture_on_commit_callbacks)
    assert (again.created_count, again.unchanged_count) == (0, 3)
    changed = [list(r) for r in ROWS]
    changed[0][10] = "50"
    third = _import(client, _sheet(changed), django_capture_on_commit_callbacks)
    assert (third.created_count, third.updated_count, third.unchanged_count) == (0, 1, 2)
    assert EnforcementDetail.objects.get(external_ref="ZF-001").demolished_area == 50
    assert EnforcementDetail.objects.count() == 3


def test_a_grid_worker_cannot_import_the_enforcement_ledger(desk, client):
    client.force_login(desk.grid_worker)
    assert client.get("/imports/enforcement.cases/new/").status_code in (403, 404)
