"""The generic import wizard (``/imports/``) with its first client, 工作日历调整.

The story: a 街道's 系统管理员 finds "数据导入" in the menu (and "从 Excel 导入" on the holiday page of the admin),
downloads the blank template, uploads the State Council notice typed into Excel (a title row above the header,
header names that are synonyms), checks the suggested mapping, changes the header row, sees in the preview
which rows are bad and why, starts the import and reads the counts and the error rows. A 派遣员 cannot import
the calendar; another 街道's administrator cannot open the run; no input makes a 5xx.
"""

from __future__ import annotations

from datetime import date
from io import BytesIO

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from civicgrid.core import importer
from civicgrid.core.models import AuditLog, CalendarOverride, ImportRun, ImportStatus
from tests.core.test_importer import NOTICE, SPEC, xlsx_upload
from tests.factories import StreetFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def inline_runs(settings, tmp_path):
    settings.BACKGROUND_RUN_INLINE = True
    settings.DATA_DIR = tmp_path


@pytest.fixture
def admin_user(db):
    return UserFactory(role="system_admin", is_staff=True)


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def _upload(client, upload) -> ImportRun | None:
    response = client.post(f"/imports/{SPEC}/new/", {"file": upload})
    if response.status_code != 302:
        return None
    return ImportRun.objects.get(pk=int(response.url.rstrip("/").rsplit("/", 1)[1]))


def test_the_admin_finds_the_import_in_the_menu_and_on_the_holiday_page(admin_client):
    home = admin_client.get("/imports/")
    assert home.status_code == 200
    html = home.content.decode()
    assert "工作日历调整" in html and f"/imports/{SPEC}/new/" in html
    assert 'data-testid="nav-data-import"' in html
    holidays = admin_client.get("/admin/core/calendaroverride/").content.decode()
    assert "从 Excel 导入" in holidays and f"/imports/{SPEC}/new/" in holidays


def test_the_template_has_one_header_per_field_and_the_upload_maps_it_at_once(admin_client):
    response = admin_client.get(f"/imports/{SPEC}/template.xlsx")
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    wb = openpyxl.load_workbook(BytesIO(response.content))
    assert wb.sheetnames[0] == "工作日历调整" and "填写说明" in wb.sheetnames
    headers = [c.value for c in next(wb.worksheets[0].iter_rows(max_row=1))]
    assert headers == ["日期", "上班/放假", "名称", "备注"]
    notes = [[c.value for c in row] for row in wb["填写说明"].iter_rows(min_row=2, max_row=5)]
    assert notes[0][:2] == ["日期", "必填"] and notes[2][:2] == ["名称", "选填"]

    # the filled-in template is mapped completely without touching anything
    ws = wb.worksheets[0]
    ws.append(["2026-10-01", "放假", "国庆节", ""])
    buf = BytesIO()
    wb.save(buf)
    job = _upload(admin_client, SimpleUploadedFile("模板.xlsx", buf.getvalue()))
    assert job.mapping == {"date": "日期", "is_workday": "上班/放假", "name": "名称", "note": "备注"}


def test_upload_mapping_preview_start_and_result(
    admin_client, admin_user, django_capture_on_commit_callbacks
):
    job = _upload(admin_client, xlsx_upload(NOTICE))
    assert job.status == ImportStatus.DRAFT and job.header_row == 2

    page = admin_client.get(f"/imports/runs/{job.pk}/").content.decode()
    # the synonyms are pre-selected: 调整日期 → 日期, 安排 → 上班/放假
    assert '<option value="调整日期" selected>' in page and '<option value="安排" selected>' in page
    # the preview names each bad row and its problem; nothing is written yet
    assert 'data-testid="preview-ok">3<' in page and 'data-testid="preview-bad">3<' in page
    assert "第 5 行" in page and "日期格式错误：2026-13-01" in page
    assert "上班/放假应为" in page and "加班" in page
    assert "日期为空" in page
    assert not CalendarOverride.objects.exists()

    # the mapping is saved (the 名称 column left out), then started
    response = admin_client.post(
        f"/imports/runs/{job.pk}/mapping/",
        {"map_date": "调整日期", "map_is_workday": "安排", "map_name": "", "map_note": "备注"},
    )
    assert response.status_code == 302 and response.url.endswith("#preview")
    job.refresh_from_db()
    assert job.mapping == {"date": "调整日期", "is_workday": "安排", "note": "备注"}
    with django_capture_on_commit_callbacks(execute=True):
        assert admin_client.post(f"/imports/runs/{job.pk}/start/").status_code == 302
    job.refresh_from_db()
    assert job.status == ImportStatus.PARTIAL
    assert (job.processed, job.created_count, job.failed) == (6, 3, 3)
    assert CalendarOverride.objects.get(date=date(2026, 10, 10)).is_workday is True

    result = admin_client.get(f"/imports/runs/{job.pk}/").content.decode()
    assert 'data-testid="count-created">3<' in result and 'data-testid="count-failed">3<' in result
    assert "第 5 行" in result and "日期格式错误：2026-13-01" in result
    assert f"/exports/imports/{job.pk}/errors/" in result
    progress = admin_client.get(f"/imports/runs/{job.pk}/progress/").content.decode()
    assert "hx-get" not in progress and "导入完成，3 行有错误未导入" in progress
    assert "日期格式错误：2026-13-01" in progress  # the last poll brings the error rows too
    assert admin_client.get(f"/exports/imports/{job.pk}/errors/").status_code == 200

    # pressing start again, or changing the mapping now, changes nothing
    admin_client.post(f"/imports/runs/{job.pk}/start/")
    admin_client.post(f"/imports/runs/{job.pk}/mapping/", {"map_date": "备注", "map_is_workday": "安排"})
    job.refresh_from_db()
    assert job.status == ImportStatus.PARTIAL and job.mapping["date"] == "调整日期"
    assert AuditLog.objects.filter(action="core.import.start", object_id=str(job.pk)).count() == 1

    # the list shows the run
    listing = admin_client.get("/imports/").content.decode()
    assert "2026年国庆放假安排.xlsx" in listing and "已完成（有错误行）" in listing


