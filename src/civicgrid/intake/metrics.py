"""Database gauges for ``/metrics`` (registered with :func:`civicgrid.core.observability.register_gauges`)."""

from __future__ import annotations

from django.db.models import Count, Min
from prometheus_client.core import GaugeMetricFamily

from civicgrid.core import clock
from civicgrid.intake.models import ImportJob, JobStatus


def families():
    now = clock.now()
    jobs = GaugeMetricFamily("civicgrid_import_jobs", "12345 import jobs by status", labels=["status"])
    by_status = dict(
        ImportJob.objects.values_list("status").annotate(n=Count("id")).values_list("status", "n")
    )
    for value in JobStatus.values:
        jobs.add_metric([value], by_status.get(value, 0))
    yield jobs
    oldest = ImportJob.objects.filter(status=JobStatus.QUEUED).aggregate(t=Min("created_at"))["t"]
    yield GaugeMetricFamily(
        "civicgrid_import_job_lag_seconds",
        "Age of the oldest queued import job (0: none waiting)",
        value=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
    )
    stale = ImportJob.objects.filter(status=JobStatus.RUNNING).aggregate(t=Min("heartbeat_at"))["t"]
    yield GaugeMetricFamily(
        "civicgrid_import_job_heartbeat_age_seconds",
        "Seconds since the oldest running import job last reported progress (0: none running)",
        value=max(0.0, (now - stale).total_seconds()) if stale else 0.0,
    )
