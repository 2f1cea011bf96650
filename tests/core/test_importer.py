"""core.importer used by a second client: the 工作日历调整 spec (a State Council holiday notice typed into Excel).

The story: a 系统管理员 uploads the notice as a spreadsheet (a title row above the header, header names that are
synonyms of the fields), checks the suggested mapping and the preview, runs the import in the background, gets
a row-level error report naming row and field, and re-uploads the same file without changing anything.
"""

from __future__ import annotations

from datetime import date, datetime
from io import BytesIO

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from civicgrid.core import importer, workcalendar
from civicgrid.core.errors import PermissionDenied, ValidationFailed
from civicgrid.core.models import AuditLog, CalendarOverride, ImportLedger, ImportStatus
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SPEC = "core.calendar_overrides"
HEADER = ["调整日期", "安排", "节日", "备注"]
NOTICE = [
    ["2026-10-01", "放假", "国庆节", ""],
    [datetime(2026, 10, 2), "放假", "国庆节", "Excel 日期单元格"],
    ["2026-13-01", "放假", "国庆节", "月份写错"],
    ["2026年10月10日", "调休上班", "国庆节调休", ""],
    ["2026-10-11", "加班", "国庆节", "不认识的安排"],
    ["", "放假", "国庆节", "日期空着"],
]


def xlsx_upload(rows, *, name="2026年国庆放假安排.xlsx", title=True) -> SimpleUploadedFile:
    wb = openpyxl.Workbook()
    ws = wb.active
    if title:
        ws.append(["国务院办公厅关于2026年部分节假日安排的通知"])
    ws.append(HEADER)
    for r in rows:
        ws.append(r)
    buf = BytesIO()
    wb.save(buf)
    return SimpleUploadedFile(name, buf.getvalue())


@pytest.fixture(autouse=True)
def inline_runs(settings):
    settings.BACKGROUND_RUN_INLINE = True


