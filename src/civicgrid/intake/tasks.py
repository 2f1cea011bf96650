"""Background runs of import jobs.

``start_job`` queues a job and, on commit, calls :func:`launch`, which starts a daemon thread running
:func:`run_pending`: it claims the oldest queued job (a conditional UPDATE, so two runners never take the same
one), runs it, and goes on while jobs are queued. One job runs at a time per process set: a job is not claimed
while another has a fresh heartbeat. ``civicgrid intake_run`` does the same from the command line (``--loop`` to
keep polling) and re-queues jobs whose runner died (stale heartbeat) — a re-run is safe because imports are
idempotent.

Tests set ``settings.INTAKE_RUN_INLINE = True`` so :func:`launch` runs the job in the calling thread.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import close_old_connections, connection, transaction

from civicgrid.core import audit, clock
from civicgrid.intake import importing
from civicgrid.intake.models import ImportJob, ImportRowError, JobStatus

log = logging.getLogger(__name__)

STALE_AFTER = timedelta(minutes=5)
_launch_lock = threading.Lock()
_running_thread: threading.Thread | None = None


def launch() -> None:
    """Run queued jobs now: inline when ``settings.INTAKE_RUN_INLINE``, else in one daemon thread."""
    global _running_thread
    if getattr(settings, "INTAKE_RUN_INLINE", False):
        run_pending()
        return
    with _launch_lock:
        if _running_thread is not None and _running_thread.is_alive():
            return  # the running thread picks the new job up when it finishes the current one
        _running_thread = threading.Thread(target=_thread_main, name="civicgrid-intake", daemon=True)
        _running_thread.start()


def _thread_main() -> None:
    try:
        run_pending(recycle_connections=True)
    except Exception:  # pragma: no cover - logged, the job row says failed
        log.exception("intake runner crashed")
    finally:
        connection.close()


def requeue_stale() -> int:
    cutoff = clock.now() - STALE_AFTER
    return ImportJob.objects.filter(status=JobStatus.RUNNING, heartbeat_at__lt=cutoff).update(
        status=JobStatus.QUEUED, message="导入进程中断，已重新排队（重复导入不会产生重复案件）"
    )


def claim_next() -> int | None:
    now = clock.now()
    if ImportJob.objects.filter(status=JobStatus.RUNNING, heartbeat_at__gte=now - STALE_AFTER).exists():
        return None
    for pk in (
        ImportJob.objects.filter(status=JobStatus.QUEUED)
        .order_by("created_at", "id")
        .values_list("pk", flat=True)[:5]
    ):
        if (
            ImportJob.objects.filter(pk=pk, status=JobStatus.QUEUED).update(
                status=JobStatus.RUNNING, started_at=now, heartbeat_at=now, finished_at=None
            )
            == 1
        ):
            return pk
    return None


def run_pending(*, recycle_connections: bool = False) -> int:
    """Run queued jobs until none is left. ``recycle_connections`` (the runner thread, the command) drops stale
    database connections between jobs; not inside a request or a test transaction."""
    n = 0
    while True:
        if recycle_connections:
            close_old_connections()
        pk = claim_next()
        if pk is None:
            return n
        run_job(pk)
        n += 1


def run_job(pk: int, *, batch_size: int = importing.DEFAULT_BATCH_SIZE, engine: str = "fast") -> ImportJob:
    """Run one claimed (``running``) job to the end; never raises for bad data, marks the job failed on a crash."""
    from civicgrid.intake import services

    job = ImportJob.objects.select_related("created_by").get(pk=pk)
    reader = None
    try:
        reader = services.open_job_table(job, engine=engine)
        fields = services.fields_for(job.source)
        binding = importing.Binding.bind(job.mapping, reader.headers, fields)
        total = reader.count_rows() or 0
        ImportJob.objects.filter(pk=pk).update(total=total, heartbeat_at=clock.now())
        handler = services.handler_for(job, actor=job.created_by)
        ImportRowError.objects.filter(job_id=pk).delete()  # a re-queued run starts its report afresh

        def on_batch(stats: importing.RunStats, rejected: list[importing.RejectedRow]) -> None:
            if rejected:
                ImportRowError.objects.bulk_create(
                    [
                        ImportRowError(
                            job_id=pk, row_number=r.number, source_ref=r.ref[:100], reason=r.reason
                        )
                        for r in rejected
                    ]
                )
            ImportJob.objects.filter(pk=pk).update(
                processed=stats.processed,
                succeeded=stats.succeeded,
                created_count=stats.created,
                updated_count=stats.updated,
                unchanged_count=stats.unchanged,
                failed=stats.failed,
                placement_count=stats.placements,
                heartbeat_at=clock.now(),
            )

        stats = importing.run_rows(reader, binding, handler, batch_size=batch_size, on_batch=on_batch)
        report = ""
        if stats.failed:
            report_path = services.imports_dir() / "reports" / f"job{pk}_errors.xlsx"
            importing.write_error_report(
                report_path,
                (
                    (n, ref, reason)
                    for n, ref, reason in ImportRowError.objects.filter(job_id=pk)
                    .order_by("row_number", "id")
                    .values_list("row_number", "source_ref", "reason")
                    .iterator(chunk_size=5000)
                ),
            )
            report = str(report_path.relative_to(Path(settings.DATA_DIR)))
        with transaction.atomic():
            ImportJob.objects.filter(pk=pk).update(
                status=JobStatus.DONE,
                total=stats.processed,
                finished_at=clock.now(),
                error_report_path=report,
                message="",
            )
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
                    "placements": stats.placements,
                },
            )
    except Exception as exc:
        log.exception("import job %s failed", pk)
        message = getattr(exc, "message", None) or str(exc) or exc.__class__.__name__
        ImportJob.objects.filter(pk=pk).update(
            status=JobStatus.FAILED, finished_at=clock.now(), message=f"导入中断：{message}"[:2000]
        )
        job.refresh_from_db()
    finally:
        if reader is not None:
            reader.close()
    return job
