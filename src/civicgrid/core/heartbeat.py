"""Signs of life of background runners, read by ``/readyz`` and ``/metrics``.

The periodic job runner (the in-process scheduler of ``civicgrid serve`` / gunicorn, or ``civicgrid run-jobs``)
beats ``job-runner`` when it starts and on every round. ``/readyz`` requires a fresh beat when this process runs
the scheduler (``CIVICGRID_SCHEDULER=1``) or when ``CIVICGRID_EXPECT_JOB_RUNNER=1`` says a separate runner (the
``civicgrid-jobs`` service) must be alive.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import UTC, datetime

from django.conf import settings

log = logging.getLogger(__name__)

JOB_RUNNER = "job-runner"


def beat(name: str = JOB_RUNNER) -> None:
    """Record that ``name`` is alive now. Never raises (a failed beat must not stop the jobs)."""
    from civicgrid.core.models import Heartbeat

    try:
        Heartbeat.objects.update_or_create(
            name=name,
            defaults={"beat_at": datetime.now(UTC), "owner": f"{socket.gethostname()}:{os.getpid()}"[:100]},
        )
    except Exception:
        log.exception("could not record heartbeat %s", name)


def age_seconds(name: str = JOB_RUNNER) -> float | None:
    """Seconds since the last beat of ``name``; ``None`` if it never beat."""
    from civicgrid.core.models import Heartbeat

    at = Heartbeat.objects.filter(name=name).values_list("beat_at", flat=True).first()
    if at is None:
        return None
    return max(0.0, (datetime.now(UTC) - at).total_seconds())


def max_age_seconds() -> float:
    """A beat older than this means the runner is stuck or gone: three missed rounds plus slack."""
    configured = os.environ.get("CIVICGRID_HEARTBEAT_MAX_AGE")
    if configured:
        return float(configured)
    return 3 * float(settings.CIVICGRID.get("JOBS_INTERVAL_SECONDS", 60)) + 30


def job_runner_expected() -> bool:
    return (
        bool(settings.CIVICGRID.get("SCHEDULER_ENABLED"))
        or os.environ.get("CIVICGRID_EXPECT_JOB_RUNNER") == "1"
    )
