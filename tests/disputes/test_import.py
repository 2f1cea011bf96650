"""Importing an existing 矛盾纠纷 ledger through the generic wizard (/imports/): the columns map by their Chinese
names, the preview names each bad row and why, each good row becomes a dispute driven through the procedure at the
row's dates, and importing the same file again imports nothing twice."""

from __future__ import annotations

from datetime import date
from io import BytesIO

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from civicgrid.cases.models import Case
from civicgrid.core.models import ImportRun, ImportStatus
from civicgrid.disputes import metrics
from civicgrid.disputes.importing import SPEC
from civicgrid.disputes.models import DisputeDetail

pytestmark = pytest.mark.django_db

HEADER = ["序号编号", "受理日期", "来源", "派出所", "警情号", "纠纷类型", "社区", "网格", "纠纷情况", "申请人",
          "被申请人", "联系电话", "涉及金额", "调解组织", "调解员", "调解结果", "结案日期", "履行情况", "回访日期",
          "回访结果"]  # fmt: skip


def rows(dw):
    g, c = dw.grid.name, dw.community.name
    return [
        ["TJ-2026-001", "2026-03-02", "当事人申请", "", "", "邻里", c, g, "噪音纠纷", "张三", "李四", "13800001111",
         "", "老娘舅工作室", "王调解", "调解成功", "2026-03-09", "已履行", "2026-04-01", "双方满意"],
        ["TJ-2026-002", "2026/3/5", "警调衔接", "示范派出所", "JQ0305", "劳资", c, g, "欠薪", "赵六", "某公司",
         "", "8,000", "示范街道人民调解委员会", "陈调解", "调解不成功", "2026-03-20", "", "", ""],
        ["TJ-2026-003", "2026年3月8日", "排查", "", "", "婚姻家庭", c, "", "家庭矛盾", "孙七", "", "", "",
         "示范街道人民调解委员会", "", "终止", "2026-03-10", "", "", ""],
        ["TJ-2026-004", "2026-03-12", "排查", "", "", "物业", c, g, "物业费纠纷", "周八", "物业公司", "",
         "1200", "老娘舅工作室", "王调解", "", "", "", "", ""],
        # bad rows
        ["TJ-2026-005", "2026-03-13", "警调衔接", "", "", "邻里", c, g, "打架", "吴九", "", "", "", "老娘舅工作室",
         "", "", "", "", "", ""],
        ["TJ-2026-006", "2026-03-14", "排查", "", "", "宠物", c, g, "狗咬人", "郑十", "", "", "", "老娘舅工作室",
         "", "", "", "", "", ""],
        ["TJ-2026-007", "2026-03-15", "排查", "", "", "邻里", c, g, "占道", "钱一", "", "", "", "老娘舅工作室",
         "王调解", "调解成功", "", "", "", ""],
        ["TJ-2026-008", "2026-03-16", "排查", "", "", "邻里", c, "不存在的网格", "占道", "钱二", "", "", "",
         "老娘舅工作室", "", "", "", "", "", ""],
        ["TJ-2026-009", "2026-13-01", "排查", "", "", "邻里", c, g, "占道", "钱三", "", "", "", "老娘舅工作室",
         "", "", "", "", "", ""],
    ]  # fmt: skip


def upload(data, name="2026年一季度矛盾纠纷台账.xlsx") -> SimpleUploadedFile:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["示范街道矛盾纠纷排查调处台账（2026年第一季度）"])
    ws.append(HEADER)
    for r in data:
        ws.append(r)
    buf = BytesIO()
    wb.save(buf)
    return SimpleUploadedFile(name, buf.getvalue())


@pytest.fixture(autouse=True)
def inline_runs(settings, tmp_path):
    settings.BACKGROUND_RUN_INLINE = True
    settings.DATA_DIR = tmp_path


def run(client, data, capture) -> ImportRun:
    r = client.post(f"/imports/{SPEC.name}/new/", {"file": upload(data)})
    assert r.status_code == 302, r.content.decode()[:500]
    job = ImportRun.objects.get(pk=int(r.url.rstrip("/").rsplit("/", 1)[1]))
    with capture(execute=True):
        assert client.post(f"/imports/runs/{job.pk}/start/").status_code == 302
    job.refresh_from_db()
    return job


