"""时间银行 records from Excel: volunteers found by phone or by name + 社区; the same file again adds nothing; each
bad row is named with its row and column; a 支取 beyond the balance is refused with its row, so no balance goes
below zero; and the records export in the import's own columns (an exported file imports back as nothing new)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from io import BytesIO

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from civicgrid.accounts.roles import Role
from civicgrid.activities import selectors, services
from civicgrid.activities.models import TimeBankEntry
from civicgrid.core import importer
from civicgrid.core.models import ImportRunError

pytestmark = pytest.mark.django_db

HEADER = ["姓名", "手机", "所属社区", "服务日期", "类型", "时长", "备注"]


@pytest.fixture(autouse=True)
def inline_runs(settings, tmp_path):
    settings.BACKGROUND_RUN_INLINE = True
    settings.DATA_DIR = tmp_path


@pytest.fixture
def people(aw):
    def volunteer(name, phone="", community=None):
        return services.create_volunteer(
            actor=aw.leader,
            data=services.VolunteerData(
                name=name, phone=phone, community=community, registered_on="2026-01-05"
            ),
        )

    aw.sun = volunteer("孙丽", "13700001111", aw.community.pk)
    aw.zhou = volunteer("周强", "", aw.community.pk)
    aw.zhou_other = volunteer("周强", "13900002222", aw.other_community.pk)  # the same name in another 社区
    return aw


def xlsx(rows, header=HEADER, name="时间银行.xlsx") -> SimpleUploadedFile:
    wb = openpyxl.Workbook()
    wb.active.append(header)
    for r in rows:
        wb.active.append(r)
    buf = BytesIO()
    wb.save(buf)
    return SimpleUploadedFile(name, buf.getvalue())


def run_import(actor, upload, capture):
    job = importer.create_run(actor=actor, spec="activities.timebank", upload=upload)
    preview = importer.preview_run(actor=actor, job=job)
    with capture(execute=True):
        importer.start_run(actor=actor, job=job)
    job.refresh_from_db()
    errors = dict(ImportRunError.objects.filter(job=job).values_list("row_number", "reason"))
    return job, preview, errors


def test_an_import_books_earned_and_spent_hours_and_refuses_what_would_overdraw(
    people, django_capture_on_commit_callbacks
):
    c, other = people.community.name, people.other_community.name
    rows = [
        ["", "137-0000-1111", "", "2026-03-01", "存入", 6, "助老服务"],  # row 2: by phone alone
        ["周强", "", c, "2026/3/2", "服务", "2.5", "社区巡逻"],  # row 3: by name + 社区
        ["孙丽", "13700001111", c, "2026-03-10", "兑换", 4, "理发兑换"],  # row 4: 6 − 4 = 2 left
        ["孙丽", "13700001111", c, "2026-03-11", "支取", 3, "再兑换"],  # row 5: 3 > 2: refused
        ["周强", "", "", "2026-03-12", "存入", 1, ""],  # row 6: two 周强, no 社区
        ["周强", "", other, "2026-03-12", "存入", "两小时", ""],  # row 7: hours not a number
        ["王五", "", c, "2026-03-12", "存入", 1, ""],  # row 8: no such volunteer
        ["孙丽", "13700001111", c, "2026-03-12", "借出", 1, ""],  # row 9: unknown kind
        ["孙丽", "13700001111", c, "2999-01-01", "存入", 1, ""],  # row 10: in the future
        ["孙丽", "13700001111", c, "2026-03-13", "存入", 0, ""],  # row 11: zero hours
    ]
    job, preview, errors = run_import(people.leader, xlsx(rows), django_capture_on_commit_callbacks)
    assert (job.created_count, job.failed) == (3, 7), errors
    assert "余额不足：当前余额 2.0 小时，不能支取 3.0 小时" in errors[5] and errors[5].startswith("小时：")
    assert "有多位名为「周强」的志愿者" in errors[6]
    assert "小时应为数字" in errors[7]
    assert "没有名为「王五」的志愿者" in errors[8]
    assert "类型应为" in errors[9]
    assert "日期：日期不得晚于今天" in errors[10]
    assert "小时：小时数应大于 0" in errors[11]
    assert selectors.balance(people.sun) == Decimal("2.0")
    assert selectors.balance(people.zhou) == Decimal("2.5") and selectors.balance(people.zhou_other) == 0
    assert {p.number for p in preview if p.row_problem} >= {6, 8}  # the preview names them already
    # the same file again: nothing added, nothing refused that was booked
    again, _, errors = run_import(people.leader, xlsx(rows), django_capture_on_commit_callbacks)
    assert (again.created_count, again.updated_count) == (0, 0)
    assert TimeBankEntry.objects.count() == 3 and selectors.balance(people.sun) == Decimal("2.0")
    assert all(b >= 0 for b in (selectors.balance(v) for v in (people.sun, people.zhou)))


def test_staff_import_only_for_their_own_communitys_volunteers(people, django_capture_on_commit_callbacks):
    rows = [
        ["周强", "", people.community.name, "2026-03-02", "存入", 2, ""],
        ["周强", "", people.other_community.name, "2026-03-02", "存入", 2, ""],  # the other 社区's 周强
    ]
    job, _, errors = run_import(people.community_staff, xlsx(rows), django_capture_on_commit_callbacks)
    assert (job.created_count, job.failed) == (1, 1)
    assert "没有名为「周强」的志愿者" in errors[3]
    assert TimeBankEntry.objects.get().volunteer == people.zhou


def test_the_records_export_in_the_import_columns_and_import_back_as_nothing_new(
    people, client, django_capture_on_commit_callbacks
):
    services.record_entry(actor=people.leader, volunteer=people.sun, day=date(2026, 4, 1), kind="earn", hours=5,
                          note="助老")  # fmt: skip
    services.record_entry(actor=people.leader, volunteer=people.sun, day=date(2026, 4, 2), kind="spend",
                          hours="1.5", note="兑换")  # fmt: skip
    services.record_entry(actor=people.leader, volunteer=people.zhou_other, day=date(2026, 4, 3), kind="earn",
                          hours=1)  # fmt: skip
    client.force_login(people.leader)
    response = client.get(f"/activities/volunteers/entries.xlsx?community={people.community.pk}")
    assert response.status_code == 200
    data = b"".join(response.streaming_content)
    rows = [list(r) for r in openpyxl.load_workbook(BytesIO(data)).active.iter_rows(values_only=True)]
    assert rows[0] == ["姓名", "联系电话", "社区", "日期", "类型", "小时", "说明", "活动"]
    assert [r[:7] for r in rows[1:]] == [
        ["孙丽", "137****1111", people.community.name, rows[1][3], "存入（服务）", 5, "助老"],
        ["孙丽", "137****1111", people.community.name, rows[2][3], "支取（兑换）", 1.5, "兑换"],
    ]
    assert "13700001111" not in str(rows)
    job, _, errors = run_import(
        people.leader, SimpleUploadedFile("导出.xlsx", data), django_capture_on_commit_callbacks
    )
    assert (job.created_count, job.failed, TimeBankEntry.objects.count()) == (2, 0, 3), (
        errors
    )  # found, not added
    client.force_login(people.by_role(Role.DEPT_HANDLER))  # not a reader of the activity ledgers
    assert client.get("/activities/volunteers/entries.xlsx").status_code == 403


def test_the_import_page_takes_the_file_and_names_the_row(people, client, django_capture_on_commit_callbacks):
    client.force_login(people.leader)
    page = client.get("/activities/volunteers/").content.decode()
    assert 'href="/imports/activities.timebank/new/"' in page and 'data-testid="entries-export"' in page
    rows = [["孙丽", "13700001111", "", "2026-03-01", "存入", 2, ""],
            ["孙丽", "13700001111", "", "2026-03-02", "支取", 5, ""]]  # fmt: skip
    resp = client.post("/imports/activities.timebank/new/", {"file": xlsx(rows)})
    assert resp.status_code == 302, resp.content.decode()[:300]
    run = int(resp.url.rstrip("/").rsplit("/", 1)[1])
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/imports/runs/{run}/start/").status_code == 302
    result = client.get(f"/imports/runs/{run}/").content.decode()
    assert "余额不足" in result
    assert ImportRunError.objects.get(job_id=run).row_number == 3
    client.force_login(people.grid_worker)
    assert client.post("/imports/activities.timebank/new/", {"file": xlsx([])}).status_code == 403
