"""The 12345 import end to end through the services and the background runner (run synchronously)."""

from __future__ import annotations

from datetime import datetime

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError

from civicgrid.cases.models import Case, CaseDepartment, CaseEvent, CaseState, Rating
from civicgrid.core import clock
from civicgrid.intake import services, tasks
from civicgrid.intake.importing import SetBasedInserter
from civicgrid.intake.models import ImportedRecord, ImportJob, ImportRowError, JobStatus, PlacementTask
from tests.intake.conftest import row, write_csv, write_xlsx

pytestmark = pytest.mark.django_db


def run_file(user, path) -> ImportJob:
    upload = SimpleUploadedFile(path.name, path.read_bytes())
    job = services.create_job(actor=user, upload=upload)
    services.start_job(actor=user, job=job)
    assert tasks.run_pending() == 1
    job.refresh_from_db()
    assert job.status == (JobStatus.PARTIAL if job.failed else JobStatus.DONE), job.message
    return job


def write(fmt, path_base, rows):
    if fmt == "xlsx":
        return write_xlsx(path_base.with_suffix(".xlsx"), rows)
    if fmt == "gbk":
        return write_csv(path_base.with_suffix(".csv"), rows, encoding="gbk")
    if fmt == "utf-8-sig":
        return write_csv(path_base.with_suffix(".csv"), rows, encoding="utf-8-sig")
    return write_csv(path_base.with_suffix(".csv"), rows)


FORMATS = ["csv", "utf-8-sig", "gbk", "xlsx"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_good_file_creates_closed_cases_in_their_final_state(fmt, world, dispatcher, tmp_path):
    rows = [
        row("GD001"),
        row("GD002", 事发地址="示范路2号", 承办单位="环保所", 回访满意度="基本满意", 问题分类="油烟污染问题"),
        row("GD003", 回访满意度="", 联系电话="0571-87654321"),
    ]
    job = run_file(dispatcher, write(fmt, tmp_path / "good", rows))
    assert (job.total, job.processed, job.created_count, job.failed) == (3, 3, 3, 0)
    assert job.encoding == {"csv": "utf-8", "utf-8-sig": "utf-8-sig", "gbk": "gb18030", "xlsx": ""}[fmt]

    c1 = Case.objects.get(source="hotline_12345", source_ref="GD001")
    assert c1.state == CaseState.RATED and c1.rating == Rating.SATISFIED
    assert c1.grid == world["g1"] and c1.community_id == world["g1"].community_id
    assert (c1.lng, c1.lat) == (world["b1"].lng, world["b1"].lat)
    assert c1.department == world["cg"] and c1.category.name == "暴露垃圾"
    assert clock.to_local(c1.created_at).replace(tzinfo=None) == datetime(2024, 3, 1, 9, 15)
    assert clock.to_local(c1.closed_at).replace(tzinfo=None) == datetime(2024, 3, 3, 11, 0)
    assert clock.to_local(c1.due_at).replace(tzinfo=None) == datetime(2024, 3, 5, 17, 30)
    assert c1.handling_feedback == "已清运" and c1.reporter_phone == "13800138000" and not c1.is_overdue
    assert c1.number.startswith("C20240301") and len(c1.number) == 14
    assert CaseDepartment.objects.filter(case=c1, department=world["cg"]).exists()
    event = CaseEvent.objects.get(case=c1)
    assert (event.seq, event.move, event.to_state, event.actor) == (1, "import", "rated", dispatcher)

    c2 = Case.objects.get(source_ref="GD002")
    assert c2.grid == world["g2"] and c2.department == world["hb"] and c2.rating == Rating.BASIC
    assert c2.category.name == "油烟污染"  # fuzzy
    c3 = Case.objects.get(source_ref="GD003")
    assert c3.state == CaseState.CLOSED and c3.rating == "" and c3.reporter_phone == "057187654321"
    assert len({c.number for c in Case.objects.all()}) == 3
    assert ImportedRecord.objects.count() == 3


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_reimport_updates_and_never_duplicates(fmt, world, dispatcher, tmp_path):
    rows = [row("GD101"), row("GD102"), row("GD103")]
    first = run_file(dispatcher, write(fmt, tmp_path / "a", rows))
    assert first.created_count == 3
    again = run_file(dispatcher, write(fmt, tmp_path / "b", rows))
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 3)
    assert Case.objects.count() == 3

    rows[1] = row("GD102", 办理结果="复查后已彻底清理", 回访满意度="不满意")
    changed = run_file(dispatcher, write(fmt, tmp_path / "c", rows))
    assert (changed.created_count, changed.updated_count, changed.unchanged_count) == (0, 1, 2)
    assert Case.objects.count() == 3
    c = Case.objects.get(source_ref="GD102")
    assert c.handling_feedback == "复查后已彻底清理" and c.rating == Rating.DISSATISFIED and c.version == 2
    assert list(c.events.values_list("seq", "move")) == [(1, "import"), (2, "import_update")]


