"""12345 exports as they really arrive: a title row above the header, 办理时限 in words, rows of another 街道,
GBK CSV, old .xls, mixed date formats — through the web pages (upload → mapping → preview → job)."""

from __future__ import annotations

import csv
from datetime import datetime
from io import BytesIO

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from civicgrid.cases.models import Case, CaseState, DeadlineUnit
from civicgrid.core import clock
from civicgrid.intake import hotline
from civicgrid.intake.models import ImportedRecord, ImportJob, ImportRowError, JobStatus, PlacementTask
from tests.factories import ORIGIN_LAT, ORIGIN_LNG, STEP, BuildingFactory, DepartmentFactory, GridFactory

pytestmark = pytest.mark.django_db

SAMPLE = "data/samples/12345_export_with_title_row.xlsx"
TITLE = "杭州市12345政务服务热线工单导出（2026年11月26日）"
HEADER = ["序号", "工单编号", "来电时间", "来电人", "联系电话", "问题分类", "诉求内容", "地址", "所属街道",
          "承办单位", "办理时限"]  # fmt: skip


@pytest.fixture
def street_world(db):
    """One grid of 示范街道 holding the sample's addresses; the departments the sample names."""
    from civicgrid.core import geoindex

    grid = GridFactory(col=0, row=0, name="翠苑网格")
    for i, address in enumerate(["西溪路513号翠苑五区2幢", "文新路88号", "古荡路220号", "桂语路234号", "云溪路593号",
                                 "梧桐路94号", "星河路158号", "学苑路333号"]):  # fmt: skip
        BuildingFactory(
            grid=grid,
            name=f"楼{i}",
            address=address,
            lng=ORIGIN_LNG + STEP / 2,
            lat=ORIGIN_LAT + STEP / 2,
        )
    depts = {n: DepartmentFactory(code=c, name=n) for c, n in
             [("CGZD", "城管中队"), ("ZJB", "住建办"), ("HBS", "环保所"), ("PCS", "派出所")]}  # fmt: skip
    if hasattr(geoindex, "invalidate"):
        geoindex.invalidate()
    return {"grid": grid, **depts}


def upload(client, name: str, content: bytes):
    resp = client.post(
        reverse("intake:upload"), {"source": "hotline_12345", "file": SimpleUploadedFile(name, content)}
    )
    assert resp.status_code == 302, resp.content.decode()[:2000]
    return ImportJob.objects.latest("pk")


def confirm_mapping(client, job):
    """Submit the mapping page as suggested (what a user does after checking it)."""
    page = client.get(reverse("intake:mapping", args=[job.pk])).content.decode()
    assert 'data-testid="mapping-form"' in page
    job.refresh_from_db()
    data = {f"map_{k}": v for k, v in job.mapping.items()}
    resp = client.post(reverse("intake:mapping", args=[job.pk]), data)
    assert resp.status_code == 302 and resp["Location"] == reverse("intake:preview", args=[job.pk])
    return client.get(resp["Location"]).content.decode()


def start(client, job, capture):
    with capture(execute=True):
        resp = client.post(reverse("intake:start", args=[job.pk]))
    assert resp.status_code == 302
    job.refresh_from_db()
    return job


