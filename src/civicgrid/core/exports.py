"""Large spreadsheet exports as background jobs, run by the one job runner (:mod:`civicgrid.core.background`).

An app registers an *exporter* for a kind of export: ``fn(job, target_path, progress) -> (rows, filename)``. It
rebuilds what to export from ``job.params`` (the request's query parameters) **as ``job.created_by``** — the same
filters and the same scope as the page the user asked from — writes the file through the safe writer
(:mod:`civicgrid.core.xlsx`) and calls ``progress(rows_written)`` now and then (that also beats the heartbeat).

:func:`start_export` queues the job (audit row in the same transaction, runner started on commit); the file lands
under ``DATA_DIR/exports/`` and only its requester may see the job or download it (everybody else gets a 404).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction

from civicgrid.core import audit, background, clock
from civicgrid.core.errors import NotFound, ValidationFailed
from civicgrid.core.models import ExportJob, ExportStatus
from civicgrid.core.scoping import register as register_scope

log = logging.getLogger(__name__)

KIND = "core.export"
KEEP_FILES = timedelta(days=7)  # a finished export's file is deleted this long after it was made

Exporter = Callable[[ExportJob, Path, Callable[[int], None]], tuple[int, str]]
_exporters: dict[str, tuple[str, Exporter]] = {}


def register(kind: str, label: str, fn: Exporter) -> None:
    _exporters[kind] = (label, fn)


def label(kind: str) -> str:
    return _exporters.get(kind, (kind, None))[0]


@register_scope(ExportJob)
def _own_jobs(qs, user, action: str):
    """Only the user who asked for an export sees it (its rows were scoped to that user)."""
    return qs.filter(created_by_id=user.pk)


def exports_dir() -> Path:
    d = Path(settings.DATA_DIR) / "exports"
    d.mkdir(parents=True, exist_ok=True)
    return d


def get_job(*, user, pk) -> ExportJob:
    try:
        return ExportJob.objects.restrict(user, "view").get(pk=pk)
    except (ExportJob.DoesNotExist, ValueError, TypeError):
        raise NotFound("导出任务不存在或无权查看")


def start_export(*, actor, kind: str, params: list[list[str]], total: int) -> ExportJob:
    """Queue an export of ``kind`` with the request's query ``params`` for ``actor``."""
    if kind not in _exporters:
        raise ValidationFailed(f"未知导出类型：{kind}", field="kind")
    with transaction.atomic():
        job = ExportJob.objects.create(kind=kind, params=params, total=total, created_by=actor)
        audit.record(
            actor=actor,
            action="core.export.start",
            obj=job,
            after={"kind": kind, "params": params, "total": total},
        )
        transaction.on_commit(lambda: background.launch(KIND))
    return job


def run_export(pk: int, token: str) -> None:
    """Run one claimed export to its end (the runner calls this); a crash marks it failed with the reason."""
    job = ExportJob.objects.select_related("created_by").get(pk=pk)
    remove_old_files()
    rel = Path("exports") / f"{clock.local_now():%Y%m}" / f"{uuid.uuid4().hex}.xlsx"
    path = Path(settings.DATA_DIR) / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        user = job.created_by
        if not user.is_active:
            raise ValidationFailed("申请导出的账号已停用")

        def progress(rows: int) -> None:
            background.beat(ExportJob, pk, token, processed=rows)

        _, fn = _exporters[job.kind]
        rows, filename = fn(job, path, progress)
        with transaction.atomic():
            done = ExportJob.objects.filter(pk=pk, runner=token, status=ExportStatus.RUNNING).update(
                status=ExportStatus.DONE,
                processed=rows,
                total=rows,
                file_path=str(rel),
                file_name=filename[:200],
                finished_at=clock.now(),
                runner="",
            )
            if done != 1:
                raise background.LostJob(pk)
            audit.record(actor=user, action="core.export.finish", obj=job, after={"rows": rows})
    except background.LostJob:
        path.unlink(missing_ok=True)
        raise
    except Exception as exc:
        log.exception("export job %s failed", pk)
        path.unlink(missing_ok=True)
        background.fail(ExportJob, pk, token, exc, prefix="导出失败：")


def remove_old_files() -> int:
    """Delete the files of exports finished more than :data:`KEEP_FILES` ago (the job rows stay, saying so)."""
    n = 0
    cutoff = clock.now() - KEEP_FILES
    for job in ExportJob.objects.filter(status=ExportStatus.DONE, finished_at__lt=cutoff).exclude(
        file_path=""
    ):
        (Path(settings.DATA_DIR) / job.file_path).unlink(missing_ok=True)
        ExportJob.objects.filter(pk=job.pk).update(
            file_path="", message="文件已超过保留期（7 天）被清理，请重新导出"
        )
        n += 1
    return n


def _requeued(job: ExportJob) -> str:
    return f"上次生成中断，已于 {clock.local_now():%H:%M:%S} 自动重新生成"


background.register(
    background.Kind(name=KIND, model=ExportJob, run=run_export, exclusive=False, requeued_message=_requeued)
)
