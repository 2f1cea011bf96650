"""信访 figures on hand-built data with known answers (and an empty period), the 上级 report export, and the
import of an existing ledger through core's importer: mapping, preview, row-level errors, nothing twice."""

from __future__ import annotations

from datetime import date
from io import BytesIO

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from civicgrid.core import clock, importer
from civicgrid.core.models import ImportStatus
from civicgrid.petitions import exports, metrics, selectors, services
from civicgrid.petitions.models import PetitionDetail
from tests.petitions.conftest import at

pytestmark = pytest.mark.django_db


def _life(pw, registered, accepted=None, replied=None, done=None, **kw):
    with clock.frozen(registered):
        case = pw.register(**kw)
    for move, when, extra in (("notify_accept", accepted, {}), ("reply", replied, {"detail": {"reply": "答复"}}),
                              ("close", done, {})):  # fmt: skip
        if when is None:
            break
        with clock.frozen(when):
            case = pw.pmove(case, move, **extra)
    return case


@pytest.fixture
def year(pw):
    """Five 信访 in March 2026 and one in February, with known outcomes."""
    a = _life(pw, at(2026, 3, 2, 9), at(2026, 3, 3, 9), at(2026, 3, 20, 9), at(2026, 3, 20, 10))  # on time
    b = _life(
        pw, at(2026, 3, 5, 9), at(2026, 3, 6, 9), at(2026, 5, 20, 9), at(2026, 5, 20, 10)
    )  # late, in May
    _life(pw, at(2026, 3, 9, 9), at(2026, 3, 10, 9), kind="repeat", earlier=[a])  # open, repeats a
    _life(pw, at(2026, 3, 12, 9), kind="leapfrog", leap_level="city")  # registered only
    _life(pw, at(2026, 3, 16, 9), at(2026, 3, 17, 9), at(2026, 3, 25, 9), at(2026, 3, 25, 10),
          kind="leapfrog", leap_level="province", is_group=True, headcount=8)  # fmt: skip
    _life(pw, at(2026, 2, 10, 9), at(2026, 2, 11, 9), at(2026, 3, 2, 9), at(2026, 3, 2, 10))  # accepted Feb
    with clock.frozen(at(2026, 3, 31, 12)):
        services.record_reception(actor=pw.desk, received_on=date(2026, 3, 2), people=2, topic="电梯")
        services.record_reception(actor=pw.desk, received_on=date(2026, 3, 16), people=8, topic="集体访")
        services.record_reception(actor=pw.desk, received_on=date(2026, 2, 28), people=1, topic="二月")
    return a, b


def test_march_figures_match_hand_computation(pw, year):
    with clock.frozen(at(2026, 6, 1, 9)):
        f = metrics.figures(user=pw.desk, start=date(2026, 3, 1), end=date(2026, 3, 31))
    assert f.registered == 5
    assert f.accepted == 4  # a, b, the repeat, the group visit (the Feb one was accepted in Feb)
    assert f.accepted_done == 2  # a and the group visit done by 3月31日 (b only in May)
    assert f.done_rate == 50.0
    assert f.done == 3  # a, the group visit, the Feb one (closed 3月2日)
    assert f.done_on_time == 3 and f.on_time_rate == 100.0
    # 初信初访 accepted in March: a, b → a is done but repeated by a later 信访; b done only in May
    assert (f.first, f.first_resolved, f.first_resolve_rate) == (2, 0, 0.0)
    assert f.repeat == 1
    assert f.leapfrog == {"city": 1, "province": 1, "beijing": 0} and f.zero_beijing and f.leapfrog_total == 2
    assert (f.reception_batches, f.reception_people) == (2, 10)
    may = metrics.figures(user=pw.desk, start=date(2026, 5, 1), end=date(2026, 5, 31))
    assert may.done == 1 and may.done_on_time == 0 and may.on_time_rate == 0.0  # b: due 5月5日 24:00 → late


def test_an_empty_period_has_zero_counts_and_no_rates(pw, year):
    f = metrics.figures(user=pw.desk, start=date(2025, 1, 1), end=date(2025, 1, 31))
    assert (f.registered, f.accepted, f.done, f.repeat, f.backlog_resolved, f.reception_batches) == (0,) * 6
    assert f.done_rate is None and f.on_time_rate is None and f.first_resolve_rate is None and f.zero_beijing


def test_figures_see_only_what_the_user_sees(pw, year):
    f = metrics.figures(user=pw.dispatcher, start=date(2026, 3, 1), end=date(2026, 3, 31))
    assert f.registered == 0 and f.reception_batches == 0


def test_backlog_resolution_counts_by_its_day(pw, year):
    a, b = year
    _, _ = a, b
    open_one = PetitionDetail.objects.get(kind="repeat").case  # accepted 3月10日, due 5月9日 24:00
    with clock.frozen(at(2026, 6, 1, 9)):
        assert selectors.is_backlog(open_one.petition_detail)
        services.resolve_backlog(actor=pw.desk, case=open_one, resolved_on=date(2026, 5, 30), method="aid")
        assert (
            metrics.figures(user=pw.desk, start=date(2026, 5, 1), end=date(2026, 5, 31)).backlog_resolved == 1
        )
        assert (
            metrics.figures(user=pw.desk, start=date(2026, 6, 1), end=date(2026, 6, 30)).backlog_resolved == 0
        )