def test_the_shared_sample_export_imports_end_to_end(
    client, street_world, dispatcher, shared_dir, django_capture_on_commit_callbacks
):
    client.force_login(dispatcher)
    job = upload(client, "12345导出.xlsx", (shared_dir / SAMPLE).read_bytes())
    # the title row is skipped: the header is row 2 and every column is there
    assert (
        job.header_row == 2 and job.headers[:3] == ["序号", "工单编号", "来电时间"] and len(job.headers) == 13
    )
    assert job.mapping["source_ref"] == "工单编号" and job.mapping["due_at"] == "办理时限"
    assert job.mapping["street"] == "所属街道" and job.mapping["address"] == "地址"

    preview = confirm_mapping(client, job)
    assert "2 工作日" in preview  # 办理时限 understood, not a failure
    assert "来电时间格式错误：昨天下午" in preview and "所属街道为「朝阳街道」" in preview

    job = start(client, job, django_capture_on_commit_callbacks)
    assert job.status == JobStatus.PARTIAL, job.message
    assert (job.processed, job.created_count, job.updated_count, job.failed, job.placement_count) == (
        11,
        5,
        1,
        5,
        1,
    )
    reasons = dict(ImportRowError.objects.filter(job=job, kind="error").values_list("row_number", "reason"))
    assert reasons[8] == "工单编号为空"
    assert reasons[9].startswith("来电时间格式错误")
    assert reasons[10] == "诉求内容为空"
    assert reasons[12].startswith("问题分类无法识别")
    assert reasons[13].startswith("所属街道为「朝阳街道」，不属于本街道（示范街道）")
    assert not Case.objects.filter(
        source_ref="HZ12345202611260011"
    ).exists()  # never imported, never dispatched

    # mixed date formats: Excel date, text with seconds, slashes, Chinese
    times = {c.source_ref: clock.to_local(c.created_at).replace(tzinfo=None) for c in Case.objects.all()}
    assert times["HZ12345202611260002"] == datetime(2026, 11, 26, 8, 35)
    assert times["HZ12345202611260003"] == datetime(2026, 11, 26, 9, 2)
    assert times["HZ12345202611260004"] == datetime(2026, 11, 26, 9, 40)
    assert times["HZ12345202611260005"] == datetime(2026, 11, 26, 10, 5)
    # 办理时限 "3个工作日" became the 处置 limit of the dispatched case
    road = Case.objects.get(source_ref="HZ12345202611260002")
    assert road.state == CaseState.DISPATCHED and road.department == street_world["住建办"]
    assert (road.limit_amount, road.limit_unit) == (3, DeadlineUnit.WORKING_DAYS)
    # the address nobody could place is registered only: no clock, not dispatched, queued for placement
    unplaced = Case.objects.get(source_ref="HZ12345202611260005")
    assert unplaced.state == CaseState.REPORTED and unplaced.department is None and not unplaced.stage
    assert PlacementTask.objects.get(case=unplaced).department == street_world["环保所"]

    page = client.get(reverse("intake:job", args=[job.pk])).content.decode()
    assert "已完成（有错误行）" in page and "5 行有错误未导入（其余行已导入）" in page
    report = client.get(reverse("intake:error_report", args=[job.pk]))
    lines = list(
        openpyxl.load_workbook(BytesIO(b"".join(report.streaming_content))).active.iter_rows(values_only=True)
    )
    assert [line[0] for line in lines[1:] if line[3] == "错误"] == [8, 9, 10, 12, 13]


def test_placing_an_unplaced_open_row_files_and_dispatches_it_with_its_limit(
    client, street_world, dispatcher, tmp_path, django_capture_on_commit_callbacks
):
    rows = [[TITLE], HEADER,
            [1, "GD1", "2026-11-26 08:35:00", "张", "13905710002", "暴露垃圾", "垃圾满溢", "无名巷口", "示范街道", "城管中队", "24小时"]]  # fmt: skip
    path = tmp_path / "a.csv"
    with open(path, "w", encoding="gbk", newline="") as fh:
        csv.writer(fh).writerows(rows)
    client.force_login(dispatcher)
    job = upload(client, "a.csv", path.read_bytes())
    assert job.encoding == "gb18030" and job.header_row == 2
    confirm_mapping(client, job)
    job = start(client, job, django_capture_on_commit_callbacks)
    assert (job.created_count, job.placement_count, job.warning_count) == (1, 1, 1)
    case = Case.objects.get(source_ref="GD1")
    assert case.state == CaseState.REPORTED and not case.stage
    task = PlacementTask.objects.get(case=case)
    grid = street_world["grid"]
    client.post(
        reverse("intake:place", args=[task.pk]),
        {"lng": grid.min_lng + STEP / 3, "lat": grid.min_lat + STEP / 3},
    )
    case.refresh_from_db()
    assert case.state == CaseState.DISPATCHED and case.department == street_world["城管中队"]
    assert (case.limit_amount, case.limit_unit) == (24, DeadlineUnit.NATURAL_HOURS)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2个工作日", (2, "working_days")),
        ("3个自然日", (3, "natural_days")),
        ("7日内办结", (7, "natural_days")),
        ("1.5天", (36, "natural_hours")),
        ("24小时", (24, "natural_hours")),
        ("5天", (5, "natural_days")),
        ("8个工作小时", (8, "working_hours")),
        ("5个工作日内办结", (5, "working_days")),
        ("１０个工作日", (10, "working_days")),
    ],
)
def test_limit_words_are_understood(text, expected):
    assert hotline.parse_due(text) == expected


