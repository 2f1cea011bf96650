"""The generic engine (readers, encodings, mapping suggestion) and the screens through the Django test client."""

from __future__ import annotations

from datetime import datetime
from io import BytesIO

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from civicgrid.accounts.roles import Role
from civicgrid.cases.models import Case, CaseEvent
from civicgrid.core import clock
from civicgrid.intake import hotline, importing
from civicgrid.intake.models import ImportJob, ImportMapping, JobStatus, PlacementTask
from tests.intake.conftest import HEADERS, row, write_csv, write_xlsx

# --- engine ---------------------------------------------------------------------------------------


def test_suggest_mapping_from_standard_and_variant_headers():
    assert importing.suggest_mapping(HEADERS, hotline.FIELDS) == {
        f.name: f.label for f in hotline.FIELDS if f.label in HEADERS
    }
    variant = ["序号", "工单号", "来电日期", "来电人姓名", "联系方式", "问题描述", "诉求分类", "事发地点", "承办部门",
               "办结时限", "办结日期", "处理结果", "满意度"]  # fmt: skip
    got = importing.suggest_mapping(variant, hotline.FIELDS)
    assert got == {
        "source_ref": "工单号",
        "reported_at": "来电日期",
        "reporter_name": "来电人姓名",
        "reporter_phone": "联系方式",
        "description": "问题描述",
        "category": "诉求分类",
        "address": "事发地点",
        "department": "承办部门",
        "due_at": "办结时限",
        "closed_at": "办结日期",
        "result": "处理结果",
        "rating": "满意度",
    }
    assert importing.suggest_mapping(["甲", "乙"], hotline.FIELDS) == {}


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gbk", "gb18030"), ("gb18030", "gb18030")],
)
def test_encoding_detection_and_reading(tmp_path, encoding, expected):
    path = write_csv(tmp_path / "e.csv", [row("GD1", 诉求内容="噪声扰民，夜间施工")], encoding=encoding)
    assert importing.detect_encoding(path) == expected
    reader = importing.open_table(path)
    try:
        assert reader.headers == HEADERS
        rows = list(reader.rows())
    finally:
        reader.close()
    assert rows[0][0] == 2 and rows[0][1][4] == "噪声扰民，夜间施工"


def test_gbk_detected_even_after_a_long_ascii_prefix(tmp_path):
    path = tmp_path / "late.csv"
    with open(path, "w", encoding="gbk", newline="") as fh:
        fh.write("a,b\n" + "1,2\n" * 300_000 + "3,中文\n")
    assert importing.detect_encoding(path) == "gb18030"


def test_fast_xlsx_reader_matches_openpyxl(tmp_path):
    path = write_xlsx(tmp_path / "t.xlsx", [row("GD1"), row("GD2", 联系电话="")])
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    ws["M1"], ws["M2"], ws["M3"] = "数量", 3, 2.5
    ws.append([])  # a blank row is skipped
    wb.save(path)
    fast, slow = importing.XlsxReader(path), importing.OpenpyxlReader(path)
    try:
        assert fast.headers == slow.headers == [*HEADERS, "数量"]
        fast_rows = [(n, tuple(v for v in vals)) for n, vals in fast.rows()]
        slow_rows = [(n, tuple(v for v in vals)) for n, vals in slow.rows()]
        assert fast.count_rows() == 2
    finally:
        fast.close()
        slow.close()
    assert len(fast_rows) == len(slow_rows) == 2
    for (fn, fv), (sn, sv) in zip(fast_rows, slow_rows, strict=True):
        assert fn == sn
        assert [v for v in fv] + [None] * (len(sv) - len(fv)) == list(sv)
    assert fast_rows[0][1][1] == datetime(2024, 3, 1, 9, 15) and fast_rows[0][1][12] == 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-01 09:15:00", datetime(2024, 3, 1, 9, 15)),
        ("2024/3/1 9:15", datetime(2024, 3, 1, 9, 15)),
        ("2024年3月1日 09时15分", datetime(2024, 3, 1, 9, 15)),
        ("20240301091500", datetime(2024, 3, 1, 9, 15)),
        (45352.385416666664, datetime(2024, 3, 1, 9, 15)),
    ],
)
def test_parse_datetime_variants(text, expected):
    got = importing.parse_datetime(text, label="来电时间")
    assert got.replace(tzinfo=None).replace(microsecond=0, second=0) == expected
    assert str(got.tzinfo) == "Asia/Shanghai"


def test_cell_parsers_reject_with_chinese_reasons():
    with pytest.raises(importing.CellError, match="来电时间格式错误"):
        importing.parse_datetime("昨天下午", label="来电时间")
    with pytest.raises(importing.CellError, match="联系电话格式错误"):
        hotline.parse_phone("1380013")
    assert hotline.parse_phone("138 0013 8000") == "13800138000"
    assert hotline.parse_phone("138****8000") == "138****8000"
    assert hotline.parse_rating("非常满意") == "satisfied" and hotline.parse_rating("未回访") == ""
    with pytest.raises(importing.CellError, match="回访满意度无法识别"):
        hotline.parse_rating("还行吧")


