"""In-process scheduler: a daemon thread that runs :func:`civicgrid.cases.jobs.run_all` every N seconds.

Started from ``CasesConfig.ready()`` only when ``settings.CIVICGRID["SCHEDULER_ENABLED"]`` and the process is a
gunicorn worker (what ``civicgrid serve`` runs) — never in tests, migrations, shells or management commands.
Several workers/servers may each run one: the job lock lets one of them work per round.
"""

from __future__ import annotations

import logging
import sys
import threading

from django.conf import settings

log = logging.getLogger(__name__)
_started = threading.Event()


def is_server_process() -> bool:
    if "gunicorn" in sys.modules and "pytest" not in sys.modules:
        return True
    argv = sys.argv[1:2]
    return argv == ["serve"]


def interval_seconds() -> float:
    return float(settings.CIVICGRID.get("JOBS_INTERVAL_SECONDS", 60))


def _loop(stop: threading.Event) -> None:
    from django.db import close_old_connections

    from civicgrid.cases.jobs import run_all
    from civicgrid.core import heartbeat

    try:
        heartbeat.beat()  # alive from the start, not only after the first interval
    finally:
        close_old_connections()
    while not stop.wait(interval_seconds()):
        try:
            close_old_connections()
            run_all()
        except Exception:
            log.exception("scheduled jobs failed")
        try:
            from civicgrid.core import background

            background.launch()  # resumes background jobs whose worker died, runs any left queued
        except Exception:
            log.exception("background job check failed")
        finally:
            close_old_connections()


def maybe_start(*, force: bool = False) -> threading.Event | None:
    """Start the scheduler thread once per process if enabled; returns its stop event."""
    if _started.is_set():
        return None
    if not force and not (settings.CIVICGRID.get("SCHEDULER_ENABLED") and is_server_process()):
        return None
    _started.set()
    stop = threading.Event()
    threading.Thread(target=_loop, args=(stop,), name="civicgrid-scheduler", daemon=True).start()
    log.info("civicgrid scheduler started (every %ss)", interval_seconds())
    return stop
