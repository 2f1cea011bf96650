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

from civicgrid.core import background, importer
from civicgrid.intake import importing
from civicgrid.intake.models import ImportJob, ImportRowError

log = logging.getLogger(__name__)

KIND = "intake.import"
STALE_AFTER = background.STALE_AFTER


_requeued_message = importer.requeued_message


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


def run_job(
    pk: int, token: str = "", *, batch_size: int = importing.DEFAULT_BATCH_SIZE, engine: str = "fast"
) -> ImportJob:
    """Run one claimed (``running``) job to the end, resuming after its checkpoint, through core's importer
    (:func:`civicgrid.core.importer.run_job`). Bad rows never fail the job (they end it ``partial``); only what
    stops the whole file (unreadable, mapping gone) marks it ``failed``."""
    from civicgrid.intake import services

    source = ImportJob.objects.filter(pk=pk).values_list("source", flat=True).get()
    spec = services.spec_for(source)
    return importer.run_job(
        ImportJob,
        ImportRowError,
        pk,
        token,
        fields=spec.fields,
        handler_for=lambda job: services.handler_for(job, actor=job.created_by),
        audit_action="intake.job.finish",
        key_label=spec.key_label,
        batch_size=batch_size,
        engine=engine,
        extra_counters=lambda stats: {"placement_count": stats.placements},
    )


background.register(
    background.Kind(
        name=KIND, model=ImportJob, run=run_job, exclusive=True, requeued_message=_requeued_message
    )
)