def test_a_running_run_is_polled_by_htmx(admin_client, admin_user):
    job = importer.create_run(actor=admin_user, spec=SPEC, upload=xlsx_upload(NOTICE))
    ImportRun.objects.filter(pk=job.pk).update(status=ImportStatus.QUEUED)
    progress = admin_client.get(f"/imports/runs/{job.pk}/progress/").content.decode()
    assert f'hx-get="/imports/runs/{job.pk}/progress/"' in progress and 'hx-trigger="every 1s"' in progress


def test_an_incomplete_mapping_names_the_missing_field(admin_client, admin_user):
    job = importer.create_run(actor=admin_user, spec=SPEC, upload=xlsx_upload(NOTICE))
    response = admin_client.post(
        f"/imports/runs/{job.pk}/mapping/", {"map_is_workday": "安排", "map_name": "节日"}, follow=True
    )
    assert "以下必填字段尚未指定对应列：日期" in response.content.decode()
    # a header the file does not have is refused by the form, not by a 500
    response = admin_client.post(
        f"/imports/runs/{job.pk}/mapping/", {"map_date": "不存在的列", "map_is_workday": "安排"}, follow=True
    )
    assert response.status_code == 200 and "字段对应有误" in response.content.decode()
    # starting with the mapping cleared says why
    ImportRun.objects.filter(pk=job.pk).update(mapping={})
    response = admin_client.post(f"/imports/runs/{job.pk}/start/", follow=True)
    assert "以下必填字段尚未指定对应列" in response.content.decode()
    assert ImportRun.objects.get(pk=job.pk).status == ImportStatus.DRAFT


def test_choosing_another_header_row_rereads_the_columns(admin_client, admin_user):
    job = importer.create_run(actor=admin_user, spec=SPEC, upload=xlsx_upload(NOTICE))
    admin_client.post(f"/imports/runs/{job.pk}/header/", {"header_row": "1"})
    job.refresh_from_db()
    assert job.header_row == 1 and job.headers == ["国务院办公厅关于2026年部分节假日安排的通知"]
    page = admin_client.get(f"/imports/runs/{job.pk}/").content.decode()
    assert "以下必填字段尚未指定对应列" in page  # nothing maps: the preview says so instead of failing
    for bad in ("", "x", "-3", "999"):
        response = admin_client.post(f"/imports/runs/{job.pk}/header/", {"header_row": bad}, follow=True)
        assert response.status_code == 200
    admin_client.post(f"/imports/runs/{job.pk}/header/", {"header_row": "2"})
    job.refresh_from_db()
    assert job.header_row == 2 and job.mapping["date"] == "调整日期"


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("notice.pdf", b"%PDF-1.4", "请上传 .xlsx、.xls 或 .csv 文件"),
        ("notice.xlsx", b"PK\x03\x04 not a zip at all", "Excel 文件已损坏"),
        ("notice.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1garbage", "无法读取旧版 Excel"),
        ("empty.csv", b"", "所提交的是空文件"),
        ("blank.csv", b"\r\n,,\r\n", "没有表头行"),
    ],
)
def test_a_bad_file_is_refused_with_a_reason(admin_client, name, content, message):
    response = admin_client.post(f"/imports/{SPEC}/new/", {"file": SimpleUploadedFile(name, content)})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ImportRun.objects.exists()


def test_a_run_whose_file_is_gone_still_opens(admin_client, admin_user, settings):
    from pathlib import Path

    job = importer.create_run(actor=admin_user, spec=SPEC, upload=xlsx_upload(NOTICE))
    (Path(settings.DATA_DIR) / job.file_path).unlink()
    page = admin_client.get(f"/imports/runs/{job.pk}/")
    assert page.status_code == 200 and "已不存在" in page.content.decode()
    response = admin_client.post(f"/imports/runs/{job.pk}/header/", {"header_row": "2"}, follow=True)
    assert response.status_code == 200