def test_overlapping_file_updates_the_overlap_and_creates_the_rest(world, dispatcher, tmp_path):
    run_file(dispatcher, write_csv(tmp_path / "a.csv", [row(f"GD2{i:02d}") for i in range(1, 4)]))
    b = [row("GD202"), row("GD203", 诉求内容="补充：垃圾已蔓延到路面"), row("GD204"), row("GD205")]
    job = run_file(dispatcher, write_xlsx(tmp_path / "b.xlsx", b))
    assert (job.created_count, job.updated_count, job.unchanged_count) == (2, 1, 1)
    assert Case.objects.filter(source="hotline_12345").count() == 5
    assert Case.objects.get(source_ref="GD203").description == "补充：垃圾已蔓延到路面"


def test_duplicate_rows_in_one_file_make_one_case(world, dispatcher, tmp_path):
    rows = [row("GD301"), row("GD302"), row("GD301", 办理结果="第二条为准")]
    job = run_file(dispatcher, write_csv(tmp_path / "dup.csv", rows))
    assert job.failed == 0 and job.created_count == 2 and job.succeeded == 3
    assert Case.objects.filter(source_ref="GD301").count() == 1
    assert Case.objects.get(source_ref="GD301").handling_feedback == "第二条为准"


def test_manual_case_with_the_same_ref_is_adopted_not_duplicated(world, dispatcher, tmp_path):
    from civicgrid.cases import services as case_services
    from civicgrid.cases.models import Category

    manual = case_services.create_case(
        actor=dispatcher,
        source="hotline_12345",
        description="电话登记",
        category=Category.objects.get(name="暴露垃圾", level="minor"),
        address="示范路1号",
        source_ref="GD350",
    )
    job = run_file(dispatcher, write_csv(tmp_path / "m.csv", [row("GD350", 诉求内容="12345 原文")]))
    assert (job.created_count, job.updated_count) == (0, 1)
    manual.refresh_from_db()
    assert Case.objects.filter(source_ref="GD350").count() == 1
    # a case the engine runs keeps its state; only the descriptive fields come from the file
    assert manual.state == CaseState.REPORTED and manual.description == "12345 原文"
    assert "请人工核对" in manual.events.order_by("-seq").first().note


