"""An import job survives bad rows and dead workers: each row all-or-nothing, a killed run resumes exactly."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO, StringIO

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from civicgrid.cases.models import Case, CaseEvent
from civicgrid.core import background, clock
from civicgrid.intake import hotline, services, tasks
from civicgrid.intake.models import ImportedRecord, ImportJob, ImportRowError, JobStatus
from tests.intake.conftest import row, write_csv

pytestmark = pytest.mark.django_db


def upload_and_start(client, path, capture):
    client.post(
        reverse("intake:upload"),
        {"source": "hotline_12345", "file": SimpleUploadedFile(path.name, path.read_bytes())},
    )
    job = ImportJob.objects.latest("pk")
    with capture(execute=True):
        client.post(reverse("intake:start", args=[job.pk]))
    job.refresh_from_db()
    return job


def report_lines(client, job):
    resp = client.get(reverse("intake:error_report", args=[job.pk]))
    assert resp.status_code == 200
    return list(
        openpyxl.load_workbook(BytesIO(b"".join(resp.streaming_content))).active.iter_rows(values_only=True)
    )


# --- one bad row never fails the job ---------------------------------------------------------------


def test_control_characters_and_formulas_in_a_file_do_not_fail_the_job(
    client, world, dispatcher, tmp_path, django_capture_on_commit_callbacks
):
    rows = [
        row("GD1"),
        row("GD2\x01", 问题分类="外星人\x07入侵"),  # a control character in the cells of a rejected row
        row('=HYPERLINK("http://x")', 问题分类="=1+1"),  # formulas in the cells of a rejected row
        row("GD4", 诉求内容="井盖\x00破损"),
    ]
    client.force_login(dispatcher)
    job = upload_and_start(client, write_csv(tmp_path / "c.csv", rows), django_capture_on_commit_callbacks)
    assert job.status == JobStatus.PARTIAL, job.message
    assert (job.created_count, job.failed) == (2, 2)
    assert Case.objects.get(source_ref="GD4").description == "井盖破损"
    lines = report_lines(client, job)
    assert lines[1][:3] == (3, "GD2", "问题分类无法识别：外星人入侵")
    assert lines[2][:3] == (4, '=HYPERLINK("http://x")', "问题分类无法识别：=1+1")


def test_a_row_raising_anything_is_reported_and_the_others_are_imported(
    client, world, dispatcher, tmp_path, django_capture_on_commit_callbacks, monkeypatch
):
    real_resolve = hotline.CategoryResolver.resolve
    real_open = hotline.HotlineHandler._create_open

    def resolve(self, text):
        if text == "炸弹分类":
            raise KeyError("炸弹分类")
        return real_resolve(self, text)

    def create_open(self, r, now):
        if r.ref == "GD13":
            raise RuntimeError("engine bug")
        return real_open(self, r, now)

    monkeypatch.setattr(hotline.CategoryResolver, "resolve", resolve)
    monkeypatch.setattr(hotline.HotlineHandler, "_create_open", create_open)
    open_row = {"办结时间": "", "回访满意度": "", "办理结果": ""}
    rows = [row("GD11"), row("GD12", 问题分类="炸弹分类"), row("GD13", **open_row), row("GD14", **open_row)]
    client.force_login(dispatcher)
    job = upload_and_start(client, write_csv(tmp_path / "x.csv", rows), django_capture_on_commit_callbacks)
    assert job.status == JobStatus.PARTIAL and (job.created_count, job.failed) == (2, 2), job.message
    assert set(Case.objects.values_list("source_ref", flat=True)) == {"GD11", "GD14"}
    assert not ImportedRecord.objects.filter(source_ref__in=["GD12", "GD13"]).exists()
    reasons = dict(ImportRowError.objects.filter(job=job).values_list("row_number", "reason"))
    assert reasons[3].startswith("该行处理时发生意外错误（KeyError")
    assert reasons[4].startswith("该行处理时发生意外错误（RuntimeError：engine bug")
    page = client.get(reverse("intake:job", args=[job.pk])).content.decode()
    assert "已完成（有错误行）" in page


# --- a killed worker ------------------------------------------------------------------------------


class Killed(BaseException):
    """What kill -9 looks like from inside: nothing after it runs."""


def kill_after_first_batch(job_pk, monkeypatch):
    """Claim the job and run it in batches of 2, dying in the middle of the second batch."""
    calls = {"n": 0}
    real = hotline.HotlineHandler.write_batch

    def write_batch(self, rows):
        calls["n"] += 1
        if calls["n"] == 2:
            raise Killed()
        return real(self, rows)

    monkeypatch.setattr(hotline.HotlineHandler, "write_batch", write_batch)
    pk, token = background.claim_next(tasks.KIND)
    assert pk == job_pk
    with pytest.raises(Killed):
        tasks.run_job(pk, token, batch_size=2)
    monkeypatch.setattr(hotline.HotlineHandler, "write_batch", real)


@pytest.fixture
def half_done_job(world, dispatcher, tmp_path, monkeypatch):
    rows = [row(f"GD2{i}") for i in range(1, 6)] + [row("GD29", 问题分类="外星人入侵")]
    path = write_csv(tmp_path / "k.csv", rows)
    job = services.create_job(actor=dispatcher, upload=SimpleUploadedFile(path.name, path.read_bytes()))
    services.start_job(actor=dispatcher, job=job)  # queued; nothing runs until the commit
    kill_after_first_batch(job.pk, monkeypatch)
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING and (job.processed, job.checkpoint_row) == (2, 3)
    assert Case.objects.count() == 2
    return job


def make_stale(job):
    ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=clock.now() - timedelta(seconds=90))


def assert_finished_exactly(job):
    job.refresh_from_db()
    assert job.status == JobStatus.PARTIAL
    assert (job.processed, job.created_count, job.updated_count, job.unchanged_count, job.failed) == (
        6,
        5,
        0,
        0,
        1,
    )
    assert Case.objects.count() == 5 and ImportedRecord.objects.count() == 5
    assert CaseEvent.objects.count() == 5  # one import entry per case, none twice
    assert list(ImportRowError.objects.filter(job=job).values_list("row_number", flat=True)) == [7]


def test_a_dead_workers_job_is_resumed_when_someone_looks_at_it(client, dispatcher, half_done_job):
    client.force_login(dispatcher)
    # heartbeat fresh: the worker may be alive — the page shows it running and touches nothing
    page = client.get(reverse("intake:job_progress", args=[half_done_job.pk])).content.decode()
    assert 'data-status="running"' in page and "正在自动恢复" not in page
    resp = client.post(reverse("intake:start", args=[half_done_job.pk]), follow=True)
    assert "该导入正在进行中" in resp.content.decode()  # a rerun says why nothing happens

    make_stale(half_done_job)
    page = client.get(reverse("intake:job", args=[half_done_job.pk])).content.decode()
    assert_finished_exactly(half_done_job)
    assert "上次导入中断" in page and "自动恢复，从第 4 行继续" in page
    assert "已完成（有错误行）" in page


def test_intake_run_resumes_a_stale_job_at_once_and_explains_a_live_one(half_done_job, monkeypatch):
    # the command recycles database connections between jobs; inside the test's transaction it must not
    monkeypatch.setattr(background, "close_old_connections", lambda: None)
    out = StringIO()
    call_command("intake_run", stdout=out)
    assert "正在由另一个进程运行" in out.getvalue()  # not silent
    assert ImportJob.objects.get(pk=half_done_job.pk).status == JobStatus.RUNNING

    make_stale(half_done_job)
    out = StringIO()
    call_command("intake_run", stdout=out)
    assert f"导入#{half_done_job.pk} 的进程已中断" in out.getvalue() and "完成 1 个导入任务" in out.getvalue()
    assert_finished_exactly(half_done_job)


def test_a_taken_over_worker_stops_writing(half_done_job, monkeypatch):
    """The presumed-dead worker wakes up after its job was requeued: its next checkpoint is refused."""
    old_token = half_done_job.runner
    make_stale(half_done_job)
    assert background.requeue_stale(tasks.KIND) == [half_done_job.pk]
    with pytest.raises(background.LostJob):
        background.beat(ImportJob, half_done_job.pk, old_token, processed=99)
    assert ImportJob.objects.get(pk=half_done_job.pk).processed == 2


def test_a_failed_job_can_be_run_again_from_where_it_stopped(
    client, world, dispatcher, tmp_path, django_capture_on_commit_callbacks
):
    path = write_csv(tmp_path / "f.csv", [row("GD41"), row("GD42")])
    client.force_login(dispatcher)
    client.post(
        reverse("intake:upload"),
        {"source": "hotline_12345", "file": SimpleUploadedFile(path.name, path.read_bytes())},
    )
    job = ImportJob.objects.latest("pk")
    stored = services.job_file(job)
    content = stored.read_bytes()
    stored.unlink()  # the disk lost the file: the whole run fails, with the reason
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("intake:start", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.message.startswith("导入中断")
    page = client.get(reverse("intake:job", args=[job.pk])).content.decode()
    assert 'data-testid="rerun"' in page

    stored.write_bytes(content)
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post(reverse("intake:start", args=[job.pk]), follow=True)
    assert "已重新排队，从头开始" in resp.content.decode()
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.created_count == 2
    resp = client.post(reverse("intake:start", args=[job.pk]), follow=True)
    assert "该导入已完成" in resp.content.decode()
