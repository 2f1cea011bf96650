"""The pages, the exports (Excel and Word, merged two-row header), the API and the monthly import, as the 街道's
领导 and 经济发展办 use them; another 街道 and the roles without the whole-街道 view see nothing."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import zipfile
from decimal import Decimal as D

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from civicgrid.core import importer
from civicgrid.core.models import AuditLog, ImportStatus
from civicgrid.goals.models import Actual, MicroProject

pytestmark = pytest.mark.django_db


def test_the_summary_page_shows_the_report_table(gw, client):
    client.force_login(gw.leader)
    html = client.get("/goals/").content.decode()
    assert "甲街道2026年高质量发展绩效评价考核指标1-9月完成情况" in html
    assert '<th colspan="2">目标任务</th><th colspan="2">1-9月完成</th><th colspan="2">预计全年</th>' in html
    row = re.search(r'data-testid="line-1">(.*?)</tr>', html, re.S).group(1)
    assert "地区生产总值（亿元）" in row and "120" in row and 'data-light="green"' in row and "攀高" in row
    assert 'data-testid="count-green">2<' in html and 'data-testid="count-climbed">1<' in html
    assert "乙专属指标" not in html
    # August: the 1-7月 figures, marked
    html = client.get("/goals/", {"month": 8}).content.decode()
    assert "70（截至7月）" in html and "1-8月完成" in html


def test_the_summary_page_refuses_other_roles_and_other_streets(gw, client):
    client.force_login(gw.worker)
    assert client.get("/goals/").status_code == 403
    assert client.get("/api/v1/goals/summary").status_code == 403
    client.force_login(gw.leader)
    assert client.get("/goals/", {"scorecard": gw.other_card.pk}).status_code == 404
    assert client.get(f"/goals/indicators/{gw.other_ind.pk}/").status_code == 404
    assert client.get(f"/goals/projects/{gw.other_project.pk}/").status_code == 404
    assert client.get(f"/api/v1/goals/indicators/{gw.other_ind.pk}").status_code == 404
    assert client.get("/goals/", {"month": "x"}).status_code == 200
    assert client.get("/goals/", {"scorecard": "x"}).status_code == 404


def test_excel_export_has_the_merged_two_row_header(gw, client):
    client.force_login(gw.leader)
    response = client.get("/goals/summary.xlsx", {"scorecard": gw.card.pk, "month": 9})
    assert response.status_code == 200
    ws = openpyxl.load_workbook(io.BytesIO(response.content)).active
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert {"A2:A3", "B2:B3", "C2:D2", "E2:F2", "G2:H2", "I2:I3"} <= merged
    assert [ws.cell(2, c).value for c in (1, 2, 3, 5, 7, 9)] == [
        "序号",
        "指标名称",
        "目标任务",
        "1-9月完成",
        "预计全年",
        "状态",
    ]
    assert [ws.cell(3, c).value for c in range(3, 9)] == ["总量", "增幅"] * 3
    assert [ws.cell(4, c).value for c in range(1, 10)] == [
        "1", "地区生产总值（亿元）", "120", "6%", "90", "7%", "120", "7%", "绿灯、攀高"
    ]  # fmt: skip
    assert ws.cell(7, 1).value.startswith("共 3 项指标：绿灯 2 盏")


def _docx_text(body: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(body)) as z:
        return z.read("word/document.xml").decode()


def test_word_export_has_the_merged_two_row_header(gw, client):
    client.force_login(gw.leader)
    response = client.get("/goals/summary.docx", {"scorecard": gw.card.pk})
    assert response.status_code == 200 and response["Content-Type"].endswith("wordprocessingml.document")
    xml = _docx_text(response.content)
    rows = re.findall(r"<w:tr>(.*?)</w:tr>", xml)
    assert len(rows) == 2 + 3
    first, second = rows[0], rows[1]
    assert first.count('<w:vMerge w:val="restart"/>') == 3 and first.count('<w:gridSpan w:val="2"/>') == 3
    assert second.count("<w:vMerge/>") == 3
    texts = [re.findall(r"<w:t[^>]*>([^<]*)</w:t>", r) for r in rows]
    assert texts[0] == ["序号", "指标名称", "目标任务", "1-9月完成", "预计全年", "状态"]
    assert texts[1] == ["", "", "总量", "增幅", "总量", "增幅", "总量", "增幅", ""]
    assert texts[2] == ["1", "地区生产总值（亿元）", "120", "6%", "90", "7%", "120", "7%", "绿灯、攀高"]
    assert "绿灯 2 盏" in xml


@pytest.mark.skipif(
    not shutil.which("soffice") and os.environ.get("CIVICGRID_REQUIRE_OFFICE") != "1",
    reason="LibreOffice (soffice) is not installed on this machine (CI installs it and sets CIVICGRID_REQUIRE_OFFICE=1)",
)
@pytest.mark.parametrize("kind", ["xlsx", "docx"])
def test_the_exports_open_in_libreoffice(gw, client, tmp_path, kind):
    client.force_login(gw.leader)
    src = tmp_path / f"summary.{kind}"
    src.write_bytes(client.get(f"/goals/summary.{kind}").content)
    subprocess.run(
        ["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo", "--convert-to", "pdf",
         "--outdir", str(tmp_path), str(src)],
        check=True, timeout=120, capture_output=True,
    )  # fmt: skip
    pdf = tmp_path / "summary.pdf"
    assert pdf.exists()
    # the merged two-row header and a row, as LibreOffice laid them out (pdftotext: Debian's poppler-utils)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    text = re.sub(r"\s+", "", text)  # the extraction puts spaces and line breaks where the layout has gaps
    for word in ("目标任务", "1-9月完成", "预计全年", "总量", "增幅", "地区生产总值"):
        assert word in text


def test_the_indicator_page_shows_the_method_and_takes_a_month(gw, client):
    client.force_login(gw.leader)
    html = client.get(f"/goals/indicators/{gw.gdp.pk}/").content.decode()
    assert "线性进度" in html and "1-9月累计 90.00" in html and "已过 9 个月" in html
    response = client.post(
        f"/goals/indicators/{gw.gdp.pk}/",
        {"action": "actual", "month": "8", "ytd_total": "81", "ytd_growth": "6.9", "rank": "4"},
    )
    assert response.status_code == 302
    assert Actual.objects.get(indicator=gw.gdp, month=8).rank == 4
    html = client.post(
        f"/goals/indicators/{gw.gdp.pk}/", {"action": "actual", "month": "8", "ytd_total": "abc"}
    ).content.decode()
    assert "累计总量不是数字：abc" in html
    html = client.post(
        f"/goals/indicators/{gw.gdp.pk}/", {"action": "override", "override_total": "110"}
    ).content.decode()
    assert "请填写人工预计的理由" in html
    client.post(
        f"/goals/indicators/{gw.gdp.pk}/",
        {"action": "override", "override_total": "125", "override_reason": "四季度新项目投产"},
    )
    html = client.get(f"/goals/indicators/{gw.gdp.pk}/").content.decode()
    assert "人工预计" in html and "理由：四季度新项目投产" in html
    assert client.post(f"/goals/indicators/{gw.gdp.pk}/", {"action": "bogus"}).status_code == 200


def test_the_board_and_a_project(gw, client):
    client.force_login(gw.leader)
    html = client.get("/goals/projects/", {"year": 2026, "month": 9}).content.decode()
    assert "共有项目 <strong>3</strong> 个" in html
    assert 'data-testid="category-rate-new_industry">80.67%' in html
    assert html.count('data-testid="lagging"') == 1 and "乙专属项目" not in html
    assert "108.5%" in html
    response = client.post(
        f"/goals/projects/{gw.lab.pk}/", {"month": "10", "cumulative": "350", "note": "开工"}
    )
    assert response.status_code == 302
    html = client.post(f"/goals/projects/{gw.lab.pk}/", {"month": "11", "cumulative": "-1"}).content.decode()
    assert "累计完成投资不能为负数" in html
    ws = openpyxl.load_workbook(
        io.BytesIO(client.get("/goals/projects.xlsx?year=2026&month=9").content)
    ).active
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert ["新建产业小计", None, None, 1200, 968, "80.67%", None, None] in values
    assert client.get("/goals/projects/", {"year": "x", "month": "99", "street": "y"}).status_code == 200


def test_the_api(gw, client):
    client.force_login(gw.leader)
    data = client.get("/api/v1/goals/summary", {"month": 9}).json()
    assert (data["green"], data["yellow"], data["red"], data["climbed"]) == (2, 1, 0, 1)
    gdp = data["lines"][0]
    assert (gdp["forecast_method"], D(gdp["forecast_total"]), gdp["light"], gdp["climbed"]) == (
        "linear",
        D(120),
        "green",
        True,
    )
    r = client.post(
        f"/api/v1/goals/indicators/{gw.invest.pk}/actuals",
        {"month": 10, "ytd_growth": "9.1"},
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["actuals"][-1]["month"] == 10
    r = client.post(
        f"/api/v1/goals/indicators/{gw.invest.pk}/actuals", {"month": 10}, content_type="application/json"
    )
    assert r.status_code == 422 and r.json()["field"] == "ytd_total"
    r = client.post(
        f"/api/v1/goals/indicators/{gw.other_ind.pk}/actuals",
        {"month": 1, "ytd_total": 1},
        content_type="application/json",
    )
    assert r.status_code == 404
    r = client.post(
        f"/api/v1/goals/indicators/{gw.gdp.pk}/override",
        {"total": "130", "reason": ""},
        content_type="application/json",
    )
    assert r.status_code == 422 and r.json()["field"] == "override_reason"
    board = client.get("/api/v1/goals/projects", {"year": 2026, "month": 9}).json()
    assert D(board["rate"]) == D("80.57") and board["lagging"] == 1
    r = client.post(f"/api/v1/goals/projects/{gw.plant.pk}/progress", {"month": 10, "cumulative": "900"},
                    content_type="application/json")  # fmt: skip
    assert r.status_code == 200 and D(r.json()["rate"]) == D("112.50")
    assert client.get("/api/v1/goals/projects", {"year": 2026, "month": 13}).status_code == 422


# --- the monthly sheet through the core importer ----------------------------------------------------------

HEADER = ["街道", "年度", "月份", "序号", "指标名称", "本年累计", "增幅(%)", "上年同期", "排名"]


def sheet(rows) -> SimpleUploadedFile:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["2026年1-10月各街道经济指标完成情况"])
    ws.append(HEADER)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return SimpleUploadedFile("1-10月.xlsx", buf.getvalue())


OCTOBER = [
    ["甲街道", 2026, 10, 1, "地区生产总值", 101, "7.2%", 92, 2],
    ["甲街道", 2026, 10, 2, "", None, 9.4, None, None],
    ["甲街道", 2026, 10, 9, "不存在的指标", 5, None, None, None],
    ["甲街道", 2026, 10, 3, "安全事故", 0, None, None, None],  # the name does not match 序号 3
    ["乙街道", 2026, 10, 1, "乙专属指标", 5, None, None, None],  # another 街道
    ["甲街道", 2026, 10, None, "较大安全事故", 0, None, None, None],
    ["甲街道", 2026, 10, 1, "", "八十", None, None, None],
]


@pytest.fixture
def run(settings, django_capture_on_commit_callbacks):
    settings.BACKGROUND_RUN_INLINE = True

    def go(actor, rows):
        job = importer.create_run(actor=actor, spec="goals.actuals", upload=sheet(rows))
        with django_capture_on_commit_callbacks(execute=True):
            importer.start_run(actor=actor, job=job)
        job.refresh_from_db()
        return job

    return go


def test_the_monthly_sheet_imports_with_row_errors_and_is_idempotent(gw, run, client):
    job = importer.create_run(actor=gw.leader, spec="goals.actuals", upload=sheet(OCTOBER))
    assert job.mapping == {
        "street": "街道", "year": "年度", "month": "月份", "seq": "序号", "indicator": "指标名称",
        "ytd_total": "本年累计", "ytd_growth": "增幅(%)", "prior_ytd": "上年同期", "rank": "排名",
    }  # fmt: skip
    preview = {r.number: r for r in importer.preview_run(actor=gw.leader, job=job)}
    assert preview[3].ok and preview[3].resolved["期间"] == "2026年1-10月"
    assert "序号 3 的指标名称与表中的「安全事故」不符" in preview[6].row_problem
    assert not Actual.objects.filter(month=10).exists()

    job = run(gw.leader, OCTOBER)
    assert job.status == ImportStatus.PARTIAL
    assert (job.created_count, job.failed) == (3, 4)
    reasons = dict(job.errors.values_list("row_number", "reason"))
    assert "找不到该指标" in reasons[5]
    assert reasons[7] == "街道不在您的辖区：乙街道"
    assert "累计总量不是数字：八十" in reasons[9]
    gdp = Actual.objects.get(indicator=gw.gdp, month=10)
    assert (gdp.ytd_total, gdp.ytd_growth, gdp.prior_ytd, gdp.rank, gdp.source) == (
        D(101),
        D("7.2"),
        D(92),
        2,
        "imported",
    )
    assert not Actual.objects.filter(indicator=gw.other_ind).exists()
    assert AuditLog.objects.filter(action="goals.actual.import", actor=gw.leader).count() == 3

    again = run(gw.leader, OCTOBER)
    assert (again.created_count, again.updated_count) == (0, 0)
    fixed = [list(OCTOBER[0])]
    fixed[0][5] = 102
    third = run(gw.leader, fixed)
    assert third.updated_count == 1 and Actual.objects.get(indicator=gw.gdp, month=10).ytd_total == D(102)
    # the 1-10月 summary: seasonal share now (上年同期 92 and no 上年全年 → linear), 攀高 3 → 2
    client.force_login(gw.leader)
    data = client.get("/api/v1/goals/summary", {"month": 10}).json()
    assert data["lines"][0]["climbed"] is True


def test_the_import_is_offered_to_the_desk_not_to_the_grid_worker(gw):
    assert "goals.actuals" in {s.name for s in importer.importable_specs(user=gw.leader)}
    assert "goals.actuals" not in {s.name for s in importer.importable_specs(user=gw.worker)}


# --- milestones, problems, stage items, 民生微实事, computed indicators (pages and API) ---------------------


def test_project_page_saves_milestones_raises_a_problem_and_advances_an_item(gw, client):
    client.force_login(gw.dispatcher)
    url = f"/goals/projects/{gw.plant.pk}/"
    r = client.post(
        url, {"action": "milestones", "permit_planned": "2026-02-01", "permit_actual": "2026-02-10"}
    )
    assert r.status_code == 302
    html = client.get(url).content.decode()
    assert 'data-state="late_done"' in html and "延期9天完成" in html and "未定计划" in html
    r = client.post(url, {"action": "milestones", "start_planned": "明天"})
    assert r.status_code == 400 and "开工计划日期格式不正确" in r.content.decode()
    r = client.post(url, {"action": "issue", "text": "地块西侧管线迁改未完成"})
    assert r.status_code == 302
    assert "地块西侧管线迁改未完成" in client.get(url).content.decode()
    lift = f"/goals/projects/{gw.lift.pk}/"
    client.post(lift, {"action": "add_item", "name": "文新 3 幢", "stage": "pending", "households": "14"})
    item = gw.lift.stage_items.get()
    client.post(lift, {"action": "advance_item", "item": item.pk})
    gw.lift.refresh_from_db()
    assert gw.lift.stage_in_use == 1 and gw.lift.households == 14
    r = client.post(lift, {"action": "advance_item", "item": "x"})
    assert r.status_code == 400 and "明细不存在" in r.content.decode()
    assert client.post(url, {"action": "nope"}).status_code == 400


def test_gantt_and_micro_pages(gw, client):
    client.force_login(gw.leader)
    assert "还没有填报节点" in client.get("/goals/gantt/").content.decode()
    gw.plant.milestones.create(kind="start", planned="2026-03-01", actual="2026-03-05")
    html = client.get("/goals/gantt/", {"year": "2026"}).content.decode()
    assert (
        html.count('data-testid="gantt-row"') == 3 and "智能制造产业园" in html and "乙专属项目" not in html
    )
    assert client.get("/goals/gantt/", {"year": "x"}).status_code == 200
    r = client.post("/goals/micro/?year=2026", {"action": "create", "name": "口袋公园", "budget": "12"})
    assert r.status_code == 302
    item = MicroProject.objects.get()
    client.post("/goals/micro/?year=2026", {"action": "advance", "item": item.pk})
    html = client.get("/goals/micro/", {"year": 2026}).content.decode()
    assert "确定2026年民生微实事项目0件" in html and 'data-step="deliberate"' in html
    r = client.post("/goals/micro/?year=2026", {"action": "create", "name": "", "budget": "abc"})
    assert r.status_code == 200 and "请填写项目名称" in r.content.decode()
    client.force_login(gw.other_leader)
    r = client.post("/goals/micro/?year=2026", {"action": "advance", "item": item.pk})
    assert "不存在或无权查看" in r.content.decode()
    item.refresh_from_db()
    assert item.step == "deliberate"


def test_api_milestones_issue_micro_and_recompute(gw, client):
    client.force_login(gw.dispatcher)
    base = f"/api/v1/goals/projects/{gw.plant.pk}"
    r = client.put(
        f"{base}/milestones",
        [
            {"kind": "permit", "planned": "2026-02-01", "actual": "2026-02-01"},
            {"kind": "start", "planned": "2026-03-01"},
        ],
        content_type="application/json",
    )
    assert r.status_code == 200
    got = {m["kind"]: m for m in r.json()}
    assert got["permit"]["state"] == "done" and got["completed"]["state"] == "missing"
    assert got["start"]["state"] in ("overdue", "pending")
    bad = client.put(f"{base}/milestones", [{"kind": "roof"}], content_type="application/json")
    assert bad.status_code == 422
    r = client.post(f"{base}/issues", {"text": "资金拨付滞后"}, content_type="application/json")
    assert r.status_code == 201 and r.json()["case_id"]
    assert client.post(f"{base}/issues", {"text": " "}, content_type="application/json").status_code == 422
    r = client.post(
        "/api/v1/goals/micro", {"year": 2026, "name": "健身步道"}, content_type="application/json"
    )
    assert r.status_code == 201 and r.json()["step"] == "collect"
    mid = r.json()["id"]
    r = client.post(f"/api/v1/goals/micro/{mid}/move", {"move": "advance"}, content_type="application/json")
    assert r.json()["step_label"] == "议事"
    r = client.post(f"/api/v1/goals/micro/{mid}/move", {"move": "fly"}, content_type="application/json")
    assert r.status_code == 422 and r.json()["field"] == "move" and "未知操作" in r.json()["detail"]
    board = client.get("/api/v1/goals/micro", {"year": 2026}).json()
    assert board["sentence"] == "确定2026年民生微实事项目0件" and board["counts"] == {"deliberate": 1}
    r = client.post(
        f"/api/v1/goals/indicators/{gw.gdp.pk}/recompute", {"month": 9}, content_type="application/json"
    )
    assert r.status_code == 422 and r.json()["field"] == "metric"
    client.force_login(gw.other_leader)
    assert client.get(f"{base}/milestones").status_code == 404
    assert (
        client.post(
            f"/api/v1/goals/micro/{mid}/move", {"move": "advance"}, content_type="application/json"
        ).status_code
        == 404
    )
    client.force_login(gw.worker)
    assert client.get("/api/v1/goals/micro", {"year": 2026}).status_code == 403