@pytest.mark.parametrize("fmt", ["csv", "gbk", "xlsx"])
def test_bad_rows_go_to_the_error_report_and_the_rest_import(fmt, world, dispatcher, tmp_path):
    rows = [
        row("GD401"),
        row("GD402", 来电时间="2024-13-45 99:00"),
        row("GD403", 问题分类="外星人入侵"),
        row("GD404", 事发地址=""),
        row("GD405", 联系电话="138-0013-800"),
        row("", 诉求内容="没有编号的工单"),
        row("GD407", 办结时间="2024-02-01 10:00:00"),
        row("GD408", 承办单位="不存在的部门甲乙丙"),
        row("GD409"),
    ]
    job = run_file(dispatcher, write(fmt, tmp_path / "bad", rows))
    assert (job.processed, job.created_count, job.failed) == (9, 2, 7)
    assert set(Case.objects.values_list("source_ref", flat=True)) == {"GD401", "GD409"}
    reasons = dict(ImportRowError.objects.filter(job=job).values_list("row_number", "reason"))
    assert reasons[3].startswith("来电时间格式错误")
    assert reasons[4] == "问题分类无法识别：外星人入侵"
    assert reasons[5] == "事发地址为空"
    assert reasons[6].startswith("联系电话格式错误")
    assert reasons[7] == "工单编号为空"
    assert reasons[8] == "办结时间早于来电时间"
    assert reasons[9].startswith("承办单位无法识别")

    # the downloadable report: 行号, 工单编号, 错误原因 — one line per rejected row
    report = services.job_file(job).parent.parent / "reports" / f"job{job.pk}_errors.xlsx"
    assert job.error_report_path and report.is_file()
    wb = openpyxl.load_workbook(report, read_only=True)
    lines = list(wb.worksheets[0].iter_rows(values_only=True))
    assert lines[0] == ("行号", "工单编号", "错误原因", "类型")
    assert [(n, ref) for n, ref, _, _ in lines[1:]] == [
        (3, "GD402"),
        (4, "GD403"),
        (5, "GD404"),
        (6, "GD405"),
        (7, None),
        (8, "GD407"),
        (9, "GD408"),
    ]
    assert lines[2][2] == "问题分类无法识别：外星人入侵"


def test_a_row_failing_in_the_database_leaves_nothing_half_written(world, dispatcher, tmp_path, monkeypatch):
    """The batch fails on one row's timeline insert: every row is retried alone; that row leaves no trace."""
    real = SetBasedInserter.insert

    def failing(self, rows):
        if self.model is CaseEvent and any(r["data"].get("source_ref") == "GD502" for r in rows):
            raise IntegrityError("simulated constraint failure")
        return real(self, rows)

    monkeypatch.setattr(SetBasedInserter, "insert", failing)
    rows = [row("GD501"), row("GD502"), row("GD503", 事发地址="示范路99号")]
    job = run_file(dispatcher, write_csv(tmp_path / "f.csv", rows))
    assert (job.created_count, job.failed, job.placement_count) == (2, 1, 1)
    assert not Case.objects.filter(source_ref="GD502").exists()
    assert not ImportedRecord.objects.filter(source_ref="GD502").exists()
    assert Case.objects.filter(source_ref__in=["GD501", "GD503"]).count() == 2
    assert CaseEvent.objects.filter(case__source_ref__in=["GD501", "GD503"]).count() == 2
    assert PlacementTask.objects.filter(case__source_ref="GD503").count() == 1
    err = ImportRowError.objects.get(job=job)
    assert (err.row_number, err.source_ref) == (3, "GD502") and err.reason.startswith("写入数据库失败")


def test_unmatched_address_is_imported_and_queued_for_placement(world, dispatcher, tmp_path):
    job = run_file(dispatcher, write_csv(tmp_path / "p.csv", [row("GD601", 事发地址="幸福大道888号城中村")]))
    assert (job.created_count, job.placement_count) == (1, 1)
    case = Case.objects.get(source_ref="GD601")
    assert case.grid is None and case.state == CaseState.RATED
    task = PlacementTask.objects.get(case=case)
    assert task.status == "open" and task.address == "幸福大道888号城中村" and task.job == job
    # re-importing does not queue it twice
    run_file(
        dispatcher,
        write_csv(tmp_path / "p2.csv", [row("GD601", 事发地址="幸福大道888号城中村", 办理结果="改")]),
    )
    assert PlacementTask.objects.filter(case=case).count() == 1


def test_open_row_goes_through_the_case_engine(world, dispatcher, tmp_path):
    job = run_file(
        dispatcher, write_csv(tmp_path / "o.csv", [row("GD701", 办结时间="", 回访满意度="", 办理结果="")])
    )
    assert job.created_count == 1, list(ImportRowError.objects.values_list("reason", flat=True))
    case = Case.objects.get(source_ref="GD701")
    assert case.state == CaseState.DISPATCHED and case.department == world["cg"]
    assert case.number.startswith("C20240301") and case.created_by == dispatcher
    assert clock.to_local(case.created_at).replace(tzinfo=None) == datetime(2024, 3, 1, 9, 15)
    assert list(case.events.values_list("move", flat=True)) == ["create", "accept", "dispatch"]
    assert ImportedRecord.objects.get(source_ref="GD701").case == case


