"""Background runs of import jobs, through the project's one job runner (:mod:`civicgrid.core.background`).

``start_job`` queues a job and, on commit, calls :func:`launch`. The runner claims the oldest queued job, keeps
its heartbeat fresh while it runs, and — when a worker was killed — requeues the job once its heartbeat is older
than ``background.STALE_AFTER`` (the in-process runner, the scheduler tick, a page showing the job, and
``civicgrid intake_run`` all do this). A requeued job resumes after its last committed batch: each batch commits
its rows, its error rows, the job's counters and the checkpoint (last row number) in one transaction, so the
counts are exact and no row is written twice (the idempotency ledger would refuse a duplicate anyway).

Tests set ``settings.INTAKE_RUN_INLINE = True`` (or ``BACKGROUND_RUN_INLINE``) so :func:`launch` runs the job
in the calling thread.
"""

from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings
from django.db import transaction

from civicgrid.core import audit, background, clock
from civicgrid.intake import importing
from civicgrid.intake.models import ImportJob, ImportRowError, JobStatus

log = logging.getLogger(__name__)

KIND = "intake.import"
STALE_AFTER = background.STALE_AFTER


def _requeued_message(job: ImportJob) -> str:
    seen = clock.to_local(job.heartbeat_at).strftime("%H:%M:%S") if job.heartbeat_at else "未知"
    where = f"，从第 {job.checkpoint_row + 1} 行继续" if job.checkpoint_row else ""
    return (
        f"上次导入中断（最后心跳 {seen}），已于 {clock.local_now():%Y-%m-%d %H:%M:%S} 自动恢复{where}"
        "（已导入的行不会重复）"
    )


def launch() -> None:
    background.launch(KIND)


def requeue_stale() -> int:
    return len(background.requeue_stale(KIND))


def claim_next() -> int | None:
    claimed = background.claim_next(KIND)
    return claimed[0] if claimed else None


def run_pending(*, recycle_connections: bool = False) -> int:
    """Run queued jobs until none is left (requeueing dead ones first). ``recycle_connections`` (the runner
    thread, the command) drops stale database connections between jobs; not inside a request or a test."""
    return background.run_pending(KIND, recycle_connections=recycle_connections)


def _stats_of(job: ImportJob) -> importing.RunStats:
    return importing.RunStats(
        processed=job.processed,
        created=job.created_count,
        updated=job.updated_count,
        unchanged=job.unchanged_count,
        failed=job.failed,
        placements=job.placement_count,
        warnings=job.warning_count,
    )


def run_job(
    pk: int, token: str = "", *, batch_size: int = importing.DEFAULT_BATCH_SIZE, engine: str = "fast"
) -> ImportJob:
    """Run one claimed (``running``) job to the end, resuming after its checkpoint. Bad rows never fail the job
    (they end it ``partial``); only what stops the whole file (unreadable, mapping gone) marks it ``failed``."""
    from civicgrid.intake import services

    job = ImportJob.objects.select_related("created_by").get(pk=pk)
    token = token or job.runner
    reader = None
    try:
        reader = services.open_job_table(job, engine=engine)
        fields = services.fields_for(job.source)
        binding = importing.Binding.bind(job.mapping, reader.headers, fields)
        resume_after = job.checkpoint_row
        if resume_after:
            # rows after the checkpoint may have been reported by the run that died: drop those reports
            ImportRowError.objects.filter(job_id=pk, row_number__gt=resume_after).delete()
            stats = _stats_of(job)
        else:
            ImportRowError.objects.filter(job_id=pk).delete()
            stats = importing.RunStats()
            total = reader.count_rows() or 0
            background.beat(ImportJob, pk, token, total=total)
        handler = services.handler_for(job, actor=job.created_by)

        def on_batch(stats: importing.RunStats, rejected: list[importing.RejectedRow], last_row: int) -> None:
            # inside the batch's transaction: the rows, their reports, the counters and the checkpoint together
            background.beat(
                ImportJob,
                pk,
                token,
                processed=stats.processed,
                succeeded=stats.succeeded,
                created_count=stats.created,
                updated_count=stats.updated,
                unchanged_count=stats.unchanged,
                failed=stats.failed,
                placement_count=stats.placements,
                warning_count=stats.warnings,
                checkpoint_row=last_row,
            )
            if rejected:
                ImportRowError.objects.bulk_create(
                    [
                        ImportRowError(
                            job_id=pk,
                            row_number=r.number,
                            source_ref=r.ref[:100],
                            reason=r.reason,
                            kind=r.kind,
                        )
                        for r in rejected
                    ]
                )

        stats = importing.run_rows(
            reader,
            binding,
            handler,
            batch_size=batch_size,
            on_batch=on_batch,
            resume_after=resume_after,
            stats=stats,
        )
        report = ""
        if stats.failed or stats.warnings:
            report_path = services.imports_dir() / "reports" / f"job{pk}_errors.xlsx"
            kinds = {"error": "错误", "warning": "提示"}
            importing.write_error_report(
                report_path,
                (
                    (n, ref, reason, kinds.get(kind, kind))
                    for n, ref, reason, kind in ImportRowError.objects.filter(job_id=pk)
                    .order_by("row_number", "id")
                    .values_list("row_number", "source_ref", "reason", "kind")
                    .iterator(chunk_size=5000)
                ),
            )
            report = str(report_path.relative_to(Path(settings.DATA_DIR)))
        with transaction.atomic():
            done = ImportJob.objects.filter(pk=pk, runner=token, status=JobStatus.RUNNING).update(
                status=JobStatus.PARTIAL if stats.failed else JobStatus.DONE,
                total=stats.processed,
                finished_at=clock.now(),
                error_report_path=report,
                runner="",
            )
            if done != 1:
                raise background.LostJob(pk)
            job.refresh_from_db()
            audit.record(
                actor=job.created_by,
                action="intake.job.finish",
                obj=job,
                after={
                    "processed": stats.processed,
                    "created": stats.created,
                    "updated": stats.updated,
                    "unchanged": stats.unchanged,
                    "failed": stats.failed,
                    "warnings": stats.warnings,
                    "placements": stats.placements,
                },
            )
    except background.LostJob:
        raise
    except Exception as exc:
        log.exception("import job %s failed", pk)
        background.fail(ImportJob, pk, token, exc, prefix="导入中断：")
        job.refresh_from_db()
    finally:
        if reader is not None:
            reader.close()
    return job


background.register(
    background.Kind(
        name=KIND, model=ImportJob, run=run_job, exclusive=True, requeued_message=_requeued_message
    )
)