def test_an_unknown_limit_is_ignored_with_a_warning_and_the_row_imported(
    client, street_world, dispatcher, tmp_path, django_capture_on_commit_callbacks
):
    rows = [HEADER,
            [1, "GD2", "2026/11/26 09:02", "王", "", "暴露垃圾", "垃圾", "文新路88号", "", "城管中队", "尽快"],
            [2, "GD3", 46352.5, "李", "", "暴露垃圾", "垃圾", "文新路88号", "", "城管中队", "2个工作日"]]  # fmt: skip
    path = tmp_path / "b.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    client.force_login(dispatcher)
    job = upload(client, "b.csv", path.read_bytes())
    assert job.header_row == 1
    preview = confirm_mapping(client, job)
    assert "办理时限无法识别（尽快），已忽略" in preview
    job = start(client, job, django_capture_on_commit_callbacks)
    assert job.status == JobStatus.DONE and (job.created_count, job.failed, job.warning_count) == (2, 0, 1)
    warning = ImportRowError.objects.get(job=job)
    assert (warning.row_number, warning.kind) == (2, "warning") and "尽快" in warning.reason
    default = Case.objects.get(source_ref="GD2")
    assert default.state == CaseState.DISPATCHED  # the category's own limit
    assert (default.limit_amount, default.limit_unit) == default.category.limit_for("handle")
    serial = Case.objects.get(source_ref="GD3")  # a serial date typed into a CSV
    assert clock.to_local(serial.created_at).replace(tzinfo=None) == datetime(2026, 11, 26, 12, 0)


def test_the_user_can_choose_another_header_row(client, street_world, dispatcher, tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["说明", "本表由区平台导出"])  # two cells: looks a bit like a header, but matches nothing
    ws.append(["编号", "时间", "内容", "分类", "位置"])
    ws.append(["A1", "2026-11-26 08:00", "垃圾", "暴露垃圾", "文新路88号"])
    path = tmp_path / "odd.xlsx"
    wb.save(path)
    client.force_login(dispatcher)
    job = upload(client, "odd.xlsx", path.read_bytes())
    page = client.get(reverse("intake:mapping", args=[job.pk])).content.decode()
    assert 'data-testid="header-row-picker"' in page and "第 1 行：说明｜本表由区平台导出" in page
    resp = client.post(reverse("intake:header_row", args=[job.pk]), {"header_row": "1"})
    assert resp.status_code == 302
    job.refresh_from_db()
    assert job.header_row == 1 and job.headers == ["说明", "本表由区平台导出"]
    client.post(reverse("intake:header_row", args=[job.pk]), {"header_row": "2"})
    job.refresh_from_db()
    assert job.header_row == 2 and job.headers == ["编号", "时间", "内容", "分类", "位置"]
    assert client.post(reverse("intake:header_row", args=[job.pk]), {"header_row": "x"}).status_code == 302