@pytest.mark.django_db
def test_category_resolution_exact_synonym_path_fuzzy():
    r = hotline.CategoryResolver()
    by_name = r.resolve("暴露垃圾")
    assert by_name is not None and r.names[by_name] == "暴露垃圾"
    assert r.names[r.resolve("垃圾桶满溢")] == "垃圾站（箱）满溢"  # synonym
    assert r.names[r.resolve("城市管理-市容环境-暴露垃圾")] == "暴露垃圾"  # path, last segment
    assert r.names[r.resolve("油烟污染问题")] == "油烟污染"  # fuzzy
    assert r.resolve("外星人入侵") is None


# --- screens --------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "role", [Role.GRID_WORKER, Role.DEPT_HANDLER, Role.COMMUNITY_STAFF, Role.LEADER, Role.AUDIT_ADMIN]
)
def test_other_roles_may_not_import(client, make_user, role):
    client.force_login(make_user(role))
    for name in ("intake:upload", "intake:jobs", "intake:placements"):
        assert client.get(reverse(name)).status_code == 403
    job = ImportJob.objects.create(original_name="x.csv", file_path="imports/x.csv", file_format="csv")
    assert client.get(reverse("intake:job", args=[job.pk])).status_code == 403
    assert client.post(reverse("intake:start", args=[job.pk])).status_code == 403


@pytest.mark.django_db
def test_anonymous_is_sent_to_login_and_unknown_job_is_404(client, make_user):
    resp = client.get(reverse("intake:upload"))
    assert resp.status_code == 302 and "/accounts/login/" in resp["Location"]
    client.force_login(make_user(Role.SHIFT_LEADER))
    assert client.get(reverse("intake:job", args=[999999])).status_code == 404
    assert client.get(reverse("intake:upload")).status_code == 200


@pytest.mark.django_db
def test_upload_mapping_preview_start_progress_result(
    client, world, dispatcher, tmp_path, django_capture_on_commit_callbacks
):
    client.force_login(dispatcher)
    rows = [row("GD901"), row("GD902", 问题分类="外星人入侵"), row("GD903", 事发地址="无名小巷")]
    path = write_xlsx(tmp_path / "12345导出.xlsx", rows)

    resp = client.post(
        reverse("intake:upload"),
        {"source": "hotline_12345", "file": SimpleUploadedFile(path.name, path.read_bytes())},
    )
    job = ImportJob.objects.get()
    assert resp.status_code == 302 and resp["Location"] == reverse("intake:mapping", args=[job.pk])
    assert (
        job.status == JobStatus.DRAFT
        and job.file_format == "xlsx"
        and job.mapping["source_ref"] == "工单编号"
    )

    page = client.get(resp["Location"]).content.decode()
    assert "字段对应" in page and 'value="工单编号" selected' in page

    data = {f"map_{f.name}": f.label for f in hotline.FIELDS if f.label in HEADERS}
    data["save_as"] = "区平台标准导出"
    resp = client.post(reverse("intake:mapping", args=[job.pk]), data)
    assert resp.status_code == 302 and resp["Location"] == reverse("intake:preview", args=[job.pk])
    assert ImportMapping.objects.get(name="区平台标准导出").mapping["address"] == "事发地址"

    page = client.get(resp["Location"]).content.decode()
    assert "问题分类无法识别：外星人入侵" in page
    assert "第一网格" in page and "未匹配，导入后待人工定位" in page
    assert 'data-testid="preview-ok">2<' in page and 'data-testid="preview-bad">1<' in page
    assert not Case.objects.exists()  # the preview writes nothing

    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post(reverse("intake:start", args=[job.pk]))
    assert resp.status_code == 302 and resp["Location"] == reverse("intake:job", args=[job.pk])
    job.refresh_from_db()
    assert job.status == JobStatus.PARTIAL and (job.created_count, job.failed, job.placement_count) == (
        2,
        1,
        1,
    )

    partial = client.get(reverse("intake:job_progress", args=[job.pk])).content.decode()
    assert 'data-status="partial"' in partial and "hx-get" not in partial and "100%" in partial
    assert "已完成（有错误行）" in partial and "1 行有错误未导入（其余行已导入）" in partial
    page = client.get(reverse("intake:job", args=[job.pk])).content.decode()
    assert "问题分类无法识别：外星人入侵" in page and reverse("intake:error_report", args=[job.pk]) in page

    report = client.get(reverse("intake:error_report", args=[job.pk]))
    assert report.status_code == 200 and "attachment" in report["Content-Disposition"]
    lines = list(
        openpyxl.load_workbook(BytesIO(b"".join(report.streaming_content))).active.iter_rows(values_only=True)
    )
    assert lines == [
        ("行号", "工单编号", "错误原因", "类型"),
        (3, "GD902", "问题分类无法识别：外星人入侵", "错误"),
    ]

    # starting twice is refused; the mapping screen of a started job redirects to the job
    assert client.post(reverse("intake:start", args=[job.pk])).status_code == 302
    assert client.get(reverse("intake:mapping", args=[job.pk]))["Location"] == reverse(
        "intake:job", args=[job.pk]
    )