def test_report_export_has_one_row_per_petition_masked_and_a_totals_row(pw, year):
    fh, name = exports.write_ledger_xlsx(selectors.petition_rows(user=pw.desk))
    rows = list(openpyxl.load_workbook(fh).active.iter_rows(values_only=True))
    assert name.startswith("信访台账_") and rows[0][:4] == ("序号", "信访编号", "原台账编号", "登记日期")
    assert len(rows) == 1 + 6 + 1
    body = rows[1:-1]
    assert all(r[5].startswith("张*") for r in body) and all(
        "5678" in r[6] and "1234" not in r[6] for r in body
    )
    assert rows[-1][0] == "合计" and rows[-1][1] == "6 件" and rows[-1][8] == 13  # 5 × 1 + 8
    assert rows[-1][16] == "办结 4"


HEADER = ["编号", "来信来访日期", "形式", "信访人", "是否集体访", "人数", "类别", "越级层级", "反映问题", "包案领导",
          "受理日期", "答复日期", "办结日期"]  # fmt: skip


def _upload(rows):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["某街道2026年信访台账"])
    ws.append(HEADER)
    for r in rows:
        ws.append(r)
    buf = BytesIO()
    wb.save(buf)
    return SimpleUploadedFile("信访台账.xlsx", buf.getvalue())


ROWS = [
    ["XF-001", "2026-09-16", "来信", "李四", "否", 1, "初信初访", "", "拆迁补偿", "", "2026-09-20", "2026-10-12",
     "2026-10-12"],
    ["XF-002", "2026-10-09", "来访", "王五", "是", 12, "越级", "赴省", "欠薪", "", "2026-10-10", "", ""],
    ["XF-003", "2026-10-09", "来访", "赵六", "否", 1, "越级", "", "噪音", "", "", "", ""],
    ["XF-004", "2026-10-09", "传真", "钱七", "否", 1, "初信初访", "", "噪音", "", "", "", ""],
    ["XF-005", "2026-10-12", "网上", "孙八", "否", 1, "初信初访", "", "漏水", "", "2026-10-10", "", ""],
    ["XF-006", "2026-10-12", "网上", "周九", "否", 1, "初信初访", "", "停车", "无此人", "", "", ""],
]  # fmt: skip


@pytest.fixture(autouse=True)
def inline_runs(settings):
    settings.BACKGROUND_RUN_INLINE = True


def test_import_maps_previews_reports_row_errors_and_is_idempotent(pw, django_capture_on_commit_callbacks):
    with clock.frozen(at(2026, 11, 20, 9)):
        job = importer.create_run(actor=pw.desk, spec="petitions.ledger", upload=_upload(ROWS))
        assert job.header_row == 2 and job.mapping["ref"] == "编号" and job.mapping["summary"] == "反映问题"
        preview = {r.number: r for r in importer.preview_run(actor=pw.desk, job=job)}
        assert preview[3].ok and preview[3].resolved["导入后状态"] == "已办结"
        assert not preview[5].ok and not preview[6].ok and not preview[7].ok
        assert not PetitionDetail.objects.exists()
        with django_capture_on_commit_callbacks(execute=True):
            importer.start_run(actor=pw.desk, job=job)
        job.refresh_from_db()
        assert job.status == ImportStatus.PARTIAL and (job.created_count, job.failed) == (2, 4)
        reasons = dict(job.errors.values_list("row_number", "reason"))
        assert "越级" in reasons[5] and "信访形式" in reasons[6] and "受理日期早于登记日期" in reasons[7]
        assert "包案领导「无此人」" in reasons[8]
        first = PetitionDetail.objects.get(ledger_ref="XF-001")
        assert first.case.state == "closed" and first.registered_at == at(2026, 9, 16, 9, 0)
        assert first.handle_due_at == at(2026, 11, 20, 0, 0) and first.done_on_time is True
        second = PetitionDetail.objects.get(ledger_ref="XF-002")
        assert second.case.state == "accepted" and second.is_group and second.headcount == 12
        assert second.case.due_at == at(2026, 12, 10, 0, 0)  # 10月10日 + 60 = 12月9日 24:00
        # the same file again: nothing new
        again = importer.create_run(actor=pw.desk, spec="petitions.ledger", upload=_upload(ROWS[:2]))
        with django_capture_on_commit_callbacks(execute=True):
            importer.start_run(actor=pw.desk, job=again)
        again.refresh_from_db()
        assert again.created_count == 0 and PetitionDetail.objects.count() == 2
        # the 办结日期 arrives: the row updates that 信访 only
        later = [ROWS[1][:11] + ["2026-11-02", "2026-11-03"]]
        upd = importer.create_run(actor=pw.desk, spec="petitions.ledger", upload=_upload(later))
        with django_capture_on_commit_callbacks(execute=True):
            importer.start_run(actor=pw.desk, job=upd)
        second.refresh_from_db()
        assert second.case.state == "closed" and second.done_at == at(2026, 11, 3, 10, 30)


def test_only_the_desk_may_import(pw):
    from civicgrid.core.errors import PermissionDenied, ValidationFailed

    with pytest.raises((PermissionDenied, ValidationFailed)):
        importer.create_run(actor=pw.dispatcher, spec="petitions.ledger", upload=_upload(ROWS))