def test_the_desk_finds_the_import_and_the_mapping_is_suggested(dw, client):
    client.force_login(dw.dispatcher)
    assert "矛盾纠纷台账" in client.get("/imports/").content.decode()
    assert f"/imports/{SPEC.name}/new/" in client.get("/disputes/").content.decode()
    r = client.post(f"/imports/{SPEC.name}/new/", {"file": upload(rows(dw))})
    job = ImportRun.objects.get(pk=int(r.url.rstrip("/").rsplit("/", 1)[1]))
    assert job.header_row == 2
    assert job.mapping["ledger_no"] == "序号编号" and job.mapping["ended_on"] == "结案日期"
    assert job.mapping["description"] == "纠纷情况" and job.mapping["amount"] == "涉及金额"
    page = client.get(f"/imports/runs/{job.pk}/").content.decode()
    assert "警调衔接须填写移交派出所和警情号" in page
    assert "纠纷类型「宠物」不在纠纷类型表中" in page
    assert "有调解结果时须填写调解终结日期" in page
    assert not Case.objects.filter(procedure="dispute").exists()  # the preview writes nothing
    client.force_login(dw.leader)  # no DISPUTE_MEDIATE: not offered, refused
    assert "矛盾纠纷台账" not in client.get("/imports/").content.decode()
    assert client.get(f"/imports/{SPEC.name}/new/").status_code == 403


def test_import_rows_become_disputes_at_their_dates_and_twice_imports_nothing_twice(
    dw, client, django_capture_on_commit_callbacks
):
    client.force_login(dw.dispatcher)
    job = run(client, rows(dw), django_capture_on_commit_callbacks)
    assert job.status == ImportStatus.PARTIAL
    assert (job.processed, job.created_count, job.failed) == (9, 4, 5)
    reasons = " ".join(job.errors.values_list("reason", flat=True))
    assert "网格「不存在的网格」不存在或不在您的辖区" in reasons and "日期" in reasons
    by_no = {d.ledger_no: d for d in DisputeDetail.objects.select_related("case")}
    assert set(by_no) == {"TJ-2026-001", "TJ-2026-002", "TJ-2026-003", "TJ-2026-004"}
    one = by_no["TJ-2026-001"]
    assert one.case.state == "closed" and one.outcome == "success" and one.fulfilment == "full"
    assert (one.received_on, one.ended_on, one.followup_on) == (
        date(2026, 3, 2),
        date(2026, 3, 9),
        date(2026, 4, 1),
    )
    assert [p.name for p in one.parties.all()] == [
        "张三",
        "李四",
    ] and one.parties.first().phone == "13800001111"
    assert one.sessions.get().mediators == "王调解"
    assert one.case.created_at.date() == date(2026, 3, 2)
    two = by_no["TJ-2026-002"]
    assert two.case.state == "closed" and two.outcome == "failed" and str(two.amount) == "8000.00"
    assert (two.police_station, two.police_ref) == ("示范派出所", "JQ0305")
    assert by_no["TJ-2026-003"].case.state == "terminated"
    assert by_no["TJ-2026-003"].case.grid_id is not None  # 社区 only: one of its grids
    assert by_no["TJ-2026-004"].case.state == "mediating"
    f = metrics.figures(user=dw.dispatcher, start=date(2026, 3, 1), end=date(2026, 3, 31))
    assert (f.total.received, f.total.success, f.total.failed, f.total.terminated) == (4, 1, 1, 1)
    assert f.police_received == 1

    # the same file again: nothing new
    again = run(client, rows(dw), django_capture_on_commit_callbacks)
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 4)
    assert Case.objects.filter(procedure="dispute").count() == 4

    # a corrected row updates that dispute's descriptive fields only
    fixed = rows(dw)[:4]
    fixed[3][12] = "1500"
    third = run(client, fixed, django_capture_on_commit_callbacks)
    assert (third.created_count, third.updated_count, third.unchanged_count) == (0, 1, 3)
    assert str(DisputeDetail.objects.get(ledger_no="TJ-2026-004").amount) == "1500.00"
    assert Case.objects.filter(procedure="dispute").count() == 4