def test_open_rows_refused_by_the_engine_are_reported(world, make_user, tmp_path):
    admin = make_user(
        "system_admin"
    )  # may import, but the case engine does not let a 系统管理员 report cases
    job = run_file(
        admin, write_csv(tmp_path / "o.csv", [row("GD702", 办结时间="", 回访满意度=""), row("GD703")])
    )
    assert (job.created_count, job.failed) == (1, 1)
    assert ImportRowError.objects.get(job=job).reason.startswith("案件引擎拒绝创建")
    assert not Case.objects.filter(source_ref="GD702").exists()


def test_wrong_or_missing_mapping_is_refused_before_the_run(world, dispatcher, tmp_path):
    from civicgrid.core.errors import ValidationFailed

    path = write_csv(tmp_path / "x.csv", [row("GD801")], headers=["编号", "内容"])
    job = services.create_job(actor=dispatcher, upload=SimpleUploadedFile("x.csv", path.read_bytes()))
    with pytest.raises(ValidationFailed, match="必填字段"):
        services.start_job(actor=dispatcher, job=job)
    mapping = {"source_ref": "不存在的列", "reported_at": "编号", "description": "内容"}
    mapping |= {"category": "内容", "address": "内容"}
    with pytest.raises(ValidationFailed, match="找不到以下列：工单编号→不存在的列"):
        services.set_mapping(actor=dispatcher, job=job, mapping=mapping)


def test_damaged_xls_and_garbage_are_refused(dispatcher, tmp_path):
    from civicgrid.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed, match=r"无法读取旧版 Excel \(\.xls\)"):
        services.create_job(
            actor=dispatcher,
            upload=SimpleUploadedFile("a.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100),
        )
    with pytest.raises(ValidationFailed, match="xlsx、.xls 或 .csv"):
        services.create_job(actor=dispatcher, upload=SimpleUploadedFile("a.pdf", b"%PDF-1.4"))


def test_numbers_share_the_engines_daily_counter(world, dispatcher, tmp_path):
    from civicgrid.cases.services import allocate_number

    rows = [row("GD851"), row("GD852"), row("GD853", 来电时间="2024-03-02 08:00:00")]
    run_file(dispatcher, write_csv(tmp_path / "n.csv", rows))
    numbers = dict(Case.objects.values_list("source_ref", "number"))
    assert numbers == {"GD851": "C2024030100001", "GD852": "C2024030100002", "GD853": "C2024030200001"}
    with clock.frozen(datetime(2024, 3, 1, 12, 0)):
        assert allocate_number() == "C2024030100003"


def test_sqlite_and_postgres_store_the_same_instants(world, dispatcher, tmp_path):
    """The set-based insert adapts datetimes per backend; filtering by time in SQL must agree with Python."""
    run_file(
        dispatcher,
        write_csv(tmp_path / "t.csv", [row("GD861"), row("GD862", 来电时间="2024-03-01 23:30:00")]),
    )
    late = clock.aware(datetime(2024, 3, 1, 23, 0))
    assert list(Case.objects.filter(created_at__gte=late).values_list("source_ref", flat=True)) == ["GD862"]
    assert Case.objects.filter(closed_at__date="2024-03-03").count() == 2


def test_statistics_refresh_during_a_long_import_is_harmless(world, dispatcher, tmp_path, monkeypatch):
    from civicgrid.intake import hotline

    monkeypatch.setattr(hotline, "ANALYZE_EVERY", 1)  # ANALYZE (PostgreSQL) inside the batch transaction
    job = run_file(dispatcher, write_csv(tmp_path / "a.csv", [row("GD871"), row("GD872")]))
    assert job.created_count == 2