@pytest.mark.django_db
def test_running_job_progress_polls(client, dispatcher):
    client.force_login(dispatcher)
    job = ImportJob.objects.create(
        original_name="x.csv",
        file_path="imports/x.csv",
        file_format="csv",
        status=JobStatus.RUNNING,
        total=200,
        processed=50,
        created_by=dispatcher,
        heartbeat_at=clock.now(),
    )
    partial = client.get(reverse("intake:job_progress", args=[job.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in partial and "25%" in partial


@pytest.mark.django_db
def test_saved_mapping_picker_applies_a_mapping(client, dispatcher, tmp_path):
    client.force_login(dispatcher)
    headers = ["单号", "时间", "内容", "类别", "位置"]
    path = write_csv(
        tmp_path / "odd.csv",
        [{"单号": "A1", "时间": "2024-01-01 08:00", "内容": "x", "类别": "暴露垃圾", "位置": "示范路1号"}],
        headers=headers,
    )
    client.post(
        reverse("intake:upload"),
        {"source": "hotline_12345", "file": SimpleUploadedFile("odd.csv", path.read_bytes())},
    )
    job = ImportJob.objects.get()
    saved = ImportMapping.objects.create(
        name="另一平台", source="hotline_12345",
        mapping={"source_ref": "单号", "reported_at": "时间", "description": "内容", "category": "类别", "address": "位置"},
    )  # fmt: skip
    page = client.get(reverse("intake:mapping", args=[job.pk]), {"use": saved.pk}).content.decode()
    assert (
        "已套用「另一平台」" in page and 'value="单号" selected' in page and 'value="位置" selected' in page
    )


@pytest.mark.django_db
def test_placement_screen_places_the_case_on_the_map(client, world, dispatcher, tmp_path):
    from tests.intake.test_hotline_import import run_file

    run_file(dispatcher, write_csv(tmp_path / "p.csv", [row("GD950", 事发地址="无名小巷")]))
    task = PlacementTask.objects.get()
    client.force_login(dispatcher)
    page = client.get(reverse("intake:placements")).content.decode()
    assert "无名小巷" in page and reverse("intake:place", args=[task.pk]) in page

    g2 = world["g2"]
    lng, lat = (g2.min_lng + g2.max_lng) / 2, (g2.min_lat + g2.max_lat) / 2
    outside = client.post(reverse("intake:place", args=[task.pk]), {"lng": 100.0, "lat": 20.0})
    assert outside.status_code == 302
    task.refresh_from_db()
    assert task.status == "open"

    client.post(reverse("intake:place", args=[task.pk]), {"lng": lng, "lat": lat})
    task.refresh_from_db()
    case = Case.objects.get(source_ref="GD950")
    assert task.status == "placed" and task.placed_by == dispatcher
    assert case.grid == g2 and case.community_id == g2.community_id and (case.lng, case.lat) == (lng, lat)
    assert CaseEvent.objects.filter(case=case, move="locate").count() == 1
    assert client.post(reverse("intake:place", args=[task.pk]), {"lng": lng, "lat": lat}).status_code == 302
    assert CaseEvent.objects.filter(case=case, move="locate").count() == 1  # a second click is refused


@pytest.mark.django_db
def test_address_index_answers_what_locate_by_address_answers(world):
    from civicgrid.places.selectors import locate_by_address
    from tests.factories import BuildingFactory, UnitFactory

    BuildingFactory(grid=world["g2"], name="幸福家园", address="幸福路18号", aliases="幸福家园小区|幸福苑")
    BuildingFactory(grid=world["g1"], name="幸福路18号3幢", address="幸福路18号3幢")
    UnitFactory(grid=world["g1"], name="老王面馆", address="示范路2号底商")
    resolver = hotline.AddressResolver()
    UnitFactory(grid=world["g2"], name="新开张的茶馆", address="幸福路20号")  # after the resolver started
    queries = ["示范路1号", "杭州市西湖区示范路1号", "示范路 2 号", "示范路3号", "幸福路18号", "幸福路18号3幢",
               "幸福苑", "幸福家园小区东门", "老王面馆", "示范路2号底商门口", "完全无关的地方", "幸福路19号", "路",
               "新开张的茶馆", "幸福路20号"]  # fmt: skip
    for q in queries:
        grid, building, _ = locate_by_address(text=q)
        got = resolver.resolve(q)
        assert (got[0] if got else None) == (grid.pk if grid else None), q
        if got and building is not None:
            assert got[4].endswith(building.name), q