def test_an_old_xls_export_imports(
    client, street_world, dispatcher, tmp_path, django_capture_on_commit_callbacks
):
    xlwt = pytest.importorskip("xlwt")
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("工单")
    sheet.write(0, 0, TITLE)
    for c, h in enumerate(HEADER):
        sheet.write(1, c, h)
    date_style = xlwt.easyxf(num_format_str="yyyy-mm-dd hh:mm:ss")
    values = [1, "X1", datetime(2026, 11, 26, 8, 12), "李", "13905710001", "暴露垃圾", "垃圾满溢",
              "西溪路513号翠苑五区2幢", "示范街道", "城管中队", "2个工作日"]  # fmt: skip
    for c, v in enumerate(values):
        sheet.write(2, c, v, date_style) if isinstance(v, datetime) else sheet.write(2, c, v)
    path = tmp_path / "old.xls"
    book.save(str(path))
    client.force_login(dispatcher)
    job = upload(client, "old.xls", path.read_bytes())
    assert job.file_format == "xls" and job.header_row == 2
    confirm_mapping(client, job)
    job = start(client, job, django_capture_on_commit_callbacks)
    assert job.status == JobStatus.DONE and job.created_count == 1, job.message
    case = Case.objects.get(source_ref="X1")
    assert clock.to_local(case.created_at).replace(tzinfo=None) == datetime(2026, 11, 26, 8, 12)
    assert ImportedRecord.objects.filter(source_ref="X1").count() == 1


def test_other_categories_and_day_limits_import_as_the_catch_all_with_natural_days(
    client, street_world, dispatcher, tmp_path, django_capture_on_commit_callbacks
):
    """问题分类 其他问题 / 其他 / 城市管理-其他 land in 其他事项 (J99001) instead of being refused; "3个自然日" and
    "5天" become real 自然日 limits counted by the legal rule (start day not counted, rest days at the end)."""
    rows = [HEADER,
            [1, "QT1", "2026-11-26 08:35", "张", "", "其他问题", "楼道灯坏了很久", "文新路88号", "", "城管中队", "3个自然日"],
            [2, "QT2", "2026-11-26 08:40", "王", "", "其他", "咨询事项", "文新路88号", "", "城管中队", "5天"],
            [3, "QT3", "2026-11-26 08:45", "李", "", "城市管理-其它", "其他诉求", "文新路88号", "", "城管中队", ""]]  # fmt: skip
    path = tmp_path / "other.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    client.force_login(dispatcher)
    job = upload(client, "other.csv", path.read_bytes())
    confirm_mapping(client, job)
    with clock.frozen(clock.aware(datetime(2026, 11, 26, 9, 0))):  # Thursday
        job = start(client, job, django_capture_on_commit_callbacks)
    assert job.status == JobStatus.DONE and (job.created_count, job.failed) == (3, 0)
    assert not ImportRowError.objects.filter(job=job, kind="error").exists()
    cases = {c.source_ref: c for c in Case.objects.select_related("category")}
    assert {c.category.code for c in cases.values()} == {"J99001"}
    assert all(c.state == CaseState.DISPATCHED for c in cases.values())
    three = cases["QT1"]
    assert (three.limit_amount, three.limit_unit) == (3, DeadlineUnit.NATURAL_DAYS)
    # Thu 11-26 + 3 → Sun 11-29, a weekend → Mon 11-30 24:00
    assert clock.to_local(three.due_at).replace(tzinfo=None) == datetime(2026, 12, 1, 0, 0)
    five = cases["QT2"]
    assert (five.limit_amount, five.limit_unit) == (5, DeadlineUnit.NATURAL_DAYS)
    assert clock.to_local(five.due_at).replace(tzinfo=None) == datetime(2026, 12, 2, 0, 0)  # Tue 12-01 24:00
    page = client.get(reverse("cases:detail", args=[three.pk])).content.decode()
    assert "自然日" in page and "11月30日 24:00" in page