@pytest.fixture
def admin_user(db):
    return UserFactory(role="system_admin")


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Start a run and let its commit launch it (inline in tests)."""

    def start(actor, job):
        with django_capture_on_commit_callbacks(execute=True):
            importer.start_run(actor=actor, job=job)
        job.refresh_from_db()
        return job

    return start


@pytest.fixture
def upload_and_run(run):
    def go(actor, rows):
        return run(actor, importer.create_run(actor=actor, spec=SPEC, upload=xlsx_upload(rows)))

    return go


def test_upload_finds_the_header_under_the_title_and_maps_the_synonyms(admin_user):
    job = importer.create_run(actor=admin_user, spec=SPEC, upload=xlsx_upload(NOTICE))
    assert job.status == ImportStatus.DRAFT
    assert job.header_row == 2  # row 1 is the notice's title
    assert job.mapping == {"date": "调整日期", "is_workday": "安排", "name": "节日", "note": "备注"}


def test_preview_shows_each_problem_on_its_row_and_writes_nothing(admin_user):
    job = importer.create_run(actor=admin_user, spec=SPEC, upload=xlsx_upload(NOTICE))
    rows = importer.preview_run(actor=admin_user, job=job)
    by_number = {r.number: r for r in rows}
    assert [r.number for r in rows] == [3, 4, 5, 6, 7, 8]
    assert by_number[3].ok and by_number[3].resolved == {"当天": "放假"}
    assert by_number[6].ok and by_number[6].resolved == {"当天": "上班"}
    problems = {n: [c["problem"] for c in r.cells if c["problem"]] for n, r in by_number.items()}
    assert problems[5] == ["日期格式错误：2026-13-01"]
    assert problems[7] == ["上班/放假应为上班、调休上班、工作日、补班、放假、休息、休、节假日、班之一：加班"]
    assert problems[8] == ["日期为空"]
    assert not CalendarOverride.objects.exists()


def test_a_required_field_left_unmapped_is_named(admin_user):
    job = importer.create_run(actor=admin_user, spec=SPEC, upload=xlsx_upload(NOTICE))
    with pytest.raises(ValidationFailed, match="日期"):
        importer.set_run_mapping(actor=admin_user, job=job, mapping={"is_workday": "安排", "name": "节日"})
    with pytest.raises(ValidationFailed, match="找不到"):
        importer.set_run_mapping(actor=admin_user, job=job, mapping={"date": "日期列", "is_workday": "安排"})


def test_the_run_imports_good_rows_and_reports_bad_ones_by_row_and_field(admin_user, upload_and_run, client):
    job = upload_and_run(admin_user, NOTICE)

    assert job.status == ImportStatus.PARTIAL
    assert (job.processed, job.created_count, job.failed) == (6, 3, 3)
    assert dict(CalendarOverride.objects.values_list("date", "is_workday")) == {
        date(2026, 10, 1): False,
        date(2026, 10, 2): False,
        date(2026, 10, 10): True,
    }
    # the working calendar follows at once: Saturday 10 October is a 调休 working day
    assert workcalendar.is_workday(date(2026, 10, 10)) is True
    assert list(job.errors.values_list("row_number", "reason")) == [
        (5, "日期格式错误：2026-13-01"),
        (7, "上班/放假应为上班、调休上班、工作日、补班、放假、休息、休、节假日、班之一：加班"),
        (8, "日期为空"),
    ]
    assert AuditLog.objects.filter(action="core.calendar_override.import", actor=admin_user).count() == 3
    assert AuditLog.objects.filter(action="core.import.finish", object_id=str(job.pk)).exists()

    # the error report downloads as xlsx: 行号, 日期, 错误原因, 类型
    client.force_login(admin_user)
    resp = client.get(f"/exports/imports/{job.pk}/errors/")
    assert resp.status_code == 200
    sheet = openpyxl.load_workbook(BytesIO(b"".join(resp.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("行号", "日期", "错误原因", "类型")
    assert [(r[0], r[1], r[3]) for r in rows[1:]] == [(5, "2026-13-01", "错误"), (7, "2026-10-11", "错误"),
                                                     (8, None, "错误")]  # fmt: skip
    assert "月份" not in rows[1][2] and "日期格式错误" in rows[1][2]


def test_re_uploading_the_same_file_changes_nothing(admin_user, upload_and_run):
    upload_and_run(admin_user, NOTICE)
    before = list(CalendarOverride.objects.order_by("date").values_list("date", "is_workday", "updated_at"))
    audits = AuditLog.objects.filter(action="core.calendar_override.import").count()

    again = upload_and_run(admin_user, NOTICE)

    assert (again.created_count, again.updated_count, again.unchanged_count, again.failed) == (0, 0, 3, 3)
    after = list(CalendarOverride.objects.order_by("date").values_list("date", "is_workday", "updated_at"))
    assert after == before
    assert AuditLog.objects.filter(action="core.calendar_override.import").count() == audits
    assert ImportLedger.objects.filter(spec=SPEC).count() == 3


def test_a_changed_row_updates_its_day_and_nothing_else(admin_user, upload_and_run):
    upload_and_run(admin_user, NOTICE[:2])
    changed = [["2026-10-01", "放假", "国庆节", "改了备注"], NOTICE[1]]
    job = upload_and_run(admin_user, changed)
    assert (job.created_count, job.updated_count, job.unchanged_count) == (0, 1, 1)
    assert CalendarOverride.objects.get(date=date(2026, 10, 1)).note == "改了备注"
    assert CalendarOverride.objects.count() == 2


def test_only_the_system_admin_may_import_holidays_or_see_the_report(admin_user, upload_and_run, client):
    dispatcher = UserFactory(role="dispatcher")
    with pytest.raises(PermissionDenied):
        importer.create_run(actor=dispatcher, spec=SPEC, upload=xlsx_upload(NOTICE))
    job = upload_and_run(admin_user, NOTICE)
    client.force_login(dispatcher)
    assert client.get(f"/exports/imports/{job.pk}/errors/").status_code == 404


def test_an_unreadable_file_is_refused_before_anything_is_stored(admin_user):
    with pytest.raises(ValidationFailed, match="Excel 文件已损坏"):
        importer.create_run(
            actor=admin_user, spec=SPEC, upload=SimpleUploadedFile("坏.xlsx", b"PK\x03\x04 not a zip")
        )
    with pytest.raises(ValidationFailed, match=".xlsx、.xls 或 .csv"):
        importer.create_run(actor=admin_user, spec=SPEC, upload=SimpleUploadedFile("a.pdf", b"%PDF"))


# --- a tests-only spec: a row whose write fails leaves nothing half-written ------------------------


def _half_writer(batch: bool):
    """Writes the day, then refuses rows whose 备注 says 坏 — after the write, so a rollback must undo it."""

    def write(values):
        CalendarOverride.objects.create(
            date=values["date"], is_workday=values["is_workday"], note=values["note"]
        )
        if values["note"] == "坏":
            raise importer.RowError("备注：这一行写到一半被拒绝")
        return values["date"]

    def apply_row(values, ctx):
        return write(values)

    def apply_batch(rows, ctx):
        return [write(r.values) for r in rows]

    from civicgrid.core import calendar_import

    return importer.register_spec(
        importer.ImportSpec(
            name=f"tests.half_writer_{'batch' if batch else 'row'}",
            label="测试",
            fields=calendar_import.FIELDS,
            key_field="date",
            clean=lambda number, values: {**values, "note": values.get("note") or ""},
            apply_row=None if batch else apply_row,
            apply_batch=apply_batch if batch else None,
            can_import=lambda user: True,
        )
    )


@pytest.mark.parametrize("batch", [False, True], ids=["apply_row", "apply_batch"])
def test_a_row_refused_mid_write_leaves_nothing_behind(admin_user, run, batch, request):
    spec = _half_writer(batch)
    # (unregistered afterwards: a spec anyone may run would put 数据导入 in every later test's menu)
    request.addfinalizer(lambda: importer.SPECS.pop(spec.name, None))
    rows = [["2026-05-01", "放假", "", ""], ["2026-05-02", "放假", "", "坏"], ["2026-05-03", "放假", "", ""]]
    job = run(admin_user, importer.create_run(actor=admin_user, spec=spec, upload=xlsx_upload(rows)))
    assert (job.created_count, job.failed) == (2, 1)
    assert list(job.errors.values_list("row_number", "reason")) == [(4, "备注：这一行写到一半被拒绝")]
    assert set(CalendarOverride.objects.values_list("date", flat=True)) == {
        date(2026, 5, 1),
        date(2026, 5, 3),
    }
    assert set(ImportLedger.objects.filter(spec=spec.name).values_list("key", flat=True)) == {
        "2026-05-01",
        "2026-05-03",
    }


def test_a_spec_must_say_how_rows_are_written():
    from civicgrid.core import calendar_import

    with pytest.raises(ValueError, match="apply_row / apply_batch"):
        importer.ImportSpec(name="x", label="x", fields=calendar_import.FIELDS, key_field="date")
    with pytest.raises(ValueError, match="key field"):
        importer.ImportSpec(
            name="x", label="x", fields=calendar_import.FIELDS, key_field="nope", apply_row=lambda v, c: 1
        )