def test_a_csv_in_gbk_is_imported_through_the_same_pages(admin_client, django_capture_on_commit_callbacks):
    body = "日期,状态,节日\r\n2027-01-01,放假,元旦\r\n".encode("gb18030")
    job = _upload(admin_client, SimpleUploadedFile("元旦.csv", body))
    assert job.file_format == "csv" and job.encoding == "gb18030"
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(f"/imports/runs/{job.pk}/start/")
    assert CalendarOverride.objects.get(date=date(2027, 1, 1)).name == "元旦"


def test_a_dispatcher_cannot_import_the_calendar(client, admin_user):
    job = importer.create_run(actor=admin_user, spec=SPEC, upload=xlsx_upload(NOTICE))
    client.force_login(UserFactory(role="dispatcher", street=admin_user.street))
    # (the desk imports the ledgers — 行政处罚案件台账, 舆情台账 — but not the calendar)
    home = client.get("/imports/")
    assert home.status_code == 200 and "工作日历调整" not in home.content.decode()
    assert client.get(f"/imports/{SPEC}/new/").status_code == 403
    assert client.post(f"/imports/{SPEC}/new/", {"file": xlsx_upload(NOTICE)}).status_code == 403
    assert client.get(f"/imports/{SPEC}/template.xlsx").status_code == 403
    for url in ("", "progress/"):
        assert client.get(f"/imports/runs/{job.pk}/{url}").status_code == 404
    for url in ("mapping/", "header/", "start/"):
        assert client.post(f"/imports/runs/{job.pk}/{url}", {"header_row": "1"}).status_code == 404
    assert ImportRun.objects.get(pk=job.pk).status == ImportStatus.DRAFT


def test_another_streets_admin_cannot_open_the_run(client, admin_user):
    job = importer.create_run(actor=admin_user, spec=SPEC, upload=xlsx_upload(NOTICE))
    other = StreetFactory(code="330106099", name="乙街道", division_code="330106")
    client.force_login(UserFactory(role="system_admin", street=other))
    for url in ("", "progress/"):
        assert client.get(f"/imports/runs/{job.pk}/{url}").status_code == 404
    for url in ("mapping/", "header/", "start/"):
        assert client.post(f"/imports/runs/{job.pk}/{url}").status_code == 404
    assert "2026年国庆放假安排" not in client.get("/imports/").content.decode()
    assert ImportRun.objects.get(pk=job.pk).status == ImportStatus.DRAFT


def test_unknown_specs_and_runs_are_404(admin_client):
    for url in (
        "/imports/no.such.spec/new/",
        "/imports/no.such.spec/template.xlsx",
        "/imports/runs/999999/",
        "/imports/runs/999999/progress/",
    ):
        assert admin_client.get(url).status_code == 404, url
    assert admin_client.post("/imports/runs/999999/start/").status_code == 404
    # the 12345 spec has its own wizard: not served here
    hotline = [s.name for s in importer.SPECS.values() if s.handler is not None]
    for name in hotline:
        assert admin_client.get(f"/imports/{name}/new/").status_code == 404


def test_anonymous_users_are_sent_to_login(client):
    response = client.get(f"/imports/{SPEC}/new/")
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_any_spec_without_a_job_table_gets_the_same_pages(
    client, monkeypatch, django_capture_on_commit_callbacks
):
    """A second client (a register kept by the desk, here only counted) is served by the same wizard, for the
    people its ``can_import`` names; its label may hold characters a sheet name cannot."""
    seen: list[str] = []

    def clean(number, values):
        if values["age"] > 120:
            raise importer.RowError(f"年龄不合理：{values['age']}")
        return values

    def apply(values, ctx):
        seen.append(values["name"])
        return values["name"]

    spec = importer.ImportSpec(
        name="test.register",
        label="人员/名册",
        fields=(
            importer.text_field("name", "姓名", ("名字",), required=True),
            importer.integer_field("age", "年龄", required=True),
        ),
        key_field="name",
        key_label="姓名",
        clean=clean,
        apply_row=apply,
        can_import=lambda user: user.role == "dispatcher",
    )
    monkeypatch.setitem(importer.SPECS, spec.name, spec)
    client.force_login(UserFactory(role="dispatcher"))
    assert "人员/名册" in client.get("/imports/").content.decode()
    template = openpyxl.load_workbook(BytesIO(client.get("/imports/test.register/template.xlsx").content))
    assert template.sheetnames[0] == "人员名册"
    assert client.get(f"/imports/{SPEC}/new/").status_code == 403  # the calendar stays the admins'

    body = "名字,年龄\r\n张三,30\r\n李四,300\r\n王五,abc\r\n".encode()
    response = client.post("/imports/test.register/new/", {"file": SimpleUploadedFile("名册.csv", body)})
    job = ImportRun.objects.get(pk=int(response.url.rstrip("/").rsplit("/", 1)[1]))
    page = client.get(f"/imports/runs/{job.pk}/").content.decode()
    assert "年龄不合理" in page and "第 4 行" in page and 'data-testid="preview-bad">2<' in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/imports/runs/{job.pk}/start/")
    job.refresh_from_db()
    assert (job.created_count, job.failed) == (1, 2) and seen == ["张三"]
    assert list(job.errors.values_list("row_number", "source_ref")) == [(3, "李四"), (4, "王五")]
